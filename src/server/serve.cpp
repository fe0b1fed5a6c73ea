#include "server/serve.h"

#include "server/status_http.h"
#include "util/logging.h"

#include <signal.h>

#include <cstdio>
#include <iostream>
#include <thread>

namespace ccrex::server {

int serve_until_signalled(const Config& config, const ServiceOverrides& overrides) {
  // Block the signals in every thread; one thread waits for them with sigwait.
  sigset_t handled;
  sigemptyset(&handled);
  sigaddset(&handled, SIGINT);
  sigaddset(&handled, SIGTERM);
  sigaddset(&handled, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &handled, nullptr);
  signal(SIGPIPE, SIG_IGN); // a reader of our stdout may go away

  if (!config.status_listen.empty()) {
    if (auto st = StatusHttp::check_address(config.status_listen, config.allow_remote_status);
        !st) {
      std::cerr << "ccrex-server: " << st.error().message() << "\n";
      return 1;
    }
  }
  auto srv = LocalServer::start(config, overrides);
  if (!srv) {
    std::cerr << "ccrex-server: " << srv.error().message() << "\n";
    return 1;
  }
  std::unique_ptr<StatusHttp> status;
  if (!config.status_listen.empty()) {
    auto started =
        StatusHttp::start(config.status_listen, (*srv)->metrics(), config.allow_remote_status);
    if (!started) {
      std::cerr << "ccrex-server: " << started.error().message() << "\n";
      return 1;
    }
    status = std::move(started).value();
    std::printf("ccrex-server: status page at %s\n", status->url().c_str());
  }
  for (const auto& addr : (*srv)->addresses()) {
    std::printf("ccrex-server: listening on %s\n", addr.c_str());
  }
  std::fflush(stdout);
  std::thread waiter([&handled, &srv] {
    for (;;) {
      int sig = 0;
      sigwait(&handled, &sig);
      if (sig != SIGHUP) {
        CCREX_LOG_INFO("server: signal " << sig << ", shutting down");
        (*srv)->shutdown();
        return;
      }
      // Logs go to stderr, which has nothing to reopen; the token file is what can change.
      if (auto st = (*srv)->reload(); !st) {
        CCREX_LOG_ERROR("server: SIGHUP: " << st.error().message() << "; keeping the old tokens");
      }
    }
  });
  (*srv)->wait();
  waiter.join();
  if (status) {
    status->stop();
  }
  return 0;
}

} // namespace ccrex::server
