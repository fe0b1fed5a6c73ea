#include "reapi/call_limiter.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

namespace ccrex::reapi {
namespace {

using namespace std::chrono_literals;

auto in(std::chrono::milliseconds d) {
  return std::chrono::steady_clock::now() + d;
}

// Wait (up to 10 s) until `limiter` has `n` waiters.
bool wait_for_waiters(const CallLimiter& limiter, size_t n) {
  const auto end = in(10s);
  while (limiter.waiting() != n) {
    if (std::chrono::steady_clock::now() > end) {
      return false;
    }
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

TEST(CallLimiter, GrantsUpToTheLimitAtOnceThenTimesOut) {
  CallLimiter limiter(2);
  auto a = limiter.acquire(in(10s));
  auto b = limiter.acquire(in(10s));
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  EXPECT_EQ(limiter.in_use(), 2U);
  auto c = limiter.acquire(in(50ms));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), util::ErrorCode::deadline_exceeded);
  EXPECT_NE(c.error().message().find("max_remote_calls"), std::string::npos);
  EXPECT_EQ(limiter.waiting(), 0U) << "a waiter that timed out left the queue";
  a->release();
  EXPECT_EQ(limiter.in_use(), 1U);
  EXPECT_TRUE(limiter.acquire(in(10s)));
}

TEST(CallLimiter, ZeroMeansNoLimit) {
  CallLimiter limiter(0);
  std::vector<CallLimiter::Slot> slots;
  for (int i = 0; i < 1000; ++i) {
    auto s = limiter.acquire(in(0ms));
    ASSERT_TRUE(s);
    slots.push_back(std::move(*s));
  }
}

TEST(CallLimiter, TheBoundHoldsUnderLoad) {
  constexpr size_t k_limit = 3;
  CallLimiter limiter(k_limit);
  std::atomic<int> running{0};
  std::atomic<int> peak{0};
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 24; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        auto slot = limiter.acquire(in(30s));
        ASSERT_TRUE(slot);
        const int now = ++running;
        int seen = peak.load();
        while (now > seen && !peak.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::sleep_for(100us);
        --running;
        ++done;
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(done.load(), 24 * 20);
  EXPECT_EQ(peak.load(), static_cast<int>(k_limit));
  EXPECT_EQ(limiter.in_use(), 0U);
}

TEST(CallLimiter, WaitersAreServedInArrivalOrder) {
  CallLimiter limiter(1);
  auto first = limiter.acquire(in(10s));
  ASSERT_TRUE(first);
  std::mutex m;
  std::vector<int> order;
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto slot = limiter.acquire(in(30s));
      ASSERT_TRUE(slot);
      const std::lock_guard lock(m);
      order.push_back(i);
    });
    // The next thread asks only once this one is queued.
    ASSERT_TRUE(wait_for_waiters(limiter, static_cast<size_t>(i) + 1));
  }
  first->release();
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
}

TEST(CallLimiter, ANewcomerDoesNotOvertakeAWaiter) {
  CallLimiter limiter(1);
  auto held = limiter.acquire(in(10s));
  ASSERT_TRUE(held);
  std::atomic<bool> waiter_served{false};
  std::thread waiter([&] {
    auto slot = limiter.acquire(in(30s));
    ASSERT_TRUE(slot);
    waiter_served = true;
    std::this_thread::sleep_for(20ms);
  });
  ASSERT_TRUE(wait_for_waiters(limiter, 1));
  held->release();
  // The released slot went to the waiter, not to whoever asks next.
  auto newcomer = limiter.acquire(in(10s));
  ASSERT_TRUE(newcomer);
  EXPECT_TRUE(waiter_served.load());
  waiter.join();
}

TEST(CallLimiter, ACancelledWaiterLeavesTheQueue) {
  CallLimiter limiter(1);
  auto held = limiter.acquire(in(10s));
  ASSERT_TRUE(held);
  util::Cancellation cancel;
  util::Result<CallLimiter::Slot> cancelled = util::Error(util::ErrorCode::internal, "unset");
  std::thread quitter([&] { cancelled = limiter.acquire(in(30s), &cancel); });
  ASSERT_TRUE(wait_for_waiters(limiter, 1));
  std::atomic<bool> second_served{false};
  std::thread second([&] {
    auto slot = limiter.acquire(in(30s));
    ASSERT_TRUE(slot);
    second_served = true;
  });
  ASSERT_TRUE(wait_for_waiters(limiter, 2));
  cancel.cancel();
  quitter.join();
  ASSERT_FALSE(cancelled);
  EXPECT_EQ(cancelled.error().code(), util::ErrorCode::cancelled);
  EXPECT_EQ(limiter.waiting(), 1U);
  held->release();
  second.join();
  EXPECT_TRUE(second_served.load()) << "the slot skipped the cancelled waiter";
  EXPECT_EQ(limiter.in_use(), 0U);
  // Already cancelled: refused without waiting.
  auto late = limiter.acquire(in(10s), &cancel);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code(), util::ErrorCode::cancelled);
}

TEST(CallLimiter, EveryWaiterIsServedWhileNewOnesKeepComing) {
  // One slot, a steady stream of short calls, and a waiter that came early: it must get
  // its turn long before the stream ends (no starvation).
  CallLimiter limiter(1);
  std::atomic<bool> stop{false};
  std::atomic<int> stream_calls{0};
  std::vector<std::thread> stream;
  for (int t = 0; t < 4; ++t) {
    stream.emplace_back([&] {
      while (!stop) {
        auto slot = limiter.acquire(in(30s));
        ASSERT_TRUE(slot);
        ++stream_calls;
        std::this_thread::sleep_for(200us);
      }
    });
  }
  while (stream_calls < 20) {
    std::this_thread::sleep_for(1ms);
  }
  const int before = stream_calls;
  auto mine = limiter.acquire(in(10s));
  ASSERT_TRUE(mine) << mine.error().message();
  // At most one call per thread of the stream went ahead of it.
  EXPECT_LE(stream_calls - before, 5);
  mine->release();
  stop = true;
  for (auto& t : stream) {
    t.join();
  }
}

} // namespace
} // namespace ccrex::reapi
