#pragma once

// StoreLock: who may use a store directory at once. A standalone server holds an exclusive
// flock(2) on <store>/lock for as long as it runs and writes its pid there, so a second
// server started on the same directory stops with an error naming the holder instead.
//
// The servers embedded in agents share a store: each holds the lock shared, so any number
// of agents (of one user or of a group) use one store together while a standalone server
// stays out (and they stay out of its store). A sharing process first tries the lock
// exclusively: when that succeeds nobody else uses the store, and it may remove what
// crashed processes left behind (temporary files, work directories) before it calls
// share(). A process that finds others already sharing must leave those alone: they may be
// another agent's writes in progress.
//
// The lock belongs to the open file, which is close-on-exec: actions never inherit it, and
// it is released when the holder exits, however it exits.
//
// Thread safety: a StoreLock is owned by one thread; acquire() may run concurrently.

#include "util/result.h"

#include <chrono>
#include <string>

namespace ccrex::server {

enum class StoreLockMode {
  exclusive, // a standalone server: the store is its alone
  shared,    // an embedded server: other sharing processes may use the store too
};

class StoreLock {
public:
  // Lock `dir` (created if missing), waiting up to `wait` for a holder that excludes this
  // one to go away. failed_precondition naming the other process (pid and program when
  // known) when the store stays locked.
  static util::Result<StoreLock> acquire(const std::string& dir,
                                         std::chrono::milliseconds wait,
                                         StoreLockMode mode = StoreLockMode::exclusive);

  // Whether this process holds the lock exclusively: no other process uses the store, so
  // leftovers in it belong to nobody. Always true in exclusive mode; in shared mode until
  // share().
  bool alone() const { return m_exclusive; }
  // Shared mode, once leftovers are cleaned up: let other sharing processes in. Fails when
  // a standalone server took the store in between (the conversion is not atomic).
  util::Status share();

  StoreLock(StoreLock&& other) noexcept;
  StoreLock& operator=(StoreLock&& other) noexcept;
  StoreLock(const StoreLock&) = delete;
  StoreLock& operator=(const StoreLock&) = delete;
  ~StoreLock();

private:
  StoreLock(int fd, std::string dir) : m_fd(fd), m_dir(std::move(dir)) {}

  int m_fd = -1;
  std::string m_dir;
  bool m_exclusive = true;
};

} // namespace ccrex::server
