#pragma once

// CallLimiter: at most `limit` calls to one engine at a time, the others waiting in the
// order they came. A compile that waits is served before any compile that asks after it,
// so a steady stream of new work cannot starve an older one, and one that gives up
// (its deadline passed, its client hung up) leaves the queue without holding up the rest.
//
//   CallLimiter limiter(64);
//   auto slot = limiter.acquire(deadline, &cancellation);
//   if (!slot) { return slot.error(); }      // deadline_exceeded or cancelled
//   ... the call; the slot is released when `slot` goes away
//
// A released slot goes straight to the oldest waiter, so the count never drops below the
// limit while anyone waits.
//
// Thread safety: all methods may be called concurrently. A Slot must not outlive its
// limiter.

#include "util/cancellation.h"
#include "util/result.h"

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <list>
#include <mutex>

namespace ccrex::reapi {

class CallLimiter {
public:
  // Permission for one call; gives the slot back when destroyed.
  class Slot {
  public:
    Slot() = default;
    Slot(Slot&& other) noexcept : m_owner(other.m_owner) { other.m_owner = nullptr; }
    Slot& operator=(Slot&& other) noexcept;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() { release(); }

    // Give the slot back now.
    void release();

  private:
    friend class CallLimiter;
    explicit Slot(CallLimiter* owner) : m_owner(owner) {}
    CallLimiter* m_owner = nullptr;
  };

  // Allow `limit` calls at once; 0 means no limit.
  explicit CallLimiter(size_t limit) : m_limit(limit) {}
  CallLimiter(const CallLimiter&) = delete;
  CallLimiter& operator=(const CallLimiter&) = delete;

  // Wait for a slot until `deadline` or until `cancel` (may be null) is raised. Errors:
  // deadline_exceeded (naming the limit), cancelled.
  util::Result<Slot> acquire(std::chrono::steady_clock::time_point deadline,
                             const util::Cancellation* cancel = nullptr);

  size_t limit() const { return m_limit; }
  // Calls holding a slot now.
  size_t in_use() const;
  // Callers waiting for a slot now.
  size_t waiting() const;

private:
  struct Waiter {
    std::condition_variable wake;
    bool granted = false;
    bool cancelled = false;
  };

  void give_back();

  const size_t m_limit;
  mutable std::mutex m_mutex;
  size_t m_in_use = 0;          // guarded by m_mutex
  std::list<Waiter*> m_waiters; // guarded by m_mutex; oldest first
};

} // namespace ccrex::reapi
