#pragma once

// Containing every process of an action, so that nothing it started outlives it.
//
// The runner starts each command below the first process of a new PID namespace, inside a
// user namespace mapping only the server's own uid when the server is not root: through
// `ccrex-action-init` when it sits beside the server's executable (one small static
// program, cheap to start per action), else `unshare --pid --fork --kill-child` and a Perl
// init process. When that first process exits, the kernel kills
// every other process of the namespace (background jobs, daemons, processes that called
// setsid() or double-forked) and `unshare` reports the exit only after they are all gone;
// when the runner kills `unshare` (timeout, cancellation), --kill-child takes the namespace
// down the same way. So outputs are hashed only once no process of the action can still
// write them.
//
// Where PID namespaces are not available (probed once, from server start on:
// startup_probes.h), commands run as before, in a process group of their own that a timeout
// kills, and a warning is logged once.
//
// The sandbox wraps bubblewrap itself the same way when ccrex-action-init is beside the
// server (sandbox.h), so that whatever bwrap started ends with the server even where bwrap's
// own death signals come too late.

#include <string>
#include <vector>

namespace ccrex::server {

// Return whether this machine lets the server create PID namespaces (probed once). Finds
// action_init_program()'s answer as well.
bool pid_namespace_supported();

// Whether pid_namespace_supported() has its answer (startup_probes.h finds it before the
// first action; tests check that through this).
bool process_tree_probed();

// Return `argv` wrapped so that it runs as the child of the first process of a new PID
// namespace, or `argv` unchanged when that is not supported. When the command dies of a
// signal, the wrapper exits with 128 + N and writes N into `status_file` (a path the
// caller owns and that does not exist yet).
std::vector<std::string> contained_argv(const std::vector<std::string>& argv,
                                        const std::string& status_file);

// The signal `status_file` reports, or 0.
int contained_signal(const std::string& status_file);

// ccrex-action-init beside this executable when it is there and works, else "". Besides
// the PID namespace above it launches the sandbox and reports signals inside it (sandbox.h).
const std::string& action_init_program();

} // namespace ccrex::server
