#pragma once

// Sandbox: the one place that decides how an action's command is confined.
//
//   auto sandbox = make_sandbox(settings, store_dir);   // probes the backends once
//   staging.owner = sandbox->command_user();              // who staging hands the root to
//   auto wrapped = sandbox->wrap(request);               // argv, cwd and descriptors to spawn
//   ... util::run_subprocess(wrapped->options) ...
//   int sig = wrapped->signal();                         // a death by signal, if reported
//
// The namespace sandbox gives every action its own user, mount, PID, IPC,
// UTS and network namespaces (the network only when the request allows it), resource
// limits (set by the server's child before it execs the builder, util/launch.h), a private /tmp,
// no capabilities, and a file system of one of two roots (sandbox_settings.h): `host` shows the
// host's system directories read-only and the input root writable at its staging path (or
// CCREX_STAGE_ROOT); `input` shows only the input root, as `/`. Cached input subtrees
// (tree_cache.h) are mounted read-only over their empty places in the root, through descriptors the
// server opens: the action can read them and change nothing in them. The store is never visible
// otherwise: system directories do not hold it, and an extra host path that does gets an empty
// tmpfs over it. A server running as root switches to SandboxSettings::uid/gid (the same child)
// before the sandbox is built, so the action's processes are that user on the host too; the
// builder then runs unprivileged, in a user namespace, and receives the input root as an open
// descriptor, which it binds by its path (searchable by that user) and checks.
//
// Two programs build it from the same mount options (bubblewrap's): the server's own
// ccrex-action-init --sandbox (bin/action_sandbox.h: one program start per action fewer,
// preferred) and bubblewrap (`bwrap`), used where the first one's probe fails or when
// SandboxSettings::backend says so. Either way the command gets only descriptors 0-2.
//
// No process of an action outlives the server, however early the server dies: the server's
// child arms its death signal just before it execs the builder and checks that the server is
// still its parent (util::SubprocessOptions::die_with_parent, the unconfined fallback too);
// ccrex-action-init's first process arms its own and checks, through a pipe, that the
// program that started it is still there. bubblewrap arms its processes' death signals late
// and checks nothing (its namespace side even waits for good when its first process dies
// early), so it runs below a PID namespace of ccrex-action-init's (process_tree.h), whose
// end the kernel makes the end of every process bwrap started. The same holds when the
// action's time runs out while the sandbox is being built, the server alive.
//
// When neither can create namespaces (probed once, one log line), or
// the sandbox is turned off, make_sandbox returns the unconfined fallback: today's
// host-root behaviour (the server's user, its file system, a PID namespace of its own,
// process_tree.h) and no input root: supports(RootMode::input) is false and the runner
// refuses such actions.
//
// Thread safety: every method is const and may be called concurrently.

#include "server/sandbox_settings.h"
#include "util/launch.h"
#include "util/result.h"
#include "util/subprocess.h"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ccrex::server {

// One command to confine.
struct SandboxRequest {
  // Program (as resolve_program found it) and arguments; exactly the command's environment.
  std::vector<std::string> argv;
  std::vector<std::string> env;
  // The staged input root on the host, and the working directory relative to it.
  std::string root_dir;
  std::string working_directory;
  // Host root only: where the input root appears ("" for root_dir itself).
  std::string stage_root;
  RootMode root = RootMode::host;
  // Keep the host's network (ccrex-network=on).
  bool network = false;
  // The command's time limit, for the CPU limit (zero: none).
  std::chrono::milliseconds timeout{0};
  // A file the sandbox may create to report a death by signal (does not exist yet).
  std::string status_file;
  // Directories mounted read-only over the (empty) directories at their places in the
  // input root, after the root itself; only for a sandbox that mounts_read_only().
  std::vector<ReadOnlyMount> read_only_mounts;
};

// A command ready to spawn: `options` holds argv, env, cwd and the descriptors to hand over
// (pass_fds); the caller adds redirections, timeout and cancellation. Owns those
// descriptors and closes them when destroyed.
class SandboxedCommand {
public:
  SandboxedCommand() = default;
  ~SandboxedCommand();
  SandboxedCommand(SandboxedCommand&& other) noexcept;
  SandboxedCommand& operator=(SandboxedCommand&&) = delete;
  SandboxedCommand(const SandboxedCommand&) = delete;
  SandboxedCommand& operator=(const SandboxedCommand&) = delete;

  util::SubprocessOptions options;
  // The signal that ended the command as reported through status_file, or 0.
  int signal() const;

  // Take ownership of `fd` and hand it to the child as the next descriptor (3, 4, ...);
  // return that number.
  int pass(int fd);
  std::string status_file;
};

class Sandbox {
public:
  virtual ~Sandbox() = default;
  // Whether actions run confined (false for the fallback).
  virtual bool confines() const = 0;
  virtual bool supports(RootMode root) const = 0;
  // Whether wrap() can mount SandboxRequest::read_only_mounts (false: stage copies).
  virtual bool mounts_read_only() const = 0;
  // One line for logs and refusals: what this sandbox is, or why it is not there.
  virtual std::string describe() const = 0;
  // The host user the command runs as when that is not the server's own (a root server's
  // sandbox user), else nullopt. Staging hands the directories and copies of the input
  // root to this user, and may hard-link store files it cannot change (staging.h).
  virtual std::optional<util::LaunchUser> command_user() const = 0;
  // Return the command confined as `request` says. failed_precondition when the request
  // cannot be served (a root this sandbox does not support).
  virtual util::Result<SandboxedCommand> wrap(const SandboxRequest& request) const = 0;
};

// Return the namespace sandbox when `settings` enable it and a backend works on this machine
// for input roots staged below `work_root` (the sandbox user must be able to search the
// directories above it: the root's path is resolved as that user), else the fallback,
// logging one line saying why. `store_dir` is never shown to actions.
std::unique_ptr<Sandbox> make_sandbox(const SandboxSettings& settings,
                                      const std::string& store_dir,
                                      const std::string& work_root);

} // namespace ccrex::server
