#include "server/worker_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>

namespace ccrex::server {
namespace {

using namespace std::chrono_literals;

// Wait until `pred` holds or 5 s passed.
template <typename Pred>
bool eventually(Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

TEST(WorkerPool, RunsEveryJob) {
  WorkerPool pool(3);
  std::atomic<int> done{0};
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(pool.submit([&](int) { ++done; }));
  }
  EXPECT_TRUE(eventually([&] { return done == 100; }));
}

TEST(WorkerPool, NeverRunsMoreJobsThanWorkersAndPassesTheWorkerIndex) {
  WorkerPool pool(2);
  EXPECT_EQ(pool.size(), 2);
  std::atomic<int> active{0};
  std::atomic<int> peak{0};
  std::atomic<int> done{0};
  std::mutex mutex;
  std::set<int> indices;
  for (int i = 0; i < 20; ++i) {
    pool.submit([&](int worker) {
      const int now = ++active;
      int prev = peak.load();
      while (now > prev && !peak.compare_exchange_weak(prev, now)) {
      }
      {
        const std::lock_guard lock(mutex);
        indices.insert(worker);
      }
      std::this_thread::sleep_for(2ms);
      --active;
      ++done;
    });
  }
  ASSERT_TRUE(eventually([&] { return done == 20; }));
  EXPECT_EQ(peak, 2);
  for (int idx : indices) {
    EXPECT_TRUE(idx == 0 || idx == 1) << idx;
  }
}

TEST(WorkerPool, JobsRunInSubmissionOrderOnOneWorker) {
  WorkerPool pool(1);
  std::mutex mutex;
  std::vector<int> order;
  for (int i = 0; i < 10; ++i) {
    pool.submit([&, i](int) {
      const std::lock_guard lock(mutex);
      order.push_back(i);
    });
  }
  ASSERT_TRUE(eventually([&] {
    const std::lock_guard lock(mutex);
    return order.size() == 10;
  }));
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST(WorkerPool, ThrowingJobDoesNotStopTheWorker) {
  WorkerPool pool(1);
  std::atomic<bool> ran{false};
  pool.submit([](int) { throw std::runtime_error("boom"); });
  pool.submit([&](int) { ran = true; });
  EXPECT_TRUE(eventually([&] { return ran.load(); }));
}

TEST(WorkerPool, ShutdownDropsQueuedJobsWaitsForRunningOnesAndRefusesNewOnes) {
  WorkerPool pool(1);
  std::mutex mutex;
  std::condition_variable cv;
  bool release = false;
  std::atomic<bool> started{false};
  std::atomic<bool> finished{false};
  std::atomic<int> later{0};
  pool.submit([&](int) {
    started = true;
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return release; });
    finished = true;
  });
  ASSERT_TRUE(eventually([&] { return started.load(); }));
  for (int i = 0; i < 5; ++i) {
    pool.submit([&](int) { ++later; });
  }
  EXPECT_EQ(pool.queued(), 5U);
  EXPECT_EQ(pool.running(), 1U);
  std::thread releaser([&] {
    std::this_thread::sleep_for(50ms);
    const std::lock_guard lock(mutex);
    release = true;
    cv.notify_all();
  });
  pool.shutdown();
  releaser.join();
  EXPECT_TRUE(finished);
  EXPECT_EQ(later, 0);
  EXPECT_EQ(pool.queued(), 0U);
  EXPECT_FALSE(pool.submit([&](int) { ++later; }));
  pool.shutdown(); // idempotent
}

TEST(WorkerPool, ZeroThreadsMeansOne) {
  WorkerPool pool(0);
  EXPECT_EQ(pool.size(), 1);
  std::atomic<bool> ran{false};
  pool.submit([&](int) { ran = true; });
  EXPECT_TRUE(eventually([&] { return ran.load(); }));
}

} // namespace
} // namespace ccrex::server
