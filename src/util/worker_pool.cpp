#include "util/worker_pool.h"

#include "util/logging.h"

#include <algorithm>
#include <cstdint>
#include <exception>
#include <system_error>
#include <utility>

namespace ccrex::util {
namespace {

thread_local size_t t_worker_index = SIZE_MAX;

} // namespace

WorkerPool::WorkerPool(WorkerPoolOptions options) : m_options(options) {}

WorkerPool::~WorkerPool() {
  drain();
}

bool WorkerPool::submit(std::function<void()> task) {
  const std::lock_guard lock(m_mutex);
  if (m_draining) {
    return false;
  }
  reap_ended();
  if (!m_idle.empty()) {
    Worker* w = m_idle.back();
    m_idle.pop_back();
    w->task = std::move(task);
    w->wake.notify_one();
    return true;
  }
  if (m_alive < std::max<size_t>(1, m_options.max_threads)) {
    const size_t index = free_index();
    Worker& w = m_workers.emplace_back();
    w.task = std::move(task);
    w.index = index;
    try {
      w.thread = std::thread([this, &w] { run(w); });
    } catch (const std::system_error& e) {
      CCREX_LOG_WARN("cannot start a worker thread: " << e.what());
      task = std::move(w.task);
      m_workers.pop_back();
      if (m_alive == 0) {
        return false; // nobody would ever run it
      }
      m_queue.push_back(std::move(task));
      return true;
    }
    ++m_alive;
    return true;
  }
  m_queue.push_back(std::move(task));
  return true;
}

void WorkerPool::run(Worker& self) {
  std::unique_lock lock(m_mutex);
  t_worker_index = self.index;
  while (true) {
    std::function<void()> task;
    if (self.task) {
      task = std::exchange(self.task, nullptr);
    } else if (!m_queue.empty()) {
      task = std::move(m_queue.front());
      m_queue.pop_front();
    }
    if (task) {
      lock.unlock();
      try {
        task();
      } catch (const std::exception& e) {
        CCREX_LOG_ERROR("worker task failed: " << e.what());
      } catch (...) {
        CCREX_LOG_ERROR("worker task failed");
      }
      task = nullptr; // whatever it captured goes before the next wait
      lock.lock();
      continue;
    }
    if (m_draining) {
      break;
    }
    m_idle.push_back(&self);
    const bool woken =
        self.wake.wait_for(lock, m_options.retire_after, [&] { return self.task || m_draining; });
    if (!self.task) { // submit() takes a worker off the idle list when it hands it a task
      m_idle.erase(std::find(m_idle.begin(), m_idle.end(), &self));
    }
    if (!woken) {
      break; // idle for retire_after: end; the next task that finds none idle starts one
    }
  }
  self.ended = true;
  --m_alive;
}

void WorkerPool::reap_ended() {
  for (auto it = m_workers.begin(); it != m_workers.end();) {
    if (it->ended) {
      it->thread.join(); // it has let go of the mutex and is returning
      it = m_workers.erase(it);
    } else {
      ++it;
    }
  }
}

size_t WorkerPool::free_index() const {
  std::vector<bool> used(m_workers.size() + 1, false);
  for (const Worker& w : m_workers) {
    if (w.index < used.size()) {
      used[w.index] = true;
    }
  }
  return static_cast<size_t>(std::find(used.begin(), used.end(), false) - used.begin());
}

size_t WorkerPool::current_index() {
  return t_worker_index;
}

size_t WorkerPool::queued() const {
  const std::lock_guard lock(m_mutex);
  return m_queue.size();
}

size_t WorkerPool::threads() const {
  const std::lock_guard lock(m_mutex);
  return m_alive;
}

size_t WorkerPool::idle_threads() const {
  const std::lock_guard lock(m_mutex);
  return m_idle.size();
}

void WorkerPool::drain() {
  const std::lock_guard draining(m_drain_mutex);
  {
    const std::lock_guard lock(m_mutex);
    m_draining = true;
    for (Worker* w : m_idle) {
      w->wake.notify_one();
    }
  }
  // No one adds or removes workers once m_draining is set (submit() refuses first).
  for (Worker& w : m_workers) {
    if (w.thread.joinable()) {
      w.thread.join();
    }
  }
  const std::lock_guard lock(m_mutex);
  m_workers.clear();
}

} // namespace ccrex::util
