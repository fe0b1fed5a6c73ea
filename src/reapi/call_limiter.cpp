#include "reapi/call_limiter.h"

#include <algorithm>
#include <string>

namespace ccrex::reapi {

CallLimiter::Slot& CallLimiter::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    release();
    m_owner = other.m_owner;
    other.m_owner = nullptr;
  }
  return *this;
}

void CallLimiter::Slot::release() {
  if (m_owner != nullptr) {
    m_owner->give_back();
    m_owner = nullptr;
  }
}

util::Result<CallLimiter::Slot> CallLimiter::acquire(std::chrono::steady_clock::time_point deadline,
                                                     const util::Cancellation* cancel) {
  if (m_limit == 0) {
    return Slot(this);
  }
  Waiter me;
  auto wake_cancelled = [this, &me] {
    const std::lock_guard lock(m_mutex);
    me.cancelled = true;
    me.wake.notify_one();
  };
  // Subscribed before the lock is taken: the callback runs at once when the flag is up.
  const auto subscription =
      cancel != nullptr ? cancel->subscribe(wake_cancelled) : util::Cancellation::Subscription();
  std::unique_lock lock(m_mutex);
  if (me.cancelled) {
    return util::Error(util::ErrorCode::cancelled, "cancelled before a call slot was free");
  }
  if (m_waiters.empty() && m_in_use < m_limit) {
    ++m_in_use;
    return Slot(this);
  }
  m_waiters.push_back(&me);
  const bool woken =
      me.wake.wait_until(lock, deadline, [&me] { return me.granted || me.cancelled; });
  if (me.granted) {
    return Slot(this); // a slot handed over wins over a deadline or a cancel at the same time
  }
  m_waiters.erase(std::find(m_waiters.begin(), m_waiters.end(), &me));
  if (woken) {
    return util::Error(util::ErrorCode::cancelled, "cancelled while waiting for a call slot");
  }
  return util::Error(util::ErrorCode::deadline_exceeded,
                     "all " + std::to_string(m_limit)
                         + " calls to the engine were busy for the whole wait (max_remote_calls)");
}

void CallLimiter::give_back() {
  if (m_limit == 0) {
    return;
  }
  const std::lock_guard lock(m_mutex);
  if (m_waiters.empty()) {
    --m_in_use;
    return;
  }
  Waiter* next = m_waiters.front();
  m_waiters.pop_front();
  next->granted = true; // the slot passes on: m_in_use stays
  next->wake.notify_one();
}

size_t CallLimiter::in_use() const {
  const std::lock_guard lock(m_mutex);
  return m_in_use;
}

size_t CallLimiter::waiting() const {
  const std::lock_guard lock(m_mutex);
  return m_waiters.size();
}

} // namespace ccrex::reapi
