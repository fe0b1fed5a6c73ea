#pragma once

// Run a child process with explicit argv, environment, working directory and redirections,
// optionally in its own process group with a timeout that kills the whole group.
// Thread-safe: every call is independent (posix_spawn or launch.h, no shared state).

#include "util/launch.h"
#include "util/result.h"

#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace ccrex::util {

struct SubprocessOptions {
  // Program and arguments. argv[0] is resolved through PATH (of `env` when given, else of
  // this process) if it contains no '/'.
  std::vector<std::string> argv;
  // Complete environment as "NAME=value" strings; nullopt inherits this process's.
  std::optional<std::vector<std::string>> env;
  // Working directory; empty keeps the current one.
  std::string cwd;
  // Where stdin comes from; empty means /dev/null.
  std::string stdin_path;
  // Redirect stdout/stderr into these files (created or truncated, mode 0644). When empty
  // the stream is captured into SubprocessResult (if capture_output) or inherited.
  std::string stdout_path;
  std::string stderr_path;
  bool capture_output = true;
  // Put the child in a new process group; a timeout then kills the whole group.
  bool new_process_group = true;
  // Kill the child after this long; zero means no limit.
  std::chrono::milliseconds timeout{0};
  // When set, the flag is checked about every 100 ms while the child runs; once it reads
  // true the child (or its process group) is killed with SIGKILL. Used to abort running
  // actions when a server shuts down.
  const std::atomic<bool>* cancel = nullptr;
  // Open descriptors the child receives as 3, 4, ... in this order (every other
  // descriptor of this process is close-on-exec). Each must be above 2 + their count, so
  // that no earlier duplication overwrites a later source.
  std::vector<int> pass_fds;
  // Close every other descriptor the child would inherit (one this process got without
  // close-on-exec from whoever started it), so the program sees only 0-2 and pass_fds.
  bool close_other_fds = false;
  // Resource limits and a user the child takes on before it execs (launch.h); when set,
  // the child is started by spawn_launched instead of posix_spawn, as with the one below.
  LaunchIdentity identity;
  // The child gets SIGKILL when the thread calling run_subprocess ends (which it does only
  // after the child is gone) or the whole process dies, and never runs when this process
  // died before that was armed (LaunchPlan::die_with_parent).
  bool die_with_parent = false;
};

struct SubprocessResult {
  // Exit status; 128 + signal number when the child was killed by a signal.
  int exit_code = 0;
  // The terminating signal, or 0 for a normal exit.
  int signal = 0;
  // True when the timeout expired and the child was killed.
  bool timed_out = false;
  // True when the child was killed because `cancel` became true.
  bool cancelled = false;
  // Captured output (only when capture_output and no file redirection was given).
  std::string stdout_data;
  std::string stderr_data;
};

// Run the child to completion. Fails only when it cannot be started (e.g. no such program).
Result<SubprocessResult> run_subprocess(const SubprocessOptions& options);

// Return the full path of `name` found in the ':'-separated `path_list`, or nullopt.
// `skip` names a file (by real path) to pass over, for masquerading wrappers.
std::optional<std::string>
find_in_path(const std::string& name, const std::string& path_list, const std::string& skip = "");

// Return the ':'-separated `path_list` with each relative entry (an empty one means ".")
// made absolute against the directory `cwd`, as a program running in `cwd` would search
// it. Absolute entries are kept as they are.
std::string absolute_path_list(const std::string& path_list, const std::string& cwd);

} // namespace ccrex::util
