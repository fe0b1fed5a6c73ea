#include "client/agent_client.h"

#include "util/file.h"
#include "util/strings.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>

extern char** environ; // NOLINT(readability-redundant-declaration)

namespace ccrex::client {
namespace {

using Clock = std::chrono::steady_clock;
using protocol::UniqueFd;

constexpr auto k_poll_interval = std::chrono::milliseconds(5);

void sleep_for(std::chrono::milliseconds ms) {
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(ms.count() / 1000);
  ts.tv_nsec = static_cast<long>((ms.count() % 1000) * 1'000'000);
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

// The descriptor the agent reports its start on (see protocol::k_ready_fd_option).
constexpr int k_ready_fd = 3;

[[noreturn]] void exec_daemon(const std::string& agent_bin, int ready_fd) {
  ::setsid();
  if (::fork() != 0) {
    ::_exit(0); // the session leader leaves; the agent is adopted by init
  }
  // Moved first: the pipe may sit on a standard descriptor that /dev/null replaces next.
  if (ready_fd != k_ready_fd) {
    ::dup2(ready_fd, k_ready_fd);
  }
  ::fcntl(k_ready_fd, F_SETFD, 0); // inherited by the agent, and by nothing else
  const int null_fd = ::open("/dev/null", O_RDWR);
  if (null_fd >= 0) {
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(null_fd, STDOUT_FILENO);
    ::dup2(null_fd, STDERR_FILENO);
  }
  ::close_range(k_ready_fd + 1, ~0U, 0);
  if (::chdir("/") != 0) {
    ::_exit(127);
  }
  std::string ready_arg = std::string(protocol::k_ready_fd_option) + std::to_string(k_ready_fd);
  char* const argv[] = {const_cast<char*>(agent_bin.c_str()), ready_arg.data(), nullptr}; // NOLINT
  ::execve(agent_bin.c_str(), argv, environ);
  ::_exit(127);
}

// What the freshly started agent said on its ready pipe: nothing yet, that it is done
// (end of file: listening, or dead), or why it cannot start.
struct StartReport {
  bool closed = false;
  std::string reason;
};

// Read what is there without blocking.
void read_report(int fd, StartReport& report) {
  char buf[512]; // NOLINT(modernize-avoid-c-arrays)
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n > 0) {
      if (report.reason.size() < 4096) {
        report.reason.append(buf, static_cast<size_t>(n));
      }
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    report.closed = n == 0 || errno != EAGAIN;
    return;
  }
}

// Wait for the agent started with `report_fd` to listen: until it answers, reports why it
// cannot start, exits, or `deadline` passes. An agent that ignores the pipe (it holds it
// open while it runs) is found by connecting.
util::Result<UniqueFd> wait_for_started_agent(const AgentClientOptions& options,
                                              int report_fd,
                                              Clock::time_point deadline) {
  StartReport report;
  while (true) {
    pollfd p{report_fd, POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(k_poll_interval.count()));
    if (n > 0) {
      read_report(report_fd, report);
    }
    auto fd = connect_agent(options);
    if (fd) {
      return fd; // listening (or another agent won the race and this one stepped aside)
    }
    // A whole line of reason is the agent's last word, whether or not it has exited yet.
    if (report.closed || report.reason.find('\n') != std::string::npos) {
      std::string reason(util::trim(report.reason));
      if (const auto nl = reason.find('\n'); nl != std::string::npos) {
        reason.resize(nl);
      }
      return util::Error(
          util::ErrorCode::unavailable,
          "the agent " + options.agent_bin
              + (reason.empty() ? " exited without answering" : " did not start: " + reason));
    }
    if (Clock::now() >= deadline) {
      const auto ms = options.start_timeout.count();
      return util::Error(
          util::ErrorCode::deadline_exceeded,
          "the agent " + options.agent_bin + " did not answer within "
              + (ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms")
              + " of starting");
    }
  }
}

// Return whether a start failed less than `backoff` ago.
bool recent_start_failure(const std::string& marker, std::chrono::milliseconds backoff) {
  struct stat st {};
  if (::stat(marker.c_str(), &st) != 0) {
    return false;
  }
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  const auto age = std::chrono::seconds(now.tv_sec - st.st_mtim.tv_sec);
  return age >= std::chrono::seconds(0) && age < backoff;
}

// Whether a socket operation failed because its SO_RCVTIMEO/SO_SNDTIMEO passed.
bool timed_out(const util::Error& e) {
  return e.message().find(std::strerror(EAGAIN))
         != std::string::npos; // NOLINT(concurrency-mt-unsafe)
}

void mark_start_failure(const std::string& marker) {
  UniqueFd fd(::open(marker.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  if (fd.valid()) {
    ::futimens(fd.get(), nullptr);
  }
}

} // namespace

std::string default_agent_bin(const std::string& self) {
  const char* env = std::getenv("CCREX_AGENT_BIN"); // NOLINT(concurrency-mt-unsafe)
  if (env != nullptr && *env != '\0') {
    return env;
  }
  if (self.empty()) {
    return {};
  }
  return util::join_path(util::dirname(self), "ccrexd");
}

util::Result<UniqueFd> connect_agent(const AgentClientOptions& options) {
  // Never hand descriptors and environment to a socket another user could have placed.
  CCREX_TRY(protocol::ensure_private_dir(options.paths.dir, ::getuid()));
  return protocol::connect_unix(options.paths.socket);
}

util::Status spawn_detached(const std::string& agent_bin, int ready_fd) {
  const pid_t pid = ::fork();
  if (pid < 0) {
    return util::errno_error("fork", errno);
  }
  if (pid == 0) {
    exec_daemon(agent_bin, ready_fd);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return {};
}

util::Result<UniqueFd> connect_or_start_agent(const AgentClientOptions& options) {
  auto first = connect_agent(options);
  if (first || first.error().code() == util::ErrorCode::permission_denied) {
    return first;
  }
  if (options.agent_bin.empty()) {
    return util::not_found("agent not running and no agent executable known");
  }
  UniqueFd lock(::open(options.paths.start_lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!lock.valid()) {
    return util::errno_error("opening " + options.paths.start_lock, errno);
  }
  // Whoever holds the lock is starting the agent; wait for it (or for the lock) a little
  // longer than a start may take.
  const auto wait_deadline = Clock::now() + options.start_timeout + std::chrono::milliseconds(500);
  while (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) {
    if (auto fd = connect_agent(options)) {
      return fd;
    }
    if (Clock::now() >= wait_deadline) {
      return util::Error(util::ErrorCode::deadline_exceeded, "timed out waiting for the agent");
    }
    sleep_for(k_poll_interval);
  }
  if (auto fd = connect_agent(options)) {
    return fd; // started by the previous lock holder
  }
  if (recent_start_failure(options.paths.start_failed, options.failed_start_backoff)) {
    return util::Error(util::ErrorCode::unavailable, std::string(k_start_backed_off));
  }
  if (::access(options.agent_bin.c_str(), X_OK) != 0) {
    const int err = errno;
    mark_start_failure(options.paths.start_failed);
    return util::errno_error("cannot run the agent " + options.agent_bin, err);
  }
  int pipe_fds[2]; // NOLINT(modernize-avoid-c-arrays)
  if (::pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0) {
    return util::errno_error("pipe", errno);
  }
  UniqueFd report(pipe_fds[0]);
  {
    UniqueFd ready(pipe_fds[1]); // closed here once the agent has its own copy
    CCREX_TRY(spawn_detached(options.agent_bin, ready.get()));
  }
  auto fd = wait_for_started_agent(options, report.get(), Clock::now() + options.start_timeout);
  if (fd) {
    (void)::unlink(options.paths.start_failed.c_str());
  } else {
    mark_start_failure(options.paths.start_failed);
  }
  return fd;
}

util::Result<protocol::Reply> exchange(int sock,
                                       const protocol::Request& request,
                                       const std::vector<int>& fds,
                                       std::chrono::milliseconds silence_limit) {
  const auto silent = [&] {
    return util::Error(util::ErrorCode::deadline_exceeded,
                       "the agent made no progress for "
                           + std::to_string(silence_limit.count() / 1000) + " s");
  };
  // A stuck agent does not read either: a large request must not block forever.
  (void)protocol::set_send_timeout(sock, silence_limit);
  if (auto sent = protocol::send_frame(sock, protocol::encode_request(request), fds); !sent) {
    return timed_out(sent.error()) ? silent() : sent.error();
  }
  // Nothing arrives from a stuck agent; one that works says so every keep-alive interval.
  (void)protocol::set_receive_timeout(sock, silence_limit);
  while (true) {
    CCREX_ASSIGN_OR_RETURN(const bool readable, protocol::wait_readable(sock, silence_limit));
    if (!readable) {
      return silent();
    }
    auto frame = protocol::receive_frame(sock, 0);
    if (!frame) {
      return timed_out(frame.error()) ? silent() : std::move(frame).error();
    }
    if (frame->header.version != protocol::k_protocol_version) {
      return util::Error(util::ErrorCode::failed_precondition,
                         "agent speaks protocol version " + std::to_string(frame->header.version));
    }
    CCREX_ASSIGN_OR_RETURN(auto reply, protocol::decode_reply_payload(frame->payload));
    if (reply.kind != protocol::ReplyKind::working) {
      return reply;
    }
  }
}

} // namespace ccrex::client
