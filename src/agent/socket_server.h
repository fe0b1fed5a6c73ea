#pragma once

// The agent's front door: a unix socket in the per-user agent directory where thin clients
// send compile and admin requests (protocol/messages.h). Each connection carries one
// request; it is served on a bounded pool of worker threads (util/worker_pool.h: started
// as requests need them, ended after `worker_idle_exit` without one) by a Handler, and the
// reply is written back. The server owns the directory's socket, pid file and agent lock while it
// runs, and stops on SIGTERM/SIGINT, on `ccrex --stop-agent`, after an idle period, or
// when a client speaks another protocol version (so that the next client starts a fresh
// agent from its own installation).
//
//   SocketServer server(options, handler);
//   CCREX_TRY(server.start());
//   server.run();   // blocks until a stop condition, then drains in-flight requests
//
// Thread safety: start() and run() are called once, from one thread; request_stop() may
// be called from any thread at any time.

#include "agent/handler.h"
#include "util/result.h"

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace ccrex::agent {

struct SocketServerOptions {
  // The per-user agent directory (protocol::agent_dir()). Created 0700 when missing;
  // refused when it is not private to this user.
  std::string dir;
  // Stop after this long without any request; zero means never.
  std::chrono::milliseconds idle_timeout = std::chrono::minutes(10);
  // Worker threads serving requests at most; zero means four per core (they mostly wait
  // for compilers and the network).
  size_t threads = 0;
  // A worker thread without a request for this long ends; the next request that finds no
  // idle worker starts one. Shorter than `quiet_after`, so that what the ended threads
  // held is handed back by on_quiet.
  std::chrono::milliseconds worker_idle_exit = std::chrono::seconds(2);
  // Accepted connections waiting for a worker beyond this are closed unanswered, which
  // makes their clients compile locally.
  size_t max_queued = 1024;
  // How long start() waits for the agent lock held by another agent that is shutting down.
  std::chrono::milliseconds lock_wait = std::chrono::seconds(2);
  // Install SIGTERM/SIGINT handlers that stop run(). Only one server per process may.
  bool handle_signals = true;
  // Called from run() once after each burst of requests, when none has been served or
  // waiting for `quiet_after` (the agent hands freed memory back to the system there).
  std::function<void()> on_quiet;
  std::chrono::milliseconds quiet_after = std::chrono::seconds(3);
};

// Options for ccrexd from its environment: the directory from protocol::agent_dir() and
// the idle timeout from CCREX_IDLE_TIMEOUT (seconds; 0 = never).
util::Result<SocketServerOptions> socket_server_options_from_environment();

enum class StopReason {
  signal,           // SIGTERM or SIGINT
  stop_request,     // `ccrex --stop-agent`
  idle,             // no request for idle_timeout
  version_mismatch, // a client spoke another protocol version
  requested,        // request_stop()
};

// Return a short name for `reason` ("idle").
const char* stop_reason_name(StopReason reason);

class SocketServer {
public:
  // `handler` must outlive the server.
  SocketServer(SocketServerOptions options, Handler& handler);
  ~SocketServer();
  SocketServer(const SocketServer&) = delete;
  SocketServer& operator=(const SocketServer&) = delete;

  // Take the agent lock, replace any stale socket, listen (socket mode 0600) and write the
  // pid file. Fails with already_exists when another live agent owns the directory, and
  // with permission_denied when the directory is not private. Also ignores SIGPIPE for the
  // whole process: writes to a client's closed pipe must fail, not kill the agent.
  util::Status start();

  // Serve until a stop condition. Then stop accepting, remove the socket and pid file,
  // release the agent lock (a new agent may start from here on) and finish every request
  // already accepted before returning.
  StopReason run();

  // Make run() return soon. Thread-safe.
  void request_stop();

  // The socket's path (valid after construction).
  const std::string& socket_path() const;

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

} // namespace ccrex::agent
