#pragma once

// ActionRunner: executes one validated action on this machine, without any gRPC.
//
//   ActionRunner runner(store, {.work_root = cache_dir + "/work", .worker_name = "host"});
//   reapi::v2::ExecuteResponse r = runner.run(prepared);   // prepared: see tree_validation.h
//
// Steps of run():
//   1. stage the input root into a fresh directory <work_root>/<random>/root (staging.h);
//      staging counts against the timeout and stops at max_input_entries; when the
//      sandbox can mount read-only subtrees, large subtrees that recur across actions
//      come from the tree cache (tree_cache.h) instead, mounted over an empty directory,
//      except where an output lies within them or they lie within an output, and the
//      input root's own /tmp, /dev and /proc;
//   2. create the parent directories of every output; inputs that are outputs are staged as
//      private writable copies and left in place, so a command that does not rewrite them
//      reports them with their input content (choice documented here on purpose: deleting
//      them would break commands that update a file in place);
//   3. run Command.arguments with exactly Command.environment_variables (plus TMPDIR, for an
//      unconfined action whose Command sets none: a private directory, action_tmpdir.h) in the
//      action's sandbox (sandbox.h; root from the ccrex-root platform property, else the server's
//      default), in <root>/working_directory, in a new process group, stdout/stderr to
//      files, stdin from /dev/null, killed with everything it started after what is left
//      of PreparedAction::timeout. arguments[0] containing '/' is taken relative to the
//      working directory (or absolute; inside the input root for the input root); a bare
//      name is looked up in the Command's PATH (REAPI 2.3), relative PATH entries relative
//      to the working directory;
//   4. store stdout, stderr and the outputs (output_collector.h), fill execution_metadata
//      (worker name, timestamps of every phase);
//   5. remove the work directory.
//
// The response's status is OK when the command ran to completion, whatever its exit code
// (a signal gives exit code 128 + signal and a note in `message`). Otherwise:
//   DEADLINE_EXCEEDED  the timeout fired (while staging or running); result carries the
//                      stdout/stderr produced so far;
//   RESOURCE_EXHAUSTED the input root stages to more than max_input_entries entries;
//   FAILED_PRECONDITION  an input blob vanished (PreconditionFailure MISSING detail), the
//                      program could not be found or started, or an output has the wrong
//                      type;
//   UNAVAILABLE        `cancel` became true (server shutting down, or nobody waits);
//   INTERNAL           the worker itself failed (disk full, ...).
// The runner never writes the ActionCache; the caller decides what is cached.
//
// Thread safety: run() may be called concurrently from several threads.

#include "reapi/proto.h"
#include "server/blob_store.h"
#include "server/sandbox.h"
#include "server/tree_cache.h"
#include "server/tree_validation.h"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace ccrex::server {

struct ActionRunnerOptions {
  // Parent of the per-execution directories; created if missing.
  std::string work_root;
  // Reported as ExecutedActionMetadata.worker.
  std::string worker_name;
  // Hard-link read-only inputs from the store where the command cannot change them (a
  // sandbox running it as another user, StagingOptions::hard_link_inputs); false: copies.
  bool hard_link_inputs = true;
  // The server's store, which no CCREX_STAGE_ROOT may name (stage_root.h); "" for none.
  std::string store_dir;
  // Most files, directories and symlinks one input root may stage to (0: no limit).
  int64_t max_input_entries = 0;
  // How commands are confined (sandbox.h); probed once, when the runner is made.
  SandboxSettings sandbox = {};
  // Large repeated input subtrees kept read-only (tree_cache.h); max_bytes 0: off.
  TreeCacheOptions tree_cache = {};
  // Bytes of outputs, stdout and stderr one action may leave (output_limit.h; 0: no limit).
  int64_t max_output_bytes = 0;
  // Where an action run without a sandbox gets a private TMPDIR (action_tmpdir.h); "": none.
  std::string tmp_root = {};
};

class ActionRunner {
public:
  ActionRunner(BlobStore& store, ActionRunnerOptions options);
  ~ActionRunner();
  ActionRunner(const ActionRunner&) = delete;
  ActionRunner& operator=(const ActionRunner&) = delete;

  // Execute `action` and return its response (see above). Never throws for action-level
  // problems. When `cancel` is given and becomes true, the command is killed.
  reapi::v2::ExecuteResponse run(const PreparedAction& action,
                                 const std::atomic<bool>* cancel = nullptr) const;

  const ActionRunnerOptions& options() const { return m_options; }
  // The sandbox every command runs in (sandbox.h).
  const Sandbox& sandbox() const { return *m_sandbox; }
  // The cache of read-only input subtrees (tree_cache.h).
  const TreeCache& tree_cache() const { return *m_trees; }

private:
  BlobStore& m_store;
  ActionRunnerOptions m_options;
  std::unique_ptr<Sandbox> m_sandbox;
  std::unique_ptr<TreeCache> m_trees;
};

// Return the program to execute for `arguments0` run in `cwd` with `env` (REAPI 2.3):
// contains '/' -> as given (relative to cwd at exec time); bare name -> first executable
// match in the env's PATH (default "/usr/local/bin:/usr/bin:/bin"), relative entries taken
// relative to `cwd`. not_found when nothing matches.
util::Result<std::string> resolve_program(const std::string& arguments0,
                                          const std::string& cwd,
                                          const std::vector<std::string>& env);

// Return a google.rpc.Status with `code` and `message`, plus a PreconditionFailure detail
// with one MISSING violation ("blobs/{hash}/{size}") per digest in `missing` (if any).
google::rpc::Status make_rpc_status(int code,
                                    const std::string& message,
                                    const std::vector<reapi::v2::Digest>& missing = {});

} // namespace ccrex::server
