#pragma once

// RunPool: immutable byte strings ("runs") shared between the whole-scan records of one
// ScanCache, each stored once however many records hold it.
//
// A record cuts its packed observed paths and its looked-up names into runs
// (packed_scan_record.h). Most records of one project observe the same standard-library
// directories with the same stats, so most of their runs are byte for byte the same; the
// pool keeps one copy of each and counts its users. A record acquires its runs when it is
// built and releases them when it is destroyed; a run whose last user goes is freed at
// once, so the pool never holds more than the records that are alive need.
//
// A run costs one allocation (a small header, then its bytes) and one slot of a hash set;
// pooled_cost() says how much that is, so that a record can be charged as if it held its
// runs alone.
//
// Thread safety: thread-safe. acquire() and release() take one mutex per call (a record
// passes all its runs at once); a run's bytes may be read without the lock by whoever
// holds it, since they never change while it has a user.

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace ccrex::depscan {

class RunPool {
public:
  // One pooled run. Its bytes follow the header in the same allocation.
  class Run {
  public:
    std::string_view bytes() const {
      return {reinterpret_cast<const char*>(this + 1), m_size}; // NOLINT: bytes follow
    }

  private:
    friend class RunPool;
    Run(uint64_t hash, uint32_t size) : m_hash(hash), m_size(size) {}
    uint64_t m_hash;
    uint32_t m_size;
    uint32_t m_users = 0; // guarded by the pool's mutex
  };

  RunPool() = default;
  RunPool(const RunPool&) = delete;
  RunPool& operator=(const RunPool&) = delete;
  ~RunPool();

  // Append to `out`, for each of `runs` in order, the pooled run with those bytes (added
  // when the pool has none), counting one more user of it.
  void acquire(std::span<const std::string> runs, std::vector<const Run*>& out);

  // Count one user fewer of each of `runs` (each as many times as it appears); a run left
  // without users is freed.
  void release(std::span<const Run* const> runs);

  // Runs held, and the memory they take (their allocations and the set's slots).
  size_t size() const;
  size_t bytes() const;

  // What a run of `n` bytes takes from the pool.
  static size_t pooled_cost(size_t n);

private:
  struct RunHash {
    using is_transparent = void; // NOLINT(readability-identifier-naming): the standard name
    size_t operator()(const Run* run) const noexcept { return run->m_hash; }
    size_t operator()(std::string_view bytes) const noexcept;
  };
  struct RunEqual {
    using is_transparent = void; // NOLINT(readability-identifier-naming): the standard name
    bool operator()(const Run* a, const Run* b) const noexcept { return a == b; }
    bool operator()(std::string_view a, const Run* b) const noexcept { return a == b->bytes(); }
    bool operator()(const Run* a, std::string_view b) const noexcept { return a->bytes() == b; }
  };

  static void free_run(Run* run);
  static size_t stored_cost(size_t n);

  mutable std::mutex m_mutex;
  std::unordered_set<Run*, RunHash, RunEqual> m_runs; // guarded by m_mutex
  size_t m_run_bytes = 0;                             // stored_cost of each, summed
};

} // namespace ccrex::depscan
