#pragma once

// Starting a program with resource limits and another user, without a helper program.
//
//   LaunchIdentity id;
//   id.limits.push_back({RLIMIT_NPROC, 4096, 4096});
//   id.user = LaunchUser{65534, 65534};
//   options.identity = id;                 // util::SubprocessOptions
//   util::run_subprocess(options);         // the child sets both, then execs
//
// run_subprocess starts a child whose `identity` is not empty through spawn_launched()
// below instead of posix_spawn: a child that shares the caller's memory until it execs (as
// posix_spawn's does, so a large server pays no page-table copy), sets up its descriptors,
// directory and process group, sets the limits, drops supplementary groups and switches
// to the user, resets every signal's handler and mask, and execs. Between the clone and
// the exec the child makes raw system calls only (no allocation, no lock, nothing a
// sanitizer or the C library's thread machinery would touch), so it is safe in a
// multithreaded process. The sandbox uses it to start bubblewrap as the sandbox user
// (server/sandbox.h), which used to take one extra program per action.
//
// It also starts every action's outermost process, for what posix_spawn cannot do there:
// with `die_with_parent` the child arms a SIGKILL death signal as its last step before the
// exec (after the user switch, which would clear it), then checks that its parent is still
// the process that cloned it. A parent killed before the signal was armed would otherwise
// leave the child running for good: the signal is armed against whoever has the child at
// that moment, and the reaper that inherited it never dies. The kernel sends the signal when
// the *thread* that cloned the child ends, not the process: the caller's thread must outlive
// the child (run_subprocess waits for the child on that thread, so it does).

#include "util/result.h"

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ccrex::util {

// One resource limit (RLIMIT_*), soft and hard.
struct ResourceLimit {
  int resource = 0;
  uint64_t soft = 0;
  uint64_t hard = 0;
};

// A user to switch to: real, effective and saved ids, no supplementary groups. Never 0.
struct LaunchUser {
  uint32_t uid = 0;
  uint32_t gid = 0;
};

// What the child sets before it execs.
struct LaunchIdentity {
  std::vector<ResourceLimit> limits;
  std::optional<LaunchUser> user;

  bool empty() const { return limits.empty() && !user; }
};

// One step on the child's descriptors, in order: open `path` onto `fd`, or duplicate
// `source` onto `fd` (the same number: clear its close-on-exec flag).
struct FileAction {
  int fd = -1;
  int source = -1;
  std::string path;
  int flags = 0;
  mode_t mode = 0;
};

// Everything spawn_launched needs; every string stays alive for the call.
struct LaunchPlan {
  const char* program = nullptr; // a path, not looked up
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  std::vector<FileAction> files;
  // After `files`: close every descriptor from this one up (-1: none).
  int close_from = -1;
  std::string cwd; // empty: keep
  bool new_process_group = false;
  LaunchIdentity identity;
  // Arm SIGKILL as the child's death signal, and end it rather than exec when its parent
  // is already gone (see the top of this file).
  bool die_with_parent = false;
};

// Start the child as `plan` says and return its pid once it has exec'd. Fails with the
// errno of the step that failed in the child (the child is then reaped), naming it.
Result<pid_t> spawn_launched(const LaunchPlan& plan);

} // namespace ccrex::util
