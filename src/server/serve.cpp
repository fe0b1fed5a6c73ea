#include "server/serve.h"

#include "server/status_http.h"
#include "util/logging.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <iostream>
#include <thread>

namespace ccrex::server {
namespace {

// Open the log file for appending (created 0600).
util::Result<int> open_log(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return util::errno_error("open the log file " + path, errno);
  }
  return fd;
}

// Point stderr at the log file `path`. dup2 replaces the descriptor in one step, so a
// thread logging meanwhile writes whole lines to the old file or to the new one.
util::Status redirect_stderr(const std::string& path) {
  CCREX_ASSIGN_OR_RETURN(const int fd, open_log(path));
  const int rc = ::dup2(fd, STDERR_FILENO);
  const int err = errno;
  ::close(fd);
  if (rc < 0) {
    return util::errno_error("redirect stderr to " + path, err);
  }
  return {};
}

} // namespace

int serve_until_signalled(const Config& config,
                          const ServiceOverrides& overrides,
                          const std::string& log_file) {
  // Block the signals in every thread; one thread waits for them with sigwait.
  sigset_t handled;
  sigemptyset(&handled);
  sigaddset(&handled, SIGINT);
  sigaddset(&handled, SIGTERM);
  sigaddset(&handled, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &handled, nullptr);
  signal(SIGPIPE, SIG_IGN); // a reader of our stdout may go away

  if (!log_file.empty()) {
    // Fail here, on the terminal, rather than once the server runs.
    auto fd = open_log(log_file);
    if (!fd) {
      std::cerr << "ccrex-server: " << fd.error().message() << "\n";
      return 1;
    }
    ::close(*fd);
  }
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
  if (!log_file.empty()) {
    if (auto st = redirect_stderr(log_file); !st) {
      std::cerr << "ccrex-server: " << st.error().message() << "\n";
      return 1;
    }
  }
  std::thread waiter([&handled, &srv, &log_file] {
    for (;;) {
      int sig = 0;
      sigwait(&handled, &sig);
      if (sig != SIGHUP) {
        CCREX_LOG_INFO("server: signal " << sig << ", shutting down");
        (*srv)->shutdown();
        return;
      }
      if (!log_file.empty()) {
        if (auto st = redirect_stderr(log_file); !st) {
          CCREX_LOG_ERROR("server: SIGHUP: " << st.error().message()
                                             << "; still logging to the old file");
        } else {
          CCREX_LOG_INFO("server: SIGHUP: reopened " << log_file);
        }
      }
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
