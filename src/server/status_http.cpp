#include "server/status_http.h"

#include "reapi/channel.h"
#include "util/logging.h"
#include "util/strings.h"

#include <httplib.h>

#include <future>

namespace ccrex::server {
namespace {

// Split "HOST:PORT" or "[V6]:PORT"; the host comes back without brackets.
util::Result<std::pair<std::string, int>> split_address(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return util::invalid_argument("--status-listen expects HOST:PORT, got '" + address + "'");
  }
  auto port = util::parse_int(address.substr(colon + 1));
  if (!port || *port < 0 || *port > 65535) {
    return util::invalid_argument("--status-listen: invalid port in '" + address + "'");
  }
  return std::pair{std::string(reapi::target_host(address)), static_cast<int>(*port)};
}

void plain(httplib::Response& res, int status, const std::string& text) {
  res.status = status;
  res.set_content(text, "text/plain; charset=utf-8");
}

} // namespace

util::Status StatusHttp::check_address(const std::string& address, bool allow_remote) {
  CCREX_ASSIGN_OR_RETURN(const auto host_port, split_address(address));
  if (!reapi::is_loopback_host(host_port.first) && !allow_remote) {
    return util::invalid_argument(
        "refusing to serve the status page on " + address
        + ": it has no authentication and no TLS; use a loopback address, or "
          "--allow-remote-status on a network you trust");
  }
  return {};
}

StatusHttp::StatusHttp() : m_http(std::make_unique<httplib::Server>()) {}

StatusHttp::~StatusHttp() {
  stop();
}

util::Result<std::unique_ptr<StatusHttp>> StatusHttp::start(const std::string& address,
                                                            std::shared_ptr<const Metrics> metrics,
                                                            bool allow_remote) {
  CCREX_TRY(check_address(address, allow_remote));
  CCREX_ASSIGN_OR_RETURN(const auto host_port, split_address(address));
  const auto& [host, port] = host_port;
  std::unique_ptr<StatusHttp> self(new StatusHttp());
  httplib::Server& http = *self->m_http;
  http.new_task_queue = [] { return new httplib::ThreadPool(k_threads); };
  http.set_read_timeout(k_read_timeout);
  http.set_write_timeout(k_read_timeout);
  http.set_keep_alive_timeout(k_read_timeout.count());
  http.set_keep_alive_max_count(1);
  http.set_payload_max_length(0);
  http.set_default_headers({{"Cache-Control", "no-store"},
                            {"X-Content-Type-Options", "nosniff"},
                            {"Referrer-Policy", "no-referrer"},
                            {"Content-Security-Policy",
                             "default-src 'none'; style-src 'unsafe-inline'; "
                             "frame-ancestors 'none'"}});
  http.set_pre_routing_handler([allow_remote](const httplib::Request& req, httplib::Response& res) {
    if (req.method != "GET" && req.method != "HEAD") {
      res.set_header("Allow", "GET, HEAD");
      plain(res, 405, "only GET and HEAD are served here\n");
      return httplib::Server::HandlerResponse::Handled;
    }
    // A web page whose name an attacker points at 127.0.0.1 (DNS rebinding) would be
    // same-origin with this port: a loopback port answers only loopback names.
    const std::string asked_for = req.get_header_value("Host");
    if (!allow_remote && !asked_for.empty()
        && !reapi::is_loopback_host(reapi::target_host(asked_for))) {
      plain(res, 403, "this port answers requests for localhost or a loopback address only\n");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) {
      plain(res, res.status, res.status == 404 ? "not found\n" : "bad request\n");
    }
  });
  http.Get("/", [metrics](const httplib::Request&, httplib::Response& res) {
    res.set_content(status_page(metrics->snapshot()), "text/html; charset=utf-8");
  });
  http.Get("/metrics", [metrics](const httplib::Request&, httplib::Response& res) {
    res.set_content(prometheus_text(metrics->snapshot()), "text/plain; version=0.0.4");
  });
  http.Get("/healthz",
           [](const httplib::Request&, httplib::Response& res) { plain(res, 200, "ok\n"); });

  const int bound =
      port == 0 ? http.bind_to_any_port(host) : (http.bind_to_port(host, port) ? port : -1);
  if (bound <= 0) {
    return util::Error(util::ErrorCode::unavailable, "cannot serve the status page on " + address);
  }
  const bool v6 = host.find(':') != std::string::npos;
  self->m_url = "http://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(bound) + "/";
  self->m_thread = std::thread([&http] { http.listen_after_bind(); });
  CCREX_LOG_INFO("status: serving " << self->m_url);
  return self;
}

void StatusHttp::stop() {
  if (!m_thread.joinable()) {
    return;
  }
  m_http->stop();
  // The pool finishes the requests it serves; one held open by a client that trickles its
  // bytes would hold the caller too, so after a while it is left to end with the process.
  auto done =
      std::async(std::launch::async, [thread = std::move(m_thread)]() mutable { thread.join(); });
  if (done.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    CCREX_LOG_WARN("status: a client still holds the status port; not waiting for it");
    static_cast<void>(m_http.release()); // its threads may still use it
    // std::future from std::async joins in its destructor: hand it to a detached thread.
    std::thread([f = std::move(done)]() mutable { f.wait(); }).detach();
  }
}

} // namespace ccrex::server
