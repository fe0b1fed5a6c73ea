#include "agent/pipeline.h"

#include "agent/action_memo.h"
#include "agent/compile_debug.h"
#include "agent/diagnostics_color.h"
#include "agent/output_writer.h"
#include "reapi/digest.h"
#include "util/file.h"
#include "util/logging.h"

#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

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

bool cancelled(const CompileRequest& request) {
  return request.cancel != nullptr && request.cancel->cancelled();
}

// A compile whose client went away: nothing more is written, nothing is stored.
Fallback cancelled_fallback() {
  return {"cancelled", "the client went away"};
}

// Replay a compile's stderr to the client, without colours when the client would not see
// them from the compiler itself.
void write_stderr(const CompileRequest& request, const std::string& text) {
  write_fd(request.stderr_fd, strip_sequences(text, {request.strip_colors, request.strip_links}));
}

// Texts in a failed compile's stderr that point at the worker's setup rather than at the
// source (a compiler or one of its parts missing or not runnable, an input not there).
constexpr std::string_view k_worker_signs[] = {
    "cannot execute",
    "error trying to exec",
    "installation problem",
    "not found",
    "No such file or directory",
};

// Whether a failed `result` may be shown as the compiler's own answer without compiling
// here: only with cache_failures, for an ordinary compiler exit code (not 126/127, not a
// signal), when stderr does not point at the worker and every input was uploaded.
bool trusted_failure(const v2::ActionResult& result,
                     std::string_view stderr_text,
                     const Config& config,
                     bool complete_inputs) {
  const int code = result.exit_code();
  if (!config.cache_failures || !complete_inputs || code <= 0 || code > 125) {
    return false;
  }
  const std::string plain = strip_sequences(stderr_text, {true, true});
  return std::none_of(std::begin(k_worker_signs), std::end(k_worker_signs), [&](auto sign) {
    return plain.find(sign) != std::string::npos;
  });
}

// The bytes the agent would hold to write `result` (outputs and streams, as declared).
// Declared sizes are what fetching trusts: a blob whose bytes differ fails verification.
int64_t result_size(const v2::ActionResult& result) {
  int64_t total = static_cast<int64_t>(result.stdout_raw().size() + result.stderr_raw().size())
                  + std::max<int64_t>(result.stdout_digest().size_bytes(), 0)
                  + std::max<int64_t>(result.stderr_digest().size_bytes(), 0);
  for (const auto& f : result.output_files()) {
    total += std::max<int64_t>(f.digest().size_bytes(), 0);
  }
  return total;
}

// The stat materialize() returns, before writing anything, for a failed result that must
// be confirmed by compiling here.
constexpr std::string_view k_untrusted_failure = "untrusted_failure";

// Write the outputs and replay the streams of `result`; any problem is a Fallback. A failed
// result that trusted_failure() rejects comes back as k_untrusted_failure, nothing written.
util::Result<Outcome, Fallback> materialize(const v2::ActionResult& result,
                                            const std::vector<ExpectedOutput>& outputs,
                                            const CompileRequest& request,
                                            const BlobFetcher& fetch,
                                            int64_t max_bytes,
                                            std::string stat,
                                            std::string explanation,
                                            const Config* failure_policy = nullptr,
                                            bool complete_inputs = true) {
  if (cancelled(request)) {
    return unexpected(cancelled_fallback());
  }
  if (const int64_t size = result_size(result); size > max_bytes) {
    return unexpected(
        fallback("result_too_large",
                 "the result holds " + std::to_string(size) + " bytes, more than max_result_size"));
  }
  auto streams = fetch_streams(result, fetch);
  if (!streams) {
    return unexpected(fallback("bad_result", streams.error().message()));
  }
  if (failure_policy != nullptr && result.exit_code() != 0
      && !trusted_failure(result, streams->second, *failure_policy, complete_inputs)) {
    return unexpected(
        Fallback{std::string(k_untrusted_failure),
                 "the engine reported exit code " + std::to_string(result.exit_code())});
  }
  auto rewrite = engine_rewrite(result, outputs, fetch);
  if (!rewrite) {
    return unexpected(fallback("bad_result", rewrite.error().message()));
  }
  streams->first = rewrite->apply(std::move(streams->first));
  streams->second = rewrite->apply(std::move(streams->second));
  if (auto st = write_outputs(result, outputs, fetch, request.umask, *rewrite); !st) {
    return unexpected(fallback("bad_result", st.error().message()));
  }
  write_fd(request.stdout_fd, streams->first);
  write_stderr(request, streams->second);
  if (result.exit_code() != 0 && stat != "hit_local" && stat != "hit_remote") {
    stat = "compile_error";
  }
  return Outcome{result.exit_code(), std::move(stat), std::move(explanation), {}, {}};
}

// Copy a result's blobs into the local store so the next identical compile is a local hit.
// The remote fetchers store what they return themselves (the store verifies it then): a
// blob found there after the fetch is not hashed and offered again.
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
    if (!data) {
      return;
    }
    if (!b.store->contains(reapi::from_proto(d)) && !b.store->put(reapi::from_proto(d), *data)) {
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

// The bytes of the output files a compile in the agent wrote (absent ones count nothing).
int64_t outputs_size(const std::vector<ExpectedOutput>& outputs) {
  int64_t total = 0;
  for (const auto& o : outputs) {
    struct stat st {};
    if (o.kind != OutputKind::engine_root && ::stat(o.local_path.c_str(), &st) == 0) {
      total += st.st_size;
    }
  }
  return total;
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

// One compile past the local store: the action as built (the local store's key) and as the
// engine wants it (the same unless the engine reads only one kind of output field).
struct RemoteStep {
  const CompileRequest& request;
  const BuiltAction& built;
  const BuiltAction& remote;
  const Config& config;
  const Backends& b;
  LocalCompiler& local;
  const BlobFetcher& fetch;
};

// What a compile in the agent is for.
struct AgentCompile {
  // Send a result to the engine's ActionCache.
  bool upload = false;
  // Outcome counter and --explain line when the compile succeeds.
  std::string stat;
  std::string explanation;
  // Extra counter saying why it ran here ("" for none).
  std::string note;
};

// Compile in the agent (the client's argv, cwd and environment), replay its streams, keep
// the result in the local store and, when asked, in the engine's ActionCache. Failures are
// kept only with cache_failures.
util::Result<Outcome, Fallback> compile_in_agent(const RemoteStep& s, AgentCompile how) {
  const auto& b = s.b;
  if (cancelled(s.request)) {
    return unexpected(cancelled_fallback());
  }
  auto res = s.local.run(s.request.argv,
                         s.request.cwd,
                         s.request.env,
                         s.config.local_jobs,
                         s.request.cancel != nullptr ? s.request.cancel->flag() : nullptr);
  if (!res) {
    return unexpected(fallback("local_compile", res.error().message()));
  }
  if (res->cancelled || cancelled(s.request)) {
    return unexpected(cancelled_fallback());
  }
  write_fd(s.request.stdout_fd, res->stdout_data);
  write_stderr(s.request, res->stderr_data);
  Outcome out{res->exit_code, std::move(how.stat), std::move(how.explanation), {}, how.note};
  if (res->exit_code != 0) {
    out.stat = "compile_error";
    out.explanation = "compile error (compiled locally)";
    if (!s.config.cache_failures) {
      return out;
    }
  }
  if (outputs_size(s.built.outputs) + static_cast<int64_t>(res->stdout_data.size())
          + static_cast<int64_t>(res->stderr_data.size())
      > s.config.max_result_size) {
    // The compile stands; storing it would hold all of it in memory at once.
    if (out.note.empty()) {
      out.note = "result_not_stored";
    }
    return out;
  }
  // Build the ActionResult from the files the compile wrote.
  v2::ActionResult result;
  result.set_exit_code(res->exit_code);
  reapi::BlobMap blobs;
  for (const auto& o : s.built.outputs) {
    // A compile here ran at the local root: that is what a remapped result reports.
    auto data = o.kind == OutputKind::engine_root
                    ? util::Result<std::string>(o.local_path + "\n" + o.local_path + "\n")
                    : util::read_file(o.local_path);
    if (!data) {
      continue; // not produced
    }
    if (o.kind != OutputKind::engine_root) {
      match_client_umask(o.local_path, s.request.umask);
    }
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
  (void)b.cache->put("", s.built.action_digest, result);
  if (how.upload) {
    for (const auto& [key, blob] : s.remote.input_root.blobs) {
      if (!blob.source.is_file) { // Action and Command: servers may want them first
        reapi::add_blob(blobs, blob);
      }
    }
    if (auto st = b.executor->update(s.remote.action_digest, result, blobs); !st) {
      CCREX_LOG_WARN("upload of the result of " << short_hash(s.remote.action_digest)
                                                << " failed: " << st.error().message());
    }
  }
  return out;
}

// A failed remote result that may not be shown as it is: compile here, which gives the
// compiler's own output, exit code and files (cheap for a compile that fails).
util::Result<Outcome, Fallback> confirm_locally(const RemoteStep& s, const Fallback& why) {
  auto out = compile_in_agent(
      s,
      {false, "fallback_worker_failure", why.detail + "; compiled locally, which succeeded", ""});
  if (out && out->stat == "compile_error") {
    out->explanation = "compile error (" + why.detail + ", confirmed by compiling locally)";
  }
  return out;
}

// Look the action up in the engine's ActionCache, and compile in the agent on a miss
// (cache-only and read-only modes, engines without execution, compiles that must run at
// the local path).
util::Result<Outcome, Fallback> run_cache_only(const RemoteStep& s, AgentCompile how) {
  const auto& action = s.remote.action_digest;
  auto found = s.b.executor->lookup(action);
  if (found && *found) {
    auto out = materialize(**found,
                           s.built.outputs,
                           s.request,
                           s.fetch,
                           s.config.max_result_size,
                           "hit_remote",
                           "remote cache hit for action " + short_hash(action),
                           &s.config);
    if (out) {
      remember(s.built.action_digest, **found, s.b, s.fetch);
      return out;
    }
    if (out.error().stat != k_untrusted_failure) {
      return out;
    }
    CCREX_LOG_INFO("ignoring the engine's cached failure for " << short_hash(action));
  }
  return compile_in_agent(s, std::move(how));
}

// The blobs of `result` that materialize() reads, keyed by "hash/size", gathered in one
// round trip: inlined output contents that match their digest, and everything else the
// result names in one batched read. Whatever is not here (a mismatching inline, a failed
// read) is left to materialize() and `fetch`, which verify and report it as before.
BlobFetcher prefetched(const v2::ActionResult& result,
                       const RemoteStep& s,
                       std::map<std::string, std::string>& blobs) {
  std::vector<v2::Digest> wanted;
  std::set<std::string> keys;
  // Take inlined bytes that are exactly what `d` names; otherwise read `d`.
  const auto take = [&](const v2::Digest& d, const std::string& inlined) {
    if (reapi::is_empty_blob(d) || !reapi::validate(d)) {
      return;
    }
    if (!inlined.empty()) {
      const auto actual = reapi::digest_of(inlined);
      if (actual.hash() == d.hash() && actual.size_bytes() == d.size_bytes()) {
        blobs.emplace(reapi::to_string(d), inlined);
      }
      return; // a mismatch is materialize()'s to report
    }
    if (std::string key = reapi::to_string(d); keys.insert(key).second) {
      wanted.push_back(d);
    }
  };
  if (result_size(result) <= s.config.max_result_size) {
    for (const auto& f : result.output_files()) {
      take(f.digest(), f.contents());
    }
    take(result.stdout_digest(), result.stdout_raw());
    take(result.stderr_digest(), result.stderr_raw());
  }
  if (!wanted.empty()) {
    if (auto read = s.b.executor->fetch_all(wanted)) {
      blobs.merge(*read);
    }
  }
  return [&blobs, &s](const v2::Digest& d) -> util::Result<std::string> {
    const auto it = blobs.find(reapi::to_string(d));
    if (it == blobs.end()) {
      return s.fetch(d);
    }
    if (!s.b.shared_store) { // the store verifies what it is given
      (void)s.b.store->put(reapi::from_proto(d), it->second);
    }
    return it->second;
  };
}

// The paths of the compile's outputs as the engine names them, to ask for them inline.
std::vector<std::string> output_paths(const RemoteStep& s) {
  std::vector<std::string> paths;
  for (const auto& o : s.remote.outputs) {
    paths.push_back(o.remote_path);
  }
  return paths;
}

// Ask the engine's ActionCache for the action with every output inlined: a hit costs one
// round trip (plus one batched read of what the engine did not inline). A small upload of
// the inputs the engine may lack goes out at the same time, so that a miss is one more
// round trip, Execute. Returns nullopt on a miss, or when the lookup failed in a way Execute
// may still get past.
std::optional<util::Result<Outcome, Fallback>> remote_hit(const RemoteStep& s) {
  const auto& action = s.remote.action_digest;
  auto found = s.b.executor->lookup_while_uploading(action, output_paths(s), s.remote.input_root);
  if (!found) {
    if (found.error().code() == util::ErrorCode::unavailable) {
      return unexpected(fallback("remote_unavailable", found.error().message()));
    }
    CCREX_LOG_INFO("ActionCache lookup of " << short_hash(action)
                                            << " failed, executing: " << found.error().message());
    return std::nullopt;
  }
  if (!*found) {
    return std::nullopt;
  }
  const v2::ActionResult& result = **found;
  std::map<std::string, std::string> blobs;
  const BlobFetcher fetch = prefetched(result, s, blobs);
  auto out = materialize(result,
                         s.built.outputs,
                         s.request,
                         fetch,
                         s.config.max_result_size,
                         "hit_remote",
                         "remote cache hit for action " + short_hash(action),
                         &s.config,
                         s.built.foreign_inputs.empty());
  if (!out && out.error().stat == k_untrusted_failure) {
    return confirm_locally(s, out.error());
  }
  if (out && !s.b.shared_store && (result.exit_code() == 0 || s.config.cache_failures)) {
    remember(s.built.action_digest, result, s.b, fetch);
  }
  return out;
}

// Execute the action on the engine and write its result. A remote engine is first asked for
// a cached result, unless it is known to hold every input: then Execute, which consults the
// ActionCache itself, is the one round trip before the compile. Execute asks for every
// output inline (REAPI 2.9 hints), so an engine that honours them needs no read afterwards;
// prefetched() checks inlined bytes against their digests as it does for a lookup. The
// embedded server shares the local store, which was asked already.
util::Result<Outcome, Fallback> run_remote(const RemoteStep& s) {
  const auto& b = s.b;
  const auto& action = s.remote.action_digest;
  if (!b.shared_store && !b.executor->holds_inputs(s.remote.input_root)) {
    if (auto hit = remote_hit(s)) {
      return std::move(*hit);
    }
  }
  auto exec = b.executor->execute(action, s.remote.input_root, output_paths(s), s.request.cancel);
  if (cancelled(s.request)) {
    return unexpected(cancelled_fallback());
  }
  if (!exec) {
    const auto code = exec.error().code();
    const char* kind = code == util::ErrorCode::deadline_exceeded ? "remote_timeout"
                       : code == util::ErrorCode::unavailable     ? "remote_unavailable"
                                                                  : "remote_error";
    return unexpected(fallback(kind, exec.error().message()));
  }
  const bool hit = exec->cached_result;
  std::map<std::string, std::string> blobs;
  const BlobFetcher fetch = prefetched(exec->result, s, blobs);
  auto out = materialize(exec->result,
                         s.built.outputs,
                         s.request,
                         fetch,
                         s.config.max_result_size,
                         hit ? "hit_remote" : "miss_executed",
                         std::string(hit ? "remote cache hit" : "executed remotely")
                             + " for action " + short_hash(action),
                         &s.config,
                         s.built.foreign_inputs.empty());
  if (!out && out.error().stat == k_untrusted_failure) {
    return confirm_locally(s, out.error());
  }
  // Failures are kept only with cache_failures. The server caches successful results
  // itself (in the shared store of the embedded one); a failure goes to the local store.
  const bool failed = exec->result.exit_code() != 0;
  if (out && !b.shared_store && (!failed || s.config.cache_failures)) {
    remember(s.built.action_digest, exec->result, b, fetch);
  } else if (out && b.shared_store && failed && s.config.cache_failures) {
    (void)b.cache->put("", s.built.action_digest, exec->result);
  }
  return out;
}

// Why an engine that cannot be used is not used, as a Fallback.
Fallback incompatible_engine(const reapi::ServerInfo& info) {
  return fallback(info.incompatible == reapi::Incompatibility::api_version
                      ? "engine_api_version"
                      : "engine_digest_function",
                  info.incompatible_detail);
}

// Answer from the local store when it holds a result for `action`. Returns nullopt to go
// on: no result, a result that cannot be used (logged), or a missing output directory
// (left to the full path, which reports it).
std::optional<util::Result<Outcome, Fallback>> local_hit(const MemoizedAction& action,
                                                         const CompileRequest& request,
                                                         const Backends& b,
                                                         const BlobFetcher& fetch,
                                                         int64_t max_bytes,
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
                         max_bytes,
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
                                           DependencySource& source) {
  auto id = services.toolchains.get(compiler, cmd.language.value_or(toolchain::Language::c));
  if (!id) {
    return unexpected(fallback("compiler_identity", id.error().message()));
  }
  auto deps = services.dependencies.find(
      cmd, compiler, request.cwd, request.env, config.depend_mode == "scanner");
  if (!deps) {
    return unexpected(fallback("dependencies", deps.error().message()));
  }
  source.scanner_gave_up = deps->from_compiler ? deps->scanner_gave_up : "";
  source.remembered = deps->remembered;
  const PathMapper paths(find_project_root(request.cwd, config.project_root), request.cwd);
  const bool same_path = config.same_path == "true"
                         || (config.same_path == "auto" && b.executor->stages_at_same_path());
  std::shared_ptr<const HermeticToolchain> hermetic;
  if (config.hermetic_toolchain) {
    if (b.shared_store) {
      return unexpected(fallback("hermetic_toolchain",
                                 "hermetic compiles need an engine that runs actions with the "
                                 "input root as / (ccrex-server, CCREX_REMOTE); the embedded "
                                 "server does not"));
    }
    auto closure = services.hermetic.get(**id, services.digests);
    if (!closure) {
      return unexpected(
          fallback("hermetic_toolchain",
                   "no hermetic toolchain for " + compiler + ": " + closure.error().message()));
    }
    hermetic = std::move(*closure);
  }
  const ActionContext ctx{
      cmd, compiler, **id, *deps, paths, config, request.env, same_path, hermetic.get()};
  const BlobFetcher local_fetch = [&](const v2::Digest& d) {
    return b.store->read(reapi::from_proto(d));
  };
  // Debug mode describes every action, so it builds every action.
  const auto memo_key =
      config.debug ? decltype(ActionMemo::key_of(ctx)){} : ActionMemo::key_of(ctx);
  if (const auto memo = memo_key ? services.memo.find(*memo_key) : nullptr) {
    if (auto out =
            local_hit(*memo, request, b, local_fetch, config.max_result_size, " (action memo)")) {
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
  if (config.debug) {
    const std::string object = paths.absolute(cmd.output_object);
    if (auto st = write_debug_file(object, *built, **id); !st) {
      CCREX_LOG_WARN("debug file for " << object << ": " << st.error().message());
    }
  }
  if (const auto dir = missing_output_dir(built->outputs); !dir.empty()) {
    return unexpected(fallback("output_dir", "output directory " + dir + " does not exist"));
  }
  const auto& action = built->action_digest;
  if (auto out = local_hit(
          {action, built->outputs}, request, b, local_fetch, config.max_result_size, "")) {
    return std::move(*out);
  }
  auto engine = b.executor->capabilities();
  if (!engine) {
    const bool down = engine.error().code() == util::ErrorCode::unavailable;
    return unexpected(
        fallback(down ? "remote_unavailable" : "remote_error", engine.error().message()));
  }
  if (engine->incompatible != reapi::Incompatibility::none) {
    return unexpected(incompatible_engine(*engine));
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
  std::optional<BuiltAction> reshaped;
  if (engine->output_fields != reapi::OutputFields::both) {
    reshaped = with_output_fields(*built, engine->output_fields);
  }
  const RemoteStep step{
      request, *built, reshaped ? *reshaped : *built, config, b, local, remote_fetch};
  const bool may_upload = !config.read_only && engine->ac_update_enabled;
  if (config.cache_only || config.read_only) {
    return run_cache_only(
        step, {may_upload, "miss_cache_only", "compiled locally (cache-only mode)", ""});
  }
  if (!engine->exec_enabled) {
    return run_cache_only(step,
                          {may_upload,
                           "miss_cache_only",
                           "compiled locally: the engine offers no remote execution",
                           "cache_only_no_execution"});
  }
  if (!built->logical_cwd.empty()) {
    return run_cache_only(step,
                          {may_upload,
                           "miss_cache_only",
                           "compiled locally: the object records the logical working directory "
                               + built->logical_cwd + " (a symlink to the physical one)",
                           "cache_only_location"});
  }
  if (built->location_dependent && !same_path && !built->remaps_root && !built->hermetic) {
    return run_cache_only(step,
                          {may_upload,
                           "miss_cache_only",
                           "compiled locally: the object records its build directory and the "
                           "engine does not run compiles at the local path",
                           "cache_only_location"});
  }
  return run_remote(step);
}

} // namespace

util::Result<Outcome, Fallback> run_pipeline(const CompileRequest& request,
                                             const toolchain::ParsedCommand& cmd,
                                             const std::string& compiler,
                                             const Config& config,
                                             const Backends& backends,
                                             PipelineServices& services,
                                             LocalCompiler& local) {
  DependencySource source;
  auto out = run_stages(request, cmd, compiler, config, backends, services, local, source);
  if (out) {
    out->dependencies = std::move(source);
  }
  return out;
}

} // namespace ccrex::agent
