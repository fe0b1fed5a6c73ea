#pragma once

// Where the client and the agent meet: a per-user directory holding the agent's socket,
// pid file and lock files. The directory must belong to the user and be closed to everyone
// else; that, plus the agent's peer-credential check, is what keeps other users out.
//
// Thread safety: free functions; agent_dir() reads the environment.

#include "util/result.h"

#include <sys/types.h>

#include <string>
#include <string_view>

namespace ccrex::protocol {

// How a client that starts the agent learns how the start went: it passes the write end of
// a pipe as `--ready-fd=N`. The agent closes it once it listens, or first writes the one-line
// reason it cannot start. The client thus tells a start that failed (at once, with its
// reason) from one that is merely slow (waited for).
constexpr std::string_view k_ready_fd_option = "--ready-fd=";

struct AgentPaths {
  std::string dir;
  // The agent's listening socket.
  std::string socket;
  // The running agent's process id, one decimal line.
  std::string pid_file;
  // Held (flock) by the agent that owns `socket`, for as long as it accepts connections.
  std::string agent_lock;
  // Held by a client while it starts an agent, so a burst of clients starts only one.
  std::string start_lock;
  // Touched by a client whose freshly started agent never answered; while it is recent,
  // clients compile locally at once instead of waiting for another failing start.
  std::string start_failed;
};

// Choose the directory: `override_dir` (from $CCREX_AGENT_DIR) when non-empty, else
// `runtime_dir`/ccrex (from $XDG_RUNTIME_DIR) when non-empty, else /tmp/ccrex-<uid>.
std::string choose_agent_dir(const char* override_dir, const char* runtime_dir, uid_t uid);

// choose_agent_dir() with this process's environment and real uid.
std::string agent_dir();

// Return the file names inside `dir`.
AgentPaths agent_paths(const std::string& dir);

// Create `dir` (mode 0700, parents as needed) unless it exists, then check that it is a
// real directory (not a symlink) owned by `uid` with no group or other permissions.
// Fails with permission_denied when the check fails.
util::Status ensure_private_dir(const std::string& dir, uid_t uid);

} // namespace ccrex::protocol
