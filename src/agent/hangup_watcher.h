#pragma once

// HangupWatcher: one thread that watches the connection of every running compile and
// cancels a compile as soon as its client hangs up (a client sends nothing after its
// request, so any hang-up means it went away: killed, or its build was interrupted).
//
//   HangupWatcher watcher;
//   {
//     const auto watch = watcher.watch(fd, cancel); // until the compile is answered
//     handler.compile(...);
//   }
//
// One epoll set serves every connection: a compile costs two epoll_ctl calls, not a thread
// of its own. The thread starts with the first watch. Each registration has an id of its
// own, so an event that arrives after its compile ended (and its descriptor was reused)
// finds nothing to cancel.
//
// Thread safety: watch() and Watch's destructor may be called from any thread.

#include "util/cancellation.h"

#include <cstdint>
#include <memory>

namespace ccrex::agent {

class HangupWatcher {
public:
  HangupWatcher();
  ~HangupWatcher();
  HangupWatcher(const HangupWatcher&) = delete;
  HangupWatcher& operator=(const HangupWatcher&) = delete;

  // Stops watching when destroyed; before the descriptor is closed.
  class Watch {
  public:
    Watch() = default;
    Watch(Watch&& other) noexcept;
    Watch& operator=(Watch&&) = delete;
    ~Watch();

  private:
    friend class HangupWatcher;
    Watch(HangupWatcher* owner, int fd, uint64_t id) : m_owner(owner), m_fd(fd), m_id(id) {}
    HangupWatcher* m_owner = nullptr;
    int m_fd = -1;
    uint64_t m_id = 0;
  };

  // Cancel `cancel` when the peer of the socket `fd` hangs up, while the returned Watch
  // lives. Without an epoll set or thread (no resources), nothing is watched: the compile
  // then runs to its end.
  [[nodiscard]] Watch watch(int fd, util::Cancellation& cancel);

private:
  struct Impl;
  void unwatch(int fd, uint64_t id);
  std::unique_ptr<Impl> m_impl;
};

} // namespace ccrex::agent
