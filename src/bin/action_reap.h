#pragma once

// The end of every mode of ccrex-action-init that is a PID namespace's first process.
//
//   pid_t command = fork(); ... exec in the child ...
//   ccrex::action_init::reap_until_exit(command, status_fd);
//
// Waits for `command`, reaping every other process that ends up as this one's child (a
// first process inherits every orphan of its namespace; left unreaped they would count
// against the process limit), then exits with the command's status. A death by signal N
// writes N to `status_fd` (when >= 0) and exits with 128 + N; a failed wait exits 125.

#include <sys/types.h>

namespace ccrex::action_init {

[[noreturn]] void reap_until_exit(pid_t command, int status_fd);

} // namespace ccrex::action_init
