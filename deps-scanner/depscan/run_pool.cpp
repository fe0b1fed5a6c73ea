#include "depscan/run_pool.h"

#include "depscan/content_hash.h"

#include <cstring>
#include <new>

namespace ccrex::depscan {
namespace {

// The allocator's own header and rounding, as glibc's malloc has them on 64-bit systems.
size_t allocation_cost(size_t n) {
  constexpr size_t k_header = sizeof(size_t);
  constexpr size_t k_granule = 16;
  return (n + k_header + k_granule - 1) / k_granule * k_granule;
}

} // namespace

size_t RunPool::RunHash::operator()(std::string_view bytes) const noexcept {
  return content_hash(bytes);
}

size_t RunPool::stored_cost(size_t n) {
  // The run's allocation and the set's node (next pointer and the run's address).
  return allocation_cost(sizeof(Run) + n) + allocation_cost(2 * sizeof(void*));
}

size_t RunPool::pooled_cost(size_t n) {
  return stored_cost(n) + sizeof(void*); // and about one bucket
}

RunPool::~RunPool() {
  for (Run* run : m_runs) {
    free_run(run);
  }
}

void RunPool::free_run(Run* run) {
  run->~Run();
  ::operator delete(static_cast<void*>(run));
}

void RunPool::acquire(std::span<const std::string> runs, std::vector<const Run*>& out) {
  out.reserve(out.size() + runs.size());
  const std::lock_guard lock(m_mutex);
  for (const std::string& bytes : runs) {
    auto it = m_runs.find(std::string_view(bytes));
    if (it == m_runs.end()) {
      void* memory = ::operator new(sizeof(Run) + bytes.size());
      auto* run = new (memory) Run(content_hash(bytes), static_cast<uint32_t>(bytes.size()));
      std::memcpy(static_cast<char*>(memory) + sizeof(Run), bytes.data(), bytes.size());
      it = m_runs.insert(run).first;
      m_run_bytes += stored_cost(bytes.size());
    }
    ++(*it)->m_users;
    out.push_back(*it);
  }
}

void RunPool::release(std::span<const Run* const> runs) {
  const std::lock_guard lock(m_mutex);
  for (const Run* held : runs) {
    const auto it = m_runs.find(held);
    if (it == m_runs.end() || --(*it)->m_users != 0) {
      continue;
    }
    Run* run = *it;
    m_runs.erase(it);
    m_run_bytes -= stored_cost(run->m_size);
    free_run(run);
  }
}

size_t RunPool::size() const {
  const std::lock_guard lock(m_mutex);
  return m_runs.size();
}

size_t RunPool::bytes() const {
  const std::lock_guard lock(m_mutex);
  return m_run_bytes + m_runs.bucket_count() * sizeof(void*);
}

} // namespace ccrex::depscan
