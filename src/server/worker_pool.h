#pragma once

// WorkerPool: a fixed number of threads taking jobs from one FIFO queue.
//
// Jobs are plain callables. A job that throws is logged and dropped; the worker goes on.
// shutdown() stops accepting jobs, discards those still queued (they never run; their
// callables are destroyed), waits for the running ones to return and joins the threads.
// The destructor calls shutdown().
//
// Thread safety: submit(), queued(), running() and shutdown() may be called from any
// thread, concurrently; shutdown() must not be called from inside a job.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ccrex::server {

class WorkerPool {
public:
  using Job = std::function<void(int worker_index)>;

  // Start `threads` workers (at least one).
  explicit WorkerPool(int threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queue `job`; it receives the index (0..size()-1) of the worker running it. Return false
  // (and drop the job) after shutdown().
  bool submit(Job job);

  // Jobs waiting for a worker / jobs being run right now.
  size_t queued() const;
  size_t running() const;
  int size() const { return m_size; }

  // See the class comment. Idempotent.
  void shutdown();

private:
  void work(int index);

  const int m_size;
  std::mutex m_shutdown_mutex; // serialises shutdown() calls
  mutable std::mutex m_mutex;
  std::condition_variable m_wake;
  std::deque<Job> m_queue; // guarded by m_mutex
  size_t m_running = 0;    // guarded by m_mutex
  bool m_stopping = false; // guarded by m_mutex
  std::vector<std::thread> m_threads;
};

} // namespace ccrex::server
