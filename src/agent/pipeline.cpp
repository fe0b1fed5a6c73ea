#include "agent/pipeline.h"

#include "agent/action_memo.h"
#include "agent/output_writer.h"
#include "reapi/digest.h"
#include "util/file.h"
#include "util/logging.h"

#include <sys/stat.h>

namespace ccrex::agent {
namespace {

namespace v2 = reapi::v2;
using util::unexpected;

Fallback fallback(std::string stat, std::string detail) {
  return {"fallback_" + stat, std::move(detail)};
}

std::string short_hash(const v2::Digest& d) {
  return d.hash().substr(0, 12);
}

// Write the outputs and replay the streams of `result`; any problem is a Fallback.
util::Result<Outcome, Fallback> materialize(const v2::ActionResult& result,
                                            const std::vector<ExpectedOutput>& outputs,
                                            const CompileRequest& request,
                                            const BlobFetcher& fetch,
                                            std::string stat,
                                            std::string explanation) {
  auto streams = fetch_streams(result, fetch);
  if (!streams) {
    return unexpected(fallback("bad_result", streams.error().message()));
  }
  if (auto st = write_outputs(result, outputs, fetch, request.umask); !st) {
    return unexpected(fallback("bad_result", st.error().message()));
  }
  write_fd(request.stdout_fd, streams->first);
  write_fd(request.stderr_fd, streams->second);
  if (result.exit_code() != 0 && stat != "hit_local" && stat != "hit_remote") {
    stat = "compile_error";
  }
  return Outcome{result.exit_code(), std::move(stat), std::move(explanation), {}};
}

// Copy a result's blobs into the local store so the next identical compile is a local hit.
void remember(const v2::Digest& action,
              const v2::ActionResult& result,
              const Backends& b,
              const BlobFetcher& fetch) {
  std::vector<v2::Digest> digests;
  for (const auto& f : result.output_files()) {
    digests.push_back(f.digest());
  }
  digests.push_back(result.stdout_digest());
  digests.push_back(result.stderr_digest());
  for (const auto& d : digests) {
    if (d.hash().empty() || b.store->contains(reapi::from_proto(d))) {
      continue;
    }
    auto data = fetch(d);
    if (!data || !b.store->put(reapi::from_proto(d), *data)) {
      return;
    }
  }
  (void)b.cache->put("", action, result);
}

// Return the first output directory that does not exist ("" when all do). The compiler
// fails on such a command, so ccrex must not create the directory and succeed.
std::string missing_output_dir(const std::vector<ExpectedOutput>& outputs) {
  for (const auto& o : outputs) {
    const std::string dir = util::dirname(o.local_path);
    if (!util::path_exists(dir)) {
      return dir;
    }
  }
  return "";
}

// The agent ran the compiler with its own umask; give `path` the mode the client's would.
void match_client_umask(const std::string& path, mode_t umask) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return;
  }
  const mode_t want = ((st.st_mode & S_IXUSR) != 0 ? 0777 : 0666) & ~umask;
  if ((st.st_mode & 07777) != want) {
    (void)::chmod(path.c_str(), want);
  }
}

util::Result<Outcome, Fallback> run_cache_only(const CompileRequest& request,
                                               const BuiltAction& built,
                                               const Config& config,
                                               const Backends& b,
                                               LocalCompiler& local) {
  auto res = local.run(request.argv, request.cwd, request.env, config.local_jobs);
  if (!res) {
    return unexpected(fallback("local_compile", res.error().message()));
  }
  write_fd(request.stdout_fd, res->stdout_data);
  write_fd(request.stderr_fd, res->stderr_data);
  Outcome out{res->exit_code, "miss_cache_only", "compiled locally (cache-only mode)", {}};
  if (res->exit_code != 0 && !config.cache_failures) {
    out.stat = "compile_error";
    return out;
  }
  // Build the ActionResult from the files the compile wrote.
  v2::ActionResult result;
  result.set_exit_code(res->exit_code);
  reapi::BlobMap blobs;
  for (const auto& o : built.outputs) {
    auto data = util::read_file(o.local_path);
    if (!data) {
      continue; // not produced
    }
    match_client_umask(o.local_path, request.umask);
    auto* f = result.add_output_files();
    f->set_path(o.remote_path);
    *f->mutable_digest() = reapi::digest_of(*data);
    (void)b.store->put(reapi::from_proto(f->digest()), *data);
    reapi::add_blob(blobs, {f->digest(), reapi::BlobSource::bytes(std::move(data).value())});
  }
  for (const auto& [text, field] : {std::pair{&res->stdout_data, result.mutable_stdout_digest()},
                                    std::pair{&res->stderr_data, result.mutable_stderr_digest()}}) {
    *field = reapi::digest_of(*text);
    (void)b.store->put(reapi::from_proto(*field), *text);
    reapi::add_blob(blobs, {*field, reapi::BlobSource::bytes(*text)});
  }
  result.mutable_execution_metadata()->set_worker("ccrex-local");
  (void)b.cache->put("", built.action_digest, result);
  if (!config.read_only) {
    for (const auto& [key, blob] : built.input_root.blobs) {
      if (!blob.source.is_file) { // Action and Command: servers may want them first
        reapi::add_blob(blobs, blob);
      }
    }
    if (auto st = b.executor->update(built.action_digest, result, blobs); !st) {
      CCREX_LOG_WARN("cache-only upload of " << short_hash(built.action_digest)
                                             << " failed: " << st.error().message());
    }
  }
  return out;
}

// Answer from the local store when it holds a result for `action`. Returns nullopt to go
// on: no result, a result that cannot be used (logged), or a missing output directory
// (left to the full path, which reports it).
std::optional<util::Result<Outcome, Fallback>> local_hit(const MemoizedAction& action,
                                                         const CompileRequest& request,
                                                         const Backends& b,
                                                         const BlobFetcher& fetch,
                                                         std::string_view how) {
  if (!missing_output_dir(action.outputs).empty()) {
    return std::nullopt;
  }
  const auto hit = b.cache->get("", action.action_digest);
  if (!hit) {
    return std::nullopt;
  }
  const std::string name = short_hash(action.action_digest);
  auto out = materialize(*hit,
                         action.outputs,
                         request,
                         fetch,
                         "hit_local",
                         "local store hit for action " + name + std::string(how));
  if (!out && out.error().stat == "fallback_bad_result") {
    CCREX_LOG_WARN("local hit " << name << " unusable: " << out.error().detail);
    return std::nullopt;
  }
  return out;
}

util::Result<Outcome, Fallback> run_stages(const CompileRequest& request,
                                           const toolchain::ParsedCommand& cmd,
                                           const std::string& compiler,
                                           const Config& config,
                                           const Backends& b,
                                           PipelineServices& services,
                                           LocalCompiler& local,
                                           std::string& scanner_gave_up) {
  auto id = services.toolchains.get(compiler);
  if (!id) {
    return unexpected(fallback("compiler_identity", id.error().message()));
  }
  auto deps = services.dependencies.find(
      cmd, compiler, request.cwd, request.env, config.depend_mode == "scanner");
  if (!deps) {
    return unexpected(fallback("dependencies", deps.error().message()));
  }
  scanner_gave_up = deps->from_compiler ? deps->scanner_gave_up : "";
  const PathMapper paths(find_project_root(request.cwd, config.project_root), request.cwd);
  const bool same_path = config.same_path == "true"
                         || (config.same_path == "auto" && b.executor->stages_at_same_path());
  const ActionContext ctx{cmd, compiler, **id, *deps, paths, config, request.env, same_path};
  const BlobFetcher local_fetch = [&](const v2::Digest& d) {
    return b.store->read(reapi::from_proto(d));
  };
  const auto memo_key = ActionMemo::key_of(ctx);
  if (const auto memo = memo_key ? services.memo.find(*memo_key) : nullptr) {
    if (auto out = local_hit(*memo, request, b, local_fetch, " (action memo)")) {
      return std::move(*out);
    }
  }
  auto built = build_action(ctx, services.digests);
  if (!built) {
    return unexpected(fallback("input", built.error().message()));
  }
  if (memo_key) {
    (void)services.memo.store(*memo_key, *built);
  }
  if (const auto dir = missing_output_dir(built->outputs); !dir.empty()) {
    return unexpected(fallback("output_dir", "output directory " + dir + " does not exist"));
  }
  const auto& action = built->action_digest;
  if (auto out = local_hit({action, built->outputs}, request, b, local_fetch, "")) {
    return std::move(*out);
  }
  // Blobs fetched from a remote engine also go into the local store (which verifies them),
  // so remember() below finds them there instead of downloading them a second time.
  const BlobFetcher remote_fetch = [&](const v2::Digest& d) -> util::Result<std::string> {
    auto data = b.executor->fetch(d);
    if (data && !b.shared_store) {
      (void)b.store->put(reapi::from_proto(d), *data);
    }
    return data;
  };
  if (config.cache_only || config.read_only) {
    auto found = b.executor->lookup(action);
    if (found && *found) {
      auto out = materialize(**found,
                             built->outputs,
                             request,
                             remote_fetch,
                             "hit_remote",
                             "remote cache hit for action " + short_hash(action));
      if (out) {
        remember(action, **found, b, remote_fetch);
      }
      return out;
    }
    return run_cache_only(request, *built, config, b, local);
  }
  auto exec = b.executor->execute(action, built->input_root);
  if (!exec) {
    const auto code = exec.error().code();
    const char* kind = code == util::ErrorCode::deadline_exceeded ? "remote_timeout"
                       : code == util::ErrorCode::unavailable     ? "remote_unavailable"
                                                                  : "remote_error";
    return unexpected(fallback(kind, exec.error().message()));
  }
  if (exec->result.exit_code() != 0 && !built->foreign_inputs.empty()) {
    return unexpected(fallback("remote_error",
                               "remote compile failed and reads " + built->foreign_inputs.front()
                                   + ", which lies outside the project root"));
  }
  const bool hit = exec->cached_result;
  auto out = materialize(exec->result,
                         built->outputs,
                         request,
                         remote_fetch,
                         hit ? "hit_remote" : "miss_executed",
                         std::string(hit ? "remote cache hit" : "executed remotely")
                             + " for action " + short_hash(action));
  // Failures are kept only with cache_failures. The server caches successful results
  // itself (in the shared store of the embedded one); a failure goes to the local store.
  const bool failed = exec->result.exit_code() != 0;
  if (out && !b.shared_store && (!failed || config.cache_failures)) {
    remember(action, exec->result, b, remote_fetch);
  } else if (out && b.shared_store && failed && config.cache_failures) {
    (void)b.cache->put("", action, exec->result);
  }
  return out;
}

} // namespace

util::Result<Outcome, Fallback> run_pipeline(const CompileRequest& request,
                                             const toolchain::ParsedCommand& cmd,
                                             const std::string& compiler,
                                             const Config& config,
                                             const Backends& backends,
                                             PipelineServices& services,
                                             LocalCompiler& local) {
  std::string gave_up;
  auto out = run_stages(request, cmd, compiler, config, backends, services, local, gave_up);
  if (out) {
    out->scanner_gave_up = gave_up;
  }
  return out;
}

} // namespace ccrex::agent
