#pragma once

// The process handling every mode of ccrex-action-init shares.
//
//   pid_t command = start_process(run_command, &args, true); // returns once it has exec'd
//   ccrex::action_init::reap_until_exit(command, {.fd = status_fd});
//
// reap_until_exit waits for `command`, reaping every other process that ends up as this
// one's child (a first process inherits every orphan of its namespace; left unreaped they
// would count against the process limit), then exits with the command's status. A death by
// signal N writes N to `report.fd` (when >= 0) or to a file created at `report.path` (when
// set; only then, so the file's presence tells of a signal) and exits with 128 + N; a failed
// wait exits 125.
//
// start_process starts `fn(arg)` as a child process that shares this one's memory instead
// of getting a copy of it (clone with CLONE_VM, on a stack of its own), as posix_spawn does:
// a fork copies the page tables and then takes a page fault for every page either process
// writes, which on a virtual machine costs about as much as starting a program (perf on
// the 2-core test VM: a fork was a third of what ccrex-action-init added to an action).
// The child gets its own descriptor table, file-system context, signal handlers and, in a
// namespace the caller entered with unshare, its own PID. With `until_exec` the caller
// sleeps until the child execs or exits (CLONE_VFORK); without it, the caller must not
// touch memory while the child runs, beyond waiting for it: this program's callers only
// wait. `fn` must not return (it execs or calls _exit). Returns the child's pid, or -1.

#include <sys/types.h>

namespace ccrex::action_init {

pid_t start_process(int (*fn)(void*), void* arg, bool until_exec);

// Where reap_until_exit reports a death by signal.
struct SignalReport {
  int fd = -1;
  const char* path = nullptr;
};

[[noreturn]] void reap_until_exit(pid_t command, SignalReport report);

// In a first process started with start_process: die with the process that started it (the
// action's timeout kills that one, and the namespace must go with it), and exit 125 at once
// when it is gone already. `alive` is the read end of a pipe whose write end only the
// starter keeps open; `alive_write` is this process's copy of that write end, closed here.
void die_with_starter(int alive, int alive_write);

} // namespace ccrex::action_init
