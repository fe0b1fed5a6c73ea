#pragma once

// StatusHttp: ccrex-server's status port (`--status-listen HOST:PORT`, off by default), an
// HTTP/1.1 server (Debian's cpp-httplib) with three read-only pages:
//
//   GET /          an HTML page: uptime, store size and limit, hit rate, queue, running
//                  and recent actions, counts per instance and per RPC (no script, no
//                  external resource)
//   GET /metrics   the same figures in the Prometheus text format
//   GET /healthz   "ok"
//
// HEAD works on the same paths; any other method gets 405 and any other path 404; on
// loopback, a Host header naming anything but a loopback host gets 403 (DNS rebinding). The
// port has no authentication and no TLS, so it listens on loopback unless told otherwise
// (`allow_remote`), and what it shows is limited to what metrics.h keeps: counts, sizes,
// action digests, instance names and exit codes, never a header, token or command line.
//
// Limits against clients that hold connections: a fixed pool of k_threads threads; a
// connection answers one request; reading waits at most k_read_timeout for each piece of
// the request; request bodies are never read. The library checks each header line
// against 8 KiB only once the line is complete, and it has no deadline for a whole request,
// so a client that trickles bytes can keep one thread busy (README, "Security").
//
// Thread safety: start() and stop() from one thread; requests are served concurrently.

#include "server/metrics.h"
#include "util/result.h"

#include <chrono>
#include <memory>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace ccrex::server {

class StatusHttp {
public:
  static constexpr int k_threads = 4;
  static constexpr std::chrono::seconds k_read_timeout{2};

  // Listen on `address` ("HOST:PORT", port 0 picks a free one; "[::1]:PORT" for IPv6) and
  // serve `metrics` until stop(). A host other than loopback is refused unless
  // `allow_remote`.
  // OK when `address` is "HOST:PORT" with a loopback host, or any host with `allow_remote`.
  static util::Status check_address(const std::string& address, bool allow_remote);

  static util::Result<std::unique_ptr<StatusHttp>>
  start(const std::string& address, std::shared_ptr<const Metrics> metrics, bool allow_remote);
  ~StatusHttp();
  StatusHttp(const StatusHttp&) = delete;
  StatusHttp& operator=(const StatusHttp&) = delete;

  // "http://HOST:PORT/" with the bound port.
  const std::string& url() const { return m_url; }
  // Stop listening and wait for the requests being served. Idempotent.
  void stop();

private:
  StatusHttp();

  std::unique_ptr<httplib::Server> m_http;
  std::thread m_thread;
  std::string m_url;
};

} // namespace ccrex::server
