#include "server/serve.h"

#include "util/logging.h"

#include <signal.h>

#include <cstdio>
#include <iostream>
#include <thread>

namespace ccrex::server {

int serve_until_signalled(const Config& config, const ServiceOverrides& overrides) {
  // Block the stop signals in every thread; one thread waits for them with sigwait.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  signal(SIGPIPE, SIG_IGN); // a reader of our stdout may go away

  auto srv = LocalServer::start(config, overrides);
  if (!srv) {
    std::cerr << "ccrex-server: " << srv.error().message() << "\n";
    return 1;
  }
  for (const auto& addr : (*srv)->addresses()) {
    std::printf("ccrex-server: listening on %s\n", addr.c_str());
  }
  std::fflush(stdout);
  std::thread waiter([&stop, &srv] {
    int sig = 0;
    sigwait(&stop, &sig);
    CCREX_LOG_INFO("server: signal " << sig << ", shutting down");
    (*srv)->shutdown();
  });
  (*srv)->wait();
  waiter.join();
  return 0;
}

} // namespace ccrex::server
