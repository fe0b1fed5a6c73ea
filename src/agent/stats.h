#pragma once

// Stats: named counters of what the agent did with each compile (hits, misses, local
// runs and their reasons), kept in memory and saved to `<cache_dir>/stats` as
// "name value" lines (atomically replaced) so they survive agent restarts.
//
// Thread safety: all methods may be called concurrently.

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace ccrex::agent {

class Stats {
public:
  // Load counters from `path` if it exists.
  explicit Stats(std::string path);

  // Add `n` to counter `name`, and save at most every 100 ms.
  void add(const std::string& name, int64_t n = 1);
  // Return a copy of all counters.
  std::map<std::string, int64_t> snapshot();
  // Reset every counter to zero and save.
  void zero();
  // Write the counters to disk now.
  void save();

  // Return the human-readable summary printed by `ccrex -s`.
  static std::string format(const std::map<std::string, int64_t>& counters);
  // Return "name value" lines of every counter (machine-readable `--print-stats`).
  static std::string format_raw(const std::map<std::string, int64_t>& counters);

private:
  void save_locked();

  const std::string m_path;
  std::mutex m_mutex;
  std::map<std::string, int64_t> m_counters; // guarded by m_mutex
  int64_t m_last_save_ms = 0;                // guarded by m_mutex
};

} // namespace ccrex::agent
