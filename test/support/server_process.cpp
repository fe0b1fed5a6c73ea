#include "support/server_process.h"

#include "util/strings.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdlib>

extern char** environ; // NOLINT(readability-redundant-declaration)

namespace ccrex::test {

std::string server_binary() {
  const char* bin = std::getenv("CCREX_SERVER_BIN"); // NOLINT(concurrency-mt-unsafe)
  return bin != nullptr ? bin : "ccrex-server";
}

void let_sandbox_search(const std::string& dir) {
  const char* tmpdir = std::getenv("TMPDIR"); // NOLINT(concurrency-mt-unsafe)
  const std::string tmp =
      util::normalize_path(tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp");
  for (std::string p = util::normalize_path(dir); p.size() > tmp.size() && p.starts_with(tmp + "/");
       p = util::dirname(p)) {
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == ::geteuid()) {
      ::chmod(p.c_str(), (st.st_mode & 07777) | S_IXGRP | S_IXOTH);
    }
  }
}

ServerProcess::ServerProcess(std::vector<std::string> extra_args,
                             std::string listen,
                             std::string cache_dir,
                             std::vector<std::string> wrapper) {
  if (cache_dir.empty()) {
    m_temp = std::make_unique<util::TempDir>("ccrex-server-test-");
    // Searchable (not readable) by others, as a store's parents must be for the sandbox
    // user to reach an action's staged input root (sandbox.h).
    ::chmod(m_temp->path().c_str(), 0711);
    m_cache_dir = m_temp->path() + "/cache";
  } else {
    m_cache_dir = cache_dir;
    let_sandbox_search(m_cache_dir);
  }
  std::vector<std::string> args = {server_binary(), "--listen", listen, "--cache-dir", m_cache_dir};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  // A whole suite run again with other server settings (test/CMakeLists.txt).
  if (const char* more = std::getenv("CCREX_TEST_SERVER_ARGS")) { // NOLINT(concurrency-mt-unsafe)
    for (const auto& arg : util::split(more, ' ')) {
      if (!arg.empty()) {
        args.emplace_back(arg);
      }
    }
  }
  args.insert(args.begin(), wrapper.begin(), wrapper.end());
  std::vector<char*> argv;
  for (auto& a : args) {
    argv.push_back(a.data());
  }
  argv.push_back(nullptr);

  std::array<int, 2> fds{};
  if (::pipe2(fds.data(), O_CLOEXEC) != 0) {
    m_error = "pipe failed";
    return;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  const int rc = ::posix_spawn(&m_pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    m_pid = -1;
    m_error = "cannot start " + args[0];
    return;
  }
  // The server prints "ccrex-server: listening on ADDRESS" once per address when ready.
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd pfd{fds[0], POLLIN, 0};
    if (::poll(&pfd, 1, 100) <= 0) {
      continue;
    }
    std::array<char, 4096> buf{};
    const ssize_t n = ::read(fds[0], buf.data(), buf.size());
    if (n <= 0) {
      break;
    }
    out.append(buf.data(), static_cast<size_t>(n));
    const std::string marker = "listening on ";
    const size_t at = out.find(marker);
    const size_t eol = at == std::string::npos ? at : out.find('\n', at);
    if (eol != std::string::npos) {
      m_address = out.substr(at + marker.size(), eol - at - marker.size());
      break;
    }
  }
  ::close(fds[0]);
  m_output = out;
  if (m_address.empty()) {
    m_error = "server did not report a listening address; output: " + out;
  }
}

int ServerProcess::kill_and_wait(int sig) {
  if (m_pid <= 0) {
    return -1;
  }
  ::kill(m_pid, sig);
  int status = 0;
  ::waitpid(m_pid, &status, 0);
  m_pid = -1;
  return status;
}

ServerProcess::~ServerProcess() {
  if (m_pid > 0) {
    kill_and_wait(SIGTERM);
  }
}

} // namespace ccrex::test
