#include "server/worker_pool.h"

#include "util/logging.h"

#include <algorithm>
#include <exception>

namespace ccrex::server {

WorkerPool::WorkerPool(int threads) : m_size(std::max(1, threads)) {
  m_threads.reserve(static_cast<size_t>(m_size));
  for (int i = 0; i < m_size; ++i) {
    m_threads.emplace_back([this, i] { work(i); });
  }
}

WorkerPool::~WorkerPool() {
  shutdown();
}

bool WorkerPool::submit(Job job) {
  {
    const std::lock_guard lock(m_mutex);
    if (m_stopping) {
      return false;
    }
    m_queue.push_back(std::move(job));
  }
  m_wake.notify_one();
  return true;
}

size_t WorkerPool::queued() const {
  const std::lock_guard lock(m_mutex);
  return m_queue.size();
}

size_t WorkerPool::running() const {
  const std::lock_guard lock(m_mutex);
  return m_running;
}

void WorkerPool::shutdown() {
  const std::lock_guard serial(m_shutdown_mutex);
  std::deque<Job> dropped;
  {
    const std::lock_guard lock(m_mutex);
    m_stopping = true;
    dropped.swap(m_queue);
  }
  m_wake.notify_all();
  dropped.clear(); // destroy the callables outside the lock
  for (auto& t : m_threads) {
    if (t.joinable()) {
      t.join();
    }
  }
}

void WorkerPool::work(int index) {
  std::unique_lock lock(m_mutex);
  for (;;) {
    m_wake.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
    if (m_stopping) {
      return;
    }
    Job job = std::move(m_queue.front());
    m_queue.pop_front();
    ++m_running;
    lock.unlock();
    try {
      job(index);
    } catch (const std::exception& e) {
      CCREX_LOG_ERROR("worker " << index << ": job failed: " << e.what());
    } catch (...) {
      CCREX_LOG_ERROR("worker " << index << ": job failed");
    }
    job = nullptr;
    lock.lock();
    --m_running;
  }
}

} // namespace ccrex::server
