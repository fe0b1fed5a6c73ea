#include "agent/hangup_watcher.h"

#include "util/logging.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace ccrex::agent {
namespace {

// The eventfd that stops the thread is registered under this id; watches count from 1.
constexpr uint64_t k_stop_id = 0;

} // namespace

struct HangupWatcher::Impl {
  std::mutex mutex;
  int epoll_fd = -1; // guarded by mutex until the thread starts, then fixed
  int stop_fd = -1;
  std::thread thread;
  uint64_t next_id = 1;                                      // guarded by mutex
  std::unordered_map<uint64_t, util::Cancellation*> watched; // guarded by mutex

  bool start_locked();
  void run();
};

bool HangupWatcher::Impl::start_locked() {
  if (thread.joinable()) {
    return true;
  }
  if (epoll_fd < 0) {
    epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  }
  if (stop_fd < 0) {
    stop_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  }
  if (epoll_fd < 0 || stop_fd < 0) {
    return false;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = k_stop_id;
  if (::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, stop_fd, &ev) != 0 && errno != EEXIST) {
    return false;
  }
  try {
    thread = std::thread([this] { run(); });
  } catch (const std::system_error&) {
    return false;
  }
  return true;
}

void HangupWatcher::Impl::run() {
  std::array<epoll_event, 16> events{};
  for (;;) {
    const int n = ::epoll_wait(epoll_fd, events.data(), static_cast<int>(events.size()), -1);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      CCREX_LOG_WARN("watching clients for hang-ups stopped: epoll_wait failed");
      return;
    }
    const std::lock_guard lock(mutex);
    for (int i = 0; i < n; ++i) {
      const uint64_t id = events[static_cast<size_t>(i)].data.u64;
      if (id == k_stop_id) {
        return;
      }
      // EPOLLONESHOT: the descriptor reports once; its Watch removes it later.
      if (const auto it = watched.find(id); it != watched.end()) {
        CCREX_LOG_INFO("client went away; cancelling its compile");
        it->second->cancel();
        watched.erase(it);
      }
    }
  }
}

HangupWatcher::HangupWatcher() : m_impl(std::make_unique<Impl>()) {}

HangupWatcher::~HangupWatcher() {
  if (m_impl->thread.joinable()) {
    const uint64_t one = 1;
    (void)!::write(m_impl->stop_fd, &one, sizeof one);
    m_impl->thread.join();
  }
  for (const int fd : {m_impl->epoll_fd, m_impl->stop_fd}) {
    if (fd >= 0) {
      ::close(fd);
    }
  }
}

HangupWatcher::Watch HangupWatcher::watch(int fd, util::Cancellation& cancel) {
  const std::lock_guard lock(m_impl->mutex);
  if (!m_impl->start_locked()) {
    return {};
  }
  const uint64_t id = m_impl->next_id++;
  epoll_event ev{};
  ev.events = EPOLLRDHUP | EPOLLONESHOT; // EPOLLHUP and EPOLLERR are always reported
  ev.data.u64 = id;
  if (::epoll_ctl(m_impl->epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0) {
    return {};
  }
  m_impl->watched.emplace(id, &cancel);
  return Watch(this, fd, id);
}

void HangupWatcher::unwatch(int fd, uint64_t id) {
  const std::lock_guard lock(m_impl->mutex);
  m_impl->watched.erase(id);
  (void)::epoll_ctl(m_impl->epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
}

HangupWatcher::Watch::Watch(Watch&& other) noexcept
    : m_owner(other.m_owner),
      m_fd(other.m_fd),
      m_id(other.m_id) {
  other.m_owner = nullptr;
}

HangupWatcher::Watch::~Watch() {
  if (m_owner != nullptr) {
    m_owner->unwatch(m_fd, m_id);
  }
}

} // namespace ccrex::agent
