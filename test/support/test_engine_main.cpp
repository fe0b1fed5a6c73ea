// ccrex-test-engine: a REAPI engine that answers Execute the way broken engines in the field
// do, for end-to-end tests of clients. It is ccrex-server (same options, same store, same
// "ccrex-server: listening on ADDR" line) with its Execution service, and in one mode its
// ActionCache service, replaced through LocalServer's ServiceOverrides. Test-only: never
// installed.
//
//   ccrex-test-engine [ccrex-server options] --lie MODE
//
// MODE (default none):
//   none            behave exactly like ccrex-server
//   empty-result    exit 0 and no outputs at all (an engine that ignored the requested
//                   outputs); the result is also stored in the ActionCache
//   exit-127        exit 127, stderr "sh: 1: <program>: not found", no outputs (the compiler
//                   is missing on the worker)
//   signal          exit 139, no outputs (the compile died of SIGSEGV on the worker)
//   cached-failure  cached_result true, exit 1, stderr "error: fabricated failure from the
//                   engine's cache", no outputs; GetActionResult returns that same result
//                   for every action (an engine that caches failures)
//   exec-status     ExecuteResponse.status INTERNAL with a message, plus a result of exit 0
//                   without outputs
// Every lying answer is one Operation with done=true, ExecuteOperationMetadata and the
// ExecuteResponse in `response`; WaitExecution finds it again by name.

#include "reapi/digest.h"
#include "reapi/proto.h"
#include "server/action_cache.h"
#include "server/auth.h"
#include "server/blob_store.h"
#include "server/cas_service.h"
#include "server/cli.h"
#include "server/serve.h"
#include "util/file.h"
#include "util/logging.h"

#include <grpcpp/grpcpp.h>

#include <array>
#include <atomic>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace ccrex;
namespace v2 = reapi::v2;
using google::longrunning::Operation;

enum class Lie { none, empty_result, exit_127, signal, cached_failure, exec_status };

constexpr std::array<std::pair<const char*, Lie>, 6> k_modes{{
    {"none", Lie::none},
    {"empty-result", Lie::empty_result},
    {"exit-127", Lie::exit_127},
    {"signal", Lie::signal},
    {"cached-failure", Lie::cached_failure},
    {"exec-status", Lie::exec_status},
}};

constexpr const char* k_cached_failure_stderr =
    "error: fabricated failure from the engine's cache\n";

std::optional<Lie> parse_mode(const std::string& text) {
  for (const auto& [name, lie] : k_modes) {
    if (text == name) {
      return lie;
    }
  }
  return std::nullopt;
}

// Store `text` in the CAS and return its digest (the empty digest when that fails, which
// only makes the lie a little less complete).
v2::Digest store_text(server::BlobStore& store, const std::string& text) {
  if (auto d = store.put_computed(text)) {
    return reapi::to_proto(*d);
  }
  return reapi::digest_of("");
}

// The program the action runs, for a believable "not found" message.
std::string program_of(server::BlobStore& store, const v2::Digest& action_digest) {
  v2::Action action;
  v2::Command command;
  auto action_bytes = store.read(reapi::from_proto(action_digest));
  if (!action_bytes || !action.ParseFromString(*action_bytes)) {
    return "gcc";
  }
  auto command_bytes = store.read(reapi::from_proto(action.command_digest()));
  if (!command_bytes || !command.ParseFromString(*command_bytes) || command.arguments_size() == 0) {
    return "gcc";
  }
  return std::string(util::basename(command.arguments(0)));
}

// The failed result a failure-caching engine hands out for every action.
v2::ActionResult cached_failure(server::BlobStore& store) {
  v2::ActionResult result;
  result.set_exit_code(1);
  *result.mutable_stdout_digest() = reapi::digest_of("");
  *result.mutable_stderr_digest() = store_text(store, k_cached_failure_stderr);
  return result;
}

class LyingExecution final : public v2::Execution::Service {
public:
  LyingExecution(Lie lie, server::BlobStore& store, server::ActionCache& cache)
      : m_lie(lie),
        m_store(store),
        m_cache(cache) {}

  grpc::Status Execute(grpc::ServerContext* /*context*/,
                       const v2::ExecuteRequest* request,
                       grpc::ServerWriter<Operation>* writer) override {
    if (!request->has_action_digest() || !reapi::validate(request->action_digest())) {
      return {grpc::StatusCode::INVALID_ARGUMENT, "action_digest is missing or malformed"};
    }
    const Operation op = record(request->action_digest(), answer(*request));
    writer->Write(op);
    return grpc::Status::OK;
  }

  grpc::Status WaitExecution(grpc::ServerContext* /*context*/,
                             const v2::WaitExecutionRequest* request,
                             grpc::ServerWriter<Operation>* writer) override {
    std::optional<Operation> op;
    {
      const std::lock_guard lock(m_mutex);
      if (const auto it = m_operations.find(request->name()); it != m_operations.end()) {
        op = it->second;
      }
    }
    if (!op) {
      return {grpc::StatusCode::NOT_FOUND, "unknown operation '" + request->name() + "'"};
    }
    writer->Write(*op);
    return grpc::Status::OK;
  }

private:
  v2::ExecuteResponse answer(const v2::ExecuteRequest& request) {
    v2::ExecuteResponse resp;
    auto& result = *resp.mutable_result();
    result.mutable_execution_metadata()->set_worker("ccrex-test-engine");
    *result.mutable_stdout_digest() = reapi::digest_of("");
    *result.mutable_stderr_digest() = reapi::digest_of("");
    switch (m_lie) {
    case Lie::none:
      break; // never registered in this mode
    case Lie::empty_result:
      if (auto st = m_cache.put(request.instance_name(), request.action_digest(), result); !st) {
        CCREX_LOG_WARN("test engine: cannot store the empty result: " << st.error().message());
      }
      break;
    case Lie::exit_127:
      result.set_exit_code(127);
      *result.mutable_stderr_digest() = store_text(
          m_store, "sh: 1: " + program_of(m_store, request.action_digest()) + ": not found\n");
      break;
    case Lie::signal:
      result.set_exit_code(139);
      resp.set_message("command terminated by signal 11 (Segmentation fault)");
      break;
    case Lie::cached_failure:
      result = cached_failure(m_store);
      resp.set_cached_result(true);
      break;
    case Lie::exec_status:
      resp.mutable_status()->set_code(grpc::StatusCode::INTERNAL);
      resp.mutable_status()->set_message("fabricated engine failure: the worker was lost");
      resp.set_message(resp.status().message());
      break;
    }
    return resp;
  }

  // Wrap `resp` in a finished Operation and keep it for WaitExecution.
  Operation record(const v2::Digest& action_digest, const v2::ExecuteResponse& resp) {
    Operation op;
    op.set_name("operations/lie-" + std::to_string(++m_counter));
    v2::ExecuteOperationMetadata meta;
    meta.set_stage(v2::ExecutionStage::COMPLETED);
    *meta.mutable_action_digest() = action_digest;
    op.mutable_metadata()->PackFrom(meta);
    op.set_done(true);
    op.mutable_response()->PackFrom(resp);
    const std::lock_guard lock(m_mutex);
    m_operations[op.name()] = op;
    return op;
  }

  const Lie m_lie;
  server::BlobStore& m_store;
  server::ActionCache& m_cache;
  std::atomic<uint64_t> m_counter{0};
  std::mutex m_mutex;
  std::map<std::string, Operation> m_operations; // guarded by m_mutex
};

// ActionCache of a failure-caching engine: every lookup finds the same failed result.
// Updates go to the real cache (and are never read back).
class FailureCachingActionCache final : public v2::ActionCache::Service {
public:
  FailureCachingActionCache(server::BlobStore& store,
                            server::ActionCache& cache,
                            const server::Access& access,
                            server::Metrics& metrics)
      : m_store(store),
        m_real(store, cache, access, metrics) {}

  grpc::Status GetActionResult(grpc::ServerContext* /*context*/,
                               const v2::GetActionResultRequest* /*request*/,
                               v2::ActionResult* response) override {
    *response = cached_failure(m_store);
    return grpc::Status::OK;
  }
  grpc::Status UpdateActionResult(grpc::ServerContext* context,
                                  const v2::UpdateActionResultRequest* request,
                                  v2::ActionResult* response) override {
    return m_real.UpdateActionResult(context, request, response);
  }

private:
  server::BlobStore& m_store;
  server::ActionCacheService m_real;
};

std::string usage() {
  std::string text = "Usage: ccrex-test-engine [ccrex-server options] --lie MODE\n\n"
                     "A REAPI engine that lies, for tests. MODE: ";
  for (size_t i = 0; i < k_modes.size(); ++i) {
    text += (i == 0 ? "" : ", ") + std::string(k_modes.at(i).first);
  }
  return text + " (default none).\n\nccrex-server's options:\n" + server::usage();
}

int run(std::vector<std::string> args) {
  Lie lie = Lie::none;
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string mode;
    if (args[i] == "--lie") {
      if (i + 1 >= args.size()) {
        std::cerr << "ccrex-test-engine: --lie needs a value\n";
        return 2;
      }
      mode = args[++i];
    } else if (args[i].rfind("--lie=", 0) == 0) {
      mode = args[i].substr(6);
    } else {
      rest.push_back(args[i]);
      continue;
    }
    const auto parsed = parse_mode(mode);
    if (!parsed) {
      std::cerr << "ccrex-test-engine: unknown --lie mode '" << mode << "' (see --help)\n";
      return 2;
    }
    lie = *parsed;
  }
  auto opts = server::parse_cli(rest);
  if (!opts) {
    std::cerr << "ccrex-test-engine: " << opts.error().message() << "\n";
    return 2;
  }
  if (opts->help) {
    std::cout << usage();
    return 0;
  }
  util::logging::Level level{};
  if (!util::logging::parse_level(opts->log_level, level)) {
    std::cerr << "ccrex-test-engine: invalid --log-level '" << opts->log_level << "'\n";
    return 2;
  }
  util::logging::log_to_stderr(level);
  // Clients' results are accepted, as by most engines in the field (the client tests
  // exercise their uploads against it); a token file still decides when one is given.
  opts->config.allow_ac_updates = opts->config.auth_tokens_file.empty();
  server::ServiceOverrides overrides;
  if (lie != Lie::none) {
    overrides.execution = [lie](server::LocalServer& srv) -> std::unique_ptr<grpc::Service> {
      return std::make_unique<LyingExecution>(lie, srv.store(), srv.action_cache());
    };
  }
  if (lie == Lie::cached_failure) {
    overrides.action_cache = [](server::LocalServer& srv) -> std::unique_ptr<grpc::Service> {
      return std::make_unique<FailureCachingActionCache>(
          srv.store(), srv.action_cache(), srv.access(), *srv.metrics());
    };
  }
  return server::serve_until_signalled(opts->config, overrides);
}

} // namespace

int main(int argc, char** argv) {
  try {
    return run(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const std::exception& e) {
    std::cerr << "ccrex-test-engine: " << e.what() << "\n";
    return 1;
  }
}
