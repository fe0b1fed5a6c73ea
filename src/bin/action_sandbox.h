#pragma once

// The sandbox ccrex-action-init builds for one action by itself, without bubblewrap:
//
//   ccrex-action-init --sandbox [--uid N] [--gid N] [--hostname NAME] [--unshare-net]
//       {--ro-bind SRC DEST | --ro-bind-fd FD DEST | --bind-fd FD DEST | --symlink TARGET DEST
//        | [--size BYTES] --tmpfs DEST | --dev DEST | --proc DEST}...
//       --chdir DIR --status-fd FD -- PROGRAM [ARG...]
//
// The file-system steps are bubblewrap's options of the same names (the server builds one
// list for either, server/sandbox.cpp), applied in order to an empty root; DEST "/" binds
// the input root itself as the root. What the action gets:
//   - a user namespace mapping only the caller's uid and gid (shown as --uid/--gid), with
//     no way to create another one (its max_user_namespaces is 0);
//   - its own mount, PID, IPC, UTS (host name NAME), cgroup (when the kernel has them) and,
//     with --unshare-net, network namespaces (loopback only, up);
//   - read-only binds that are read-only, nosuid and nodev all the way down (mount_setattr
//     with AT_RECURSIVE: a kernel without it fails the step, and the server then falls back
//     to bubblewrap); /proc's sys, sysrq-trigger, irq and bus read-only;
//   - the command started by the PID namespace's first process (this program), which reaps
//     orphans and reports a death by signal N by writing N to the status descriptor, in a
//     new session, with no capabilities (bounding set emptied, no_new_privs) and only its
//     standard descriptors.
// It exits with the command's status (128 + N for a death by signal N); 125 when the
// sandbox itself could not be built, after one line on stderr naming the step.
//
// Why: bubblewrap is a dynamically linked program of its own, started for every action on
// top of this one; building the same sandbox here costs one program start less, which is
// most of what confinement added to a miss (README, staging_bench.sh).

namespace ccrex::action_init {

// Parse the arguments after --sandbox and run. Never returns.
[[noreturn]] void run_sandbox(int argc, char** argv);

} // namespace ccrex::action_init
