#pragma once

// The client's side of the agent connection: connect to the per-user agent, start it when
// it is not running (one starter per burst of clients), and exchange one request/reply.
// Every failure is an Error; the caller decides to compile locally instead.
//
// Thread safety: functions are independent; intended for the single-threaded client.

#include "protocol/agent_dir.h"
#include "protocol/messages.h"
#include "protocol/socket_io.h"
#include "util/result.h"

#include <chrono>
#include <string>
#include <vector>

namespace ccrex::client {

struct AgentClientOptions {
  protocol::AgentPaths paths;
  // The agent executable to start when none is running; empty disables starting.
  std::string agent_bin;
  // How long a started agent (or one another client is starting) may take to listen. An
  // agent that cannot start says so at once; this bounds only one that hangs, and is
  // generous because a loaded machine can take seconds to start a program.
  std::chrono::milliseconds start_timeout = std::chrono::seconds(10);
  // After a start that failed, further starts are skipped for this long.
  std::chrono::milliseconds failed_start_backoff = std::chrono::seconds(10);
};

// The message of the error connect_or_start_agent() gives while a failed start is backed
// off: a failure the user has already been told of.
constexpr std::string_view k_start_backed_off = "the agent failed to start recently";

// Return the agent to start: $CCREX_AGENT_BIN if set, else "ccrexd" in the directory of
// `self` (the ccrex executable); empty when neither is known.
std::string default_agent_bin(const std::string& self);

// Connect to the running agent. Does not start one. Fails with permission_denied when the
// agent directory is not private to this user (see protocol::ensure_private_dir).
util::Result<protocol::UniqueFd> connect_agent(const AgentClientOptions& options);

// Connect to the agent, starting it if needed: under the start lock (so that concurrent
// clients start a single agent) the agent is launched detached and waited for until it
// answers, says why it cannot start, exits, or start_timeout passes. When that fails,
// paths.start_failed is touched and for failed_start_backoff every client fails at once
// instead of starting again.
util::Result<protocol::UniqueFd> connect_or_start_agent(const AgentClientOptions& options);

// Launch `agent_bin` as a daemon: its own session, not a child of this process, stdio on
// /dev/null, working directory "/", this process's environment, and `ready_fd` passed on
// as its ready pipe (protocol::k_ready_fd_option). Returns once it was forked (not when it
// is ready); fails only when forking fails.
util::Status spawn_detached(const std::string& agent_bin, int ready_fd);

// Send `request` with `fds` attached and read the reply, skipping the agent's `working`
// frames. A reply in another protocol version fails with failed_precondition; an agent
// that sends nothing at all for `silence_limit` (nor reads the request) fails with
// deadline_exceeded: it is stuck, however long a real compile may take.
util::Result<protocol::Reply>
exchange(int sock,
         const protocol::Request& request,
         const std::vector<int>& fds,
         std::chrono::milliseconds silence_limit = protocol::k_silence_limit);

} // namespace ccrex::client
