#include "util/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <future>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace ccrex::util {
namespace {

using namespace std::chrono_literals;

// Wait (up to a generous bound) until `pool` has `n` threads (`n` idle ones with `idle`).
bool pool_threads_become(const WorkerPool& pool, size_t n, bool idle = false) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while ((idle ? pool.idle_threads() : pool.threads()) != n) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// Holds every task that calls wait() until open() (a latch the test releases).
class PoolGate {
public:
  void wait() {
    std::unique_lock lock(m_mutex);
    ++m_waiting;
    m_changed.notify_all();
    m_changed.wait(lock, [&] { return m_open; });
  }
  bool wait_for_waiters(int n) {
    std::unique_lock lock(m_mutex);
    return m_changed.wait_for(lock, 10s, [&] { return m_waiting >= n; });
  }
  void open() {
    const std::lock_guard lock(m_mutex);
    m_open = true;
    m_changed.notify_all();
  }

private:
  std::mutex m_mutex;
  std::condition_variable m_changed;
  int m_waiting = 0;
  bool m_open = false;
};

TEST(ElasticWorkerPool, StartsNoThreadUntilATaskComes) {
  WorkerPool pool({.max_threads = 8, .retire_after = 10s});
  EXPECT_EQ(pool.threads(), 0U);
  std::promise<void> ran;
  ASSERT_TRUE(pool.submit([&] { ran.set_value(); }));
  ran.get_future().wait();
  EXPECT_EQ(pool.threads(), 1U);
}

TEST(ElasticWorkerPool, SequentialTasksReuseOneThread) {
  WorkerPool pool({.max_threads = 8, .retire_after = 10s});
  std::set<std::thread::id> ids;
  for (int i = 0; i < 20; ++i) {
    // Each task comes once the thread is back waiting (a task submitted while the only
    // thread is still on its way back starts a second one, as it should).
    ASSERT_TRUE(i == 0 || pool_threads_become(pool, 1, true));
    std::promise<std::thread::id> id;
    ASSERT_TRUE(pool.submit([&] { id.set_value(std::this_thread::get_id()); }));
    ids.insert(id.get_future().get());
  }
  EXPECT_EQ(ids.size(), 1U);
  EXPECT_EQ(pool.threads(), 1U);
}

TEST(ElasticWorkerPool, GrowsToTheConcurrencyAndNoFurther) {
  WorkerPool pool({.max_threads = 3, .retire_after = 10s});
  PoolGate gate;
  std::atomic<int> done{0};
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(pool.submit([&] {
      gate.wait();
      ++done;
    }));
  }
  ASSERT_TRUE(gate.wait_for_waiters(3));
  EXPECT_EQ(pool.threads(), 3U);
  EXPECT_EQ(pool.queued(), 2U);
  gate.open();
  pool.drain();
  EXPECT_EQ(done.load(), 5);
  EXPECT_EQ(pool.threads(), 0U);
}

TEST(ElasticWorkerPool, TheMostRecentlyIdleThreadGetsTheNextTask) {
  WorkerPool pool({.max_threads = 4, .retire_after = 10s});
  PoolGate gate;
  std::vector<std::promise<std::thread::id>> ids(3);
  for (auto& id : ids) {
    ASSERT_TRUE(pool.submit([&] {
      id.set_value(std::this_thread::get_id());
      gate.wait();
    }));
  }
  ASSERT_TRUE(gate.wait_for_waiters(3));
  gate.open();
  ASSERT_TRUE(pool_threads_become(pool, 3));
  std::set<std::thread::id> started;
  for (auto& id : ids) {
    started.insert(id.get_future().get());
  }
  // Once all three are idle, run one task at a time: the same thread takes each.
  std::set<std::thread::id> used;
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(pool_threads_become(pool, 3, true));
    std::promise<std::thread::id> id;
    ASSERT_TRUE(pool.submit([&] { id.set_value(std::this_thread::get_id()); }));
    used.insert(id.get_future().get());
  }
  EXPECT_EQ(used.size(), 1U);
  EXPECT_TRUE(started.count(*used.begin()) == 1);
}

TEST(ElasticWorkerPool, IdleThreadsEndAndANewTaskStartsOne) {
  WorkerPool pool({.max_threads = 4, .retire_after = 100ms});
  PoolGate gate;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(pool.submit([&] { gate.wait(); }));
  }
  ASSERT_TRUE(gate.wait_for_waiters(4));
  EXPECT_EQ(pool.threads(), 4U);
  gate.open();
  EXPECT_TRUE(pool_threads_become(pool, 0));
  std::promise<void> ran;
  ASSERT_TRUE(pool.submit([&] { ran.set_value(); }));
  EXPECT_EQ(ran.get_future().wait_for(10s), std::future_status::ready);
  EXPECT_EQ(pool.threads(), 1U);
}

TEST(ElasticWorkerPool, ABusyThreadDoesNotRetire) {
  WorkerPool pool({.max_threads = 1, .retire_after = 20ms});
  std::promise<void> ran;
  ASSERT_TRUE(pool.submit([&] {
    std::this_thread::sleep_for(200ms);
    ran.set_value();
  }));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(pool.threads(), 1U);
  ran.get_future().wait();
}

TEST(ElasticWorkerPool, DrainRunsQueuedTasksAndRefusesNewOnes) {
  WorkerPool pool({.max_threads = 1, .retire_after = 10s});
  std::atomic<int> done{0};
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(pool.submit([&] {
      std::this_thread::sleep_for(1ms);
      ++done;
    }));
  }
  pool.drain();
  EXPECT_EQ(done.load(), 10);
  EXPECT_FALSE(pool.submit([&] { ++done; }));
  EXPECT_EQ(done.load(), 10);
}

TEST(ElasticWorkerPool, QueuedTasksStartInArrivalOrder) {
  WorkerPool pool({.max_threads = 1, .retire_after = 10s});
  PoolGate gate;
  ASSERT_TRUE(pool.submit([&] { gate.wait(); }));
  ASSERT_TRUE(gate.wait_for_waiters(1));
  std::mutex mutex;
  std::vector<int> order;
  std::vector<int> want;
  for (int i = 0; i < 20; ++i) {
    want.push_back(i);
    ASSERT_TRUE(pool.submit([&, i] {
      const std::lock_guard lock(mutex);
      order.push_back(i);
    }));
  }
  EXPECT_EQ(pool.queued(), 20U);
  gate.open();
  pool.drain();
  EXPECT_EQ(order, want);
}

TEST(ElasticWorkerPool, EachLiveThreadHasItsOwnIndexBelowTheMaximum) {
  EXPECT_EQ(WorkerPool::current_index(), SIZE_MAX);
  WorkerPool pool({.max_threads = 3, .retire_after = 10s});
  PoolGate gate;
  std::mutex mutex;
  std::multiset<size_t> indices;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(pool.submit([&] {
      {
        const std::lock_guard lock(mutex);
        indices.insert(WorkerPool::current_index());
      }
      gate.wait();
    }));
  }
  ASSERT_TRUE(gate.wait_for_waiters(3));
  EXPECT_EQ(indices, (std::multiset<size_t>{0, 1, 2}));
  gate.open();
  ASSERT_TRUE(pool_threads_become(pool, 3, true));
  // A later task runs on one of them, under its index.
  std::promise<size_t> later;
  ASSERT_TRUE(pool.submit([&] { later.set_value(WorkerPool::current_index()); }));
  EXPECT_LT(later.get_future().get(), 3U);
}

TEST(ElasticWorkerPool, ANewThreadTakesTheIndexARetiredOneLeft) {
  WorkerPool pool({.max_threads = 4, .retire_after = 50ms});
  std::promise<size_t> first;
  ASSERT_TRUE(pool.submit([&] { first.set_value(WorkerPool::current_index()); }));
  EXPECT_EQ(first.get_future().get(), 0U);
  ASSERT_TRUE(pool_threads_become(pool, 0));
  std::promise<size_t> second;
  ASSERT_TRUE(pool.submit([&] { second.set_value(WorkerPool::current_index()); }));
  EXPECT_EQ(second.get_future().get(), 0U);
}

TEST(ElasticWorkerPool, ATaskThatThrowsDoesNotEndItsThread) {
  WorkerPool pool({.max_threads = 1, .retire_after = 10s});
  std::promise<std::thread::id> first;
  ASSERT_TRUE(pool.submit([&] {
    first.set_value(std::this_thread::get_id());
    throw std::runtime_error("boom");
  }));
  const auto id = first.get_future().get();
  std::promise<std::thread::id> second;
  ASSERT_TRUE(pool.submit([&] { second.set_value(std::this_thread::get_id()); }));
  EXPECT_EQ(second.get_future().get(), id);
}

} // namespace
} // namespace ccrex::util
