#pragma once

// Unix-socket plumbing shared by the client and the agent: connecting, listening, and
// moving whole frames (see messages.h) with file descriptors attached (SCM_RIGHTS).
//
// Thread safety: functions are independent; a descriptor must not be used by two threads
// at once.

#include "protocol/messages.h"
#include "util/result.h"

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace ccrex::protocol {

// Owns one file descriptor and closes it on destruction.
class UniqueFd {
public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : m_fd(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : m_fd(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset(other.release());
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const { return m_fd; }
  bool valid() const { return m_fd >= 0; }
  int release() {
    const int fd = m_fd;
    m_fd = -1;
    return fd;
  }
  // Close the current descriptor (if any) and take `fd`.
  void reset(int fd = -1);

private:
  int m_fd = -1;
};

// Connect a stream socket to `path`. Paths longer than sockaddr_un allows are reached
// through /proc/self/fd. The descriptor is close-on-exec.
util::Result<UniqueFd> connect_unix(const std::string& path);

// Create a listening stream socket bound to `path` (which must not exist), close-on-exec.
util::Result<UniqueFd> listen_unix(const std::string& path, int backlog);

// Make reads on `fd` fail with a timeout error after `timeout` without data (0 = never).
util::Status set_receive_timeout(int fd, std::chrono::milliseconds timeout);
// Make writes on `fd` fail with a timeout error after `timeout` without progress (0 = never).
util::Status set_send_timeout(int fd, std::chrono::milliseconds timeout);

// Wait until `fd` has something to read (data, end of file or an error): true, or false
// when `timeout` passed first.
util::Result<bool> wait_readable(int fd, std::chrono::milliseconds timeout);

// Write the whole small `frame` now or not at all, without blocking: false when the socket
// has no room (nothing written). A partial write (not expected for frames of a few bytes)
// fails with data_loss (the stream is broken), a closed peer with another error.
util::Result<bool> try_send_frame(int sock, std::string_view frame);

// Write all of `frame` to `sock`; `fds` travel with the first bytes. Never raises SIGPIPE.
util::Status send_frame(int sock, std::string_view frame, const std::vector<int>& fds = {});

struct ReceivedFrame {
  FrameHeader header;
  // The payload; read only when header.version == k_protocol_version, else empty.
  std::string payload;
  // Descriptors that arrived with the frame (close-on-exec), at most `max_fds`.
  std::vector<UniqueFd> fds;
};

// Read one frame from `sock`. Fails on end of file or errors before a complete frame, on a
// bad header, and when more than `max_fds` descriptors arrive (they are all closed then).
util::Result<ReceivedFrame> receive_frame(int sock, size_t max_fds);

} // namespace ccrex::protocol
