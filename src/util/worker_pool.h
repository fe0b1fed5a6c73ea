#pragma once

// WorkerPool: threads that run submitted tasks, started only when a task finds none idle
// (up to a maximum), and ended once they have been idle for a while. A task goes to the
// thread that became idle last, so a light load keeps reusing the same one or two threads
// and the others time out. A process that serves bursts of requests then holds, between
// bursts, no threads at all, and at any time no more than its recent concurrency needed:
// every thread that allocates takes a malloc arena of its own (glibc), and a thread's stack
// is handed back when it ends.
//
// Tasks that find every allowed thread busy wait in one queue and start in arrival order.
// Each thread has an index below max_threads that no other live thread of the pool has
// (the lowest free one when it starts), which a task can name its worker by.
//
//   WorkerPool pool({.max_threads = 8, .retire_after = std::chrono::seconds(5)});
//   pool.submit([] { ... WorkerPool::current_index() ... });
//   pool.drain(); // runs what was submitted, then ends every thread (also the destructor)
//
// Thread safety: every method may be called from any thread, except that drain() and the
// destructor must not be called from a task.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

namespace ccrex::util {

struct WorkerPoolOptions {
  // Threads running at most at once; tasks beyond wait in arrival order. At least one.
  size_t max_threads = 1;
  // A thread idle this long ends (the next task starts a new one).
  std::chrono::milliseconds retire_after = std::chrono::seconds(5);
};

class WorkerPool {
public:
  explicit WorkerPool(WorkerPoolOptions options);
  // drain().
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Run `task` on the most recently idle thread, on a new thread when none is idle and
  // fewer than max_threads run, or else after the tasks already waiting. Returns false
  // (and drops `task`) once drain() has begun.
  bool submit(std::function<void()> task);

  // Tasks submitted and not yet started.
  size_t queued() const;
  // Threads alive (running a task or idle).
  size_t threads() const;
  // Threads alive and waiting for a task.
  size_t idle_threads() const;

  // Stop taking tasks, run every task already submitted and end every thread.
  void drain();

  // The index of the pool thread calling this (see the class comment); SIZE_MAX on a
  // thread no WorkerPool started.
  static size_t current_index();

private:
  struct Worker {
    std::thread thread;
    std::condition_variable wake;
    std::function<void()> task; // handed over while the worker is idle
    size_t index = 0;
    bool ended = false;
  };

  void run(Worker& self);
  // Join the threads of workers that ended by themselves. Requires m_mutex.
  void reap_ended();
  // The lowest index no worker in m_workers has. Requires m_mutex.
  size_t free_index() const;

  const WorkerPoolOptions m_options;
  std::mutex m_drain_mutex; // one drain() at a time
  mutable std::mutex m_mutex;
  std::list<Worker> m_workers;               // guarded by m_mutex; stable addresses
  std::vector<Worker*> m_idle;               // guarded by m_mutex; last is the most recent
  std::deque<std::function<void()>> m_queue; // guarded by m_mutex
  size_t m_alive = 0;                        // guarded by m_mutex
  bool m_draining = false;                   // guarded by m_mutex
};

} // namespace ccrex::util
