#pragma once

// StoreLock: one process per store directory. A server holds an exclusive flock(2) on
// <store>/lock for as long as it runs and writes its pid there, so a second server started
// on the same directory (which would delete the first one's work directories and temporary
// files) stops with an error naming the holder instead.
//
// The lock belongs to the open file, which is close-on-exec: actions never inherit it, and
// it is released when the holder exits, however it exits.
//
// Thread safety: a StoreLock is owned by one thread; acquire() may run concurrently.

#include "util/result.h"

#include <chrono>
#include <string>

namespace ccrex::server {

class StoreLock {
public:
  // Lock `dir` (created if missing), waiting up to `wait` for another holder to go away.
  // failed_precondition naming the other process (pid and program when known) when the
  // store stays locked.
  static util::Result<StoreLock> acquire(const std::string& dir, std::chrono::milliseconds wait);

  StoreLock(StoreLock&& other) noexcept;
  StoreLock& operator=(StoreLock&& other) noexcept;
  StoreLock(const StoreLock&) = delete;
  StoreLock& operator=(const StoreLock&) = delete;
  ~StoreLock();

private:
  explicit StoreLock(int fd) : m_fd(fd) {}

  int m_fd = -1;
};

} // namespace ccrex::server
