#pragma once

// The compile pipeline of the agent: identify the compiler, find the dependencies, build
// the action, look it up (local store, then the engine), execute on a miss, write the
// outputs. Every failure that is not the compiler's own becomes a Fallback naming its
// reason; only the handler (compile_handler.cpp) turns a Fallback into a local compile.
// A remote compile error is not a Fallback: its output and exit code are the result.
//
// Thread safety: run() may be called concurrently; the shared state is thread-safe.

#include "agent/action_builder.h"
#include "agent/action_memo.h"
#include "agent/backend.h"
#include "agent/config.h"
#include "agent/deps.h"
#include "agent/file_digests.h"
#include "agent/handler.h"
#include "agent/hermetic_toolchain.h"
#include "agent/local_compile.h"
#include "agent/shared_probes.h"
#include "agent/stats.h"
#include "server/action_cache.h"
#include "server/blob_store.h"
#include "toolchain/command_parser.h"
#include "toolchain/compiler_family.h"
#include "toolchain/toolchain_id.h"
#include "util/result.h"

#include <memory>
#include <string>

namespace ccrex::agent {

// Why a compile falls back to running locally; `stat` is the counter ("fallback_..."), or
// "cancelled" when the client went away (then nothing runs at all).
struct Fallback {
  std::string stat;
  std::string detail;
};

// How a compile's dependencies were found.
struct DependencySource {
  // Why the scanner could not list them ("" when it did; otherwise -M's list was used).
  std::string scanner_gave_up;
  // -M's list was remembered from an earlier run (agent/dependency_memo.h), so the
  // preprocessor did not run.
  bool remembered = false;
};

// What happened to a compile that did not fall back.
struct Outcome {
  int exit_code = 0;
  // Counter for the outcome: hit_local, hit_remote, miss_executed, miss_cache_only,
  // compile_error, or fallback_worker_failure (the engine's failure did not happen when
  // compiled locally).
  std::string stat;
  // One line for --explain and the log.
  std::string explanation;
  DependencySource dependencies;
  // A second counter saying why the compile ran in the agent ("" for none):
  // cache_only_no_execution, cache_only_location.
  std::string note;
};

// Where the pipeline's cached results live for one configuration: the local store and the
// executor (embedded server or remote engine).
struct Backends {
  server::BlobStore* store = nullptr;
  server::ActionCache* cache = nullptr;
  Executor* executor = nullptr;
  // True when `store` is also the executor's store (the embedded server): results land
  // there without copying.
  bool shared_store = false;
};

// State shared by all compiles of the agent.
struct PipelineServices {
  DependencyFinder dependencies;
  // Its include-list probes answer the scanner's as well (shared_probes.h).
  toolchain::ToolchainIdCache toolchains{
      sharing_include_probes(toolchain::default_probe_runner(), dependencies.builtin_prober())};
  toolchain::CompilerDetector detector;
  FileDigests digests;
  ActionMemo memo;
  HermeticToolchains hermetic;
};

// Run one compile. `compiler` is the resolved compiler path, `cmd` its parsed command line
// (supported), `backends` the stores and executor for `config`.
util::Result<Outcome, Fallback> run_pipeline(const CompileRequest& request,
                                             const toolchain::ParsedCommand& cmd,
                                             const std::string& compiler,
                                             const Config& config,
                                             const Backends& backends,
                                             PipelineServices& services,
                                             LocalCompiler& local);

} // namespace ccrex::agent
