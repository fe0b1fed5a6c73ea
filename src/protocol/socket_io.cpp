#include "protocol/socket_io.h"

#include "util/file.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace ccrex::protocol {
namespace {

// The maximum number of descriptors one message may carry (the kernel's own limit is 253).
constexpr size_t k_max_fds_per_message = 16;

// A sockaddr_un for `path`. When the path does not fit, the parent directory is opened and
// the address refers to it as /proc/self/fd/N/name; `dir` keeps it open meanwhile.
util::Result<sockaddr_un> make_address(const std::string& path, UniqueFd& dir) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string target = path;
  if (target.size() >= sizeof(addr.sun_path)) {
    const std::string parent = util::dirname(path);
    dir.reset(::open(parent.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid()) {
      return util::errno_error("opening " + parent, errno);
    }
    target = "/proc/self/fd/" + std::to_string(dir.get()) + "/" + std::string(util::basename(path));
    if (target.size() >= sizeof(addr.sun_path)) {
      return util::invalid_argument("socket name too long: " + path);
    }
  }
  std::memcpy(addr.sun_path, target.c_str(), target.size() + 1);
  return addr;
}

util::Result<UniqueFd> new_socket() {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    return util::errno_error("socket", errno);
  }
  return fd;
}

// Keep the descriptors of every SCM_RIGHTS message in `msg`; fail if any were cut off.
util::Status collect_fds(msghdr& msg, std::vector<UniqueFd>& out) {
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
      continue;
    }
    const size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < n; ++i) {
      int fd = -1;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      out.emplace_back(fd);
    }
  }
  if ((msg.msg_flags & MSG_CTRUNC) != 0) {
    return util::invalid_argument("too many file descriptors in message");
  }
  return {};
}

// Read exactly `size` bytes into `buf`, collecting any descriptors that arrive.
// NOLINTNEXTLINE(readability-non-const-parameter): filled through the iovec
util::Status read_exact(int sock, char* buf, size_t size, std::vector<UniqueFd>& fds) {
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * k_max_fds_per_message)];
  size_t done = 0;
  while (done < size) {
    iovec iov{buf + done, size - done};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    const ssize_t n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return util::errno_error("reading from socket", errno);
    }
    CCREX_TRY(collect_fds(msg, fds));
    if (n == 0) {
      return util::Error(util::ErrorCode::unavailable, "connection closed by peer");
    }
    done += static_cast<size_t>(n);
  }
  return {};
}

} // namespace

void UniqueFd::reset(int fd) {
  if (m_fd >= 0) {
    ::close(m_fd);
  }
  m_fd = fd;
}

util::Result<UniqueFd> connect_unix(const std::string& path) {
  UniqueFd dir;
  CCREX_ASSIGN_OR_RETURN(const sockaddr_un addr, make_address(path, dir));
  CCREX_ASSIGN_OR_RETURN(UniqueFd fd, new_socket());
  int rc = 0;
  do {
    rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    return util::errno_error("connecting to " + path, errno);
  }
  return fd;
}

util::Result<UniqueFd> listen_unix(const std::string& path, int backlog) {
  UniqueFd dir;
  CCREX_ASSIGN_OR_RETURN(const sockaddr_un addr, make_address(path, dir));
  CCREX_ASSIGN_OR_RETURN(UniqueFd fd, new_socket());
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    return util::errno_error("binding " + path, errno);
  }
  if (::listen(fd.get(), backlog) != 0) {
    return util::errno_error("listening on " + path, errno);
  }
  return fd;
}

namespace {
util::Status set_timeout(int fd, int option, std::chrono::milliseconds timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  if (::setsockopt(fd, SOL_SOCKET, option, &tv, sizeof(tv)) != 0) {
    return util::errno_error(
        option == SO_RCVTIMEO ? "setsockopt(SO_RCVTIMEO)" : "setsockopt(SO_SNDTIMEO)", errno);
  }
  return {};
}
} // namespace

util::Status set_receive_timeout(int fd, std::chrono::milliseconds timeout) {
  return set_timeout(fd, SO_RCVTIMEO, timeout);
}

util::Status set_send_timeout(int fd, std::chrono::milliseconds timeout) {
  return set_timeout(fd, SO_SNDTIMEO, timeout);
}

util::Result<bool> wait_readable(int fd, std::chrono::milliseconds timeout) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + timeout;
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd p{fd, POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::max<int64_t>(0, left.count())));
    if (n > 0) {
      return true;
    }
    if (n == 0) {
      return false;
    }
    if (errno != EINTR) {
      return util::errno_error("poll", errno);
    }
  }
}

util::Result<bool> try_send_frame(int sock, std::string_view frame) {
  ssize_t n = 0;
  do {
    n = ::send(sock, frame.data(), frame.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
    return false;
  }
  if (n < 0) {
    return util::errno_error("writing to socket", errno);
  }
  if (static_cast<size_t>(n) != frame.size()) {
    return util::Error(util::ErrorCode::data_loss, "frame written in part");
  }
  return true;
}

util::Status send_frame(int sock, std::string_view frame, const std::vector<int>& fds) {
  if (fds.size() > k_max_fds_per_message) {
    return util::invalid_argument("too many file descriptors to send");
  }
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * k_max_fds_per_message)];
  size_t done = 0;
  bool fds_sent = fds.empty();
  while (done < frame.size()) {
    iovec iov{const_cast<char*>(frame.data() + done), frame.size() - done}; // NOLINT
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    if (!fds_sent) {
      msg.msg_control = control;
      msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
      cmsghdr* c = CMSG_FIRSTHDR(&msg);
      c->cmsg_level = SOL_SOCKET;
      c->cmsg_type = SCM_RIGHTS;
      c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
      std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
    }
    const ssize_t n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return util::errno_error("writing to socket", errno);
    }
    fds_sent = true;
    done += static_cast<size_t>(n);
  }
  return {};
}

util::Result<ReceivedFrame> receive_frame(int sock, size_t max_fds) {
  ReceivedFrame frame;
  std::string header(k_header_size, '\0');
  util::Status status = read_exact(sock, header.data(), header.size(), frame.fds);
  if (status) {
    auto decoded = decode_header(header);
    if (decoded) {
      frame.header = *decoded;
    } else {
      status = std::move(decoded).error();
    }
  }
  if (status && frame.header.version == k_protocol_version) {
    frame.payload.resize(frame.header.payload_size);
    status = read_exact(sock, frame.payload.data(), frame.payload.size(), frame.fds);
  }
  if (status && frame.fds.size() > max_fds) {
    status = util::invalid_argument("unexpected file descriptors in message");
  }
  if (!status) {
    return std::move(status).error();
  }
  return frame;
}

} // namespace ccrex::protocol
