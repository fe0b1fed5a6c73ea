#pragma once

// Stats: named counters of what the agent did with each compile (hits, misses, local
// runs and their reasons), kept in `<cache_dir>/stats` as "name value" lines.
//
// Several agents (of one user or of a group) may count into one cache directory at once,
// so the file is the only total: every add() opens it once, takes an flock on it, reads
// it, adds and writes it back through that one descriptor (a few microseconds; over the old
// text in place, as counters only grow), snapshot() reads it under the same lock, and
// zero() replaces it with an empty file, for every agent at once (an agent that waited
// for the old file's lock opens the new one). When the file cannot be
// updated (the lock stays held, the directory is read-only) the counts wait in memory and
// go in with the next update; snapshot() includes them.
//
// Thread safety: all methods may be called concurrently, from any number of processes.

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace ccrex::agent {

// Where the store is and how full, for `ccrex -s`.
struct StoreSummary {
  std::string dir;   // "" when not known
  int64_t size = -1; // bytes on disk (what the limit counts); -1 when not known
  int64_t limit = 0;
  int64_t content = -1; // the same entries uncompressed; -1 when not known
  int compression = 0;  // zstd level new blobs are stored at; 0: off
};

class Stats {
public:
  // Count into the file `path` (created when missing).
  explicit Stats(std::string path);

  // Add `n` to counter `name` in the file.
  void add(const std::string& name, int64_t n = 1);
  // Return every agent's counters: the file and what this one could not write yet.
  std::map<std::string, int64_t> snapshot();
  // Reset every counter to zero, for every agent counting into the file.
  void zero();
  // Write counts that are still waiting in memory (at exit).
  void save();

  // The human-readable summary (`ccrex -s`), in ccache's shape: each group with its share,
  // and the store with its size against its limit when `store` is given.
  static std::string format(const std::map<std::string, int64_t>& counters,
                            const StoreSummary& store = {});
  // One "name\tvalue" line per counter (`--print-stats`): every counter ccrex always
  // keeps, zero or not, then the reasons (local_*, fallback_*) seen so far.
  // With `store` known, two lines more: store_bytes_on_disk and store_bytes_uncompressed.
  static std::string format_raw(const std::map<std::string, int64_t>& counters,
                                const StoreSummary& store = {});
  // The store's compression figures (`ccrex -x`, ccache's --show-compression).
  static std::string format_compression(const StoreSummary& store);

  // Parse "name value" lines; lines that are not such are ignored.
  static std::map<std::string, int64_t> parse(std::string_view text);

private:
  // Under the file lock, replace the file by `update(its counters)`. False when the lock
  // or the file could not be had; nothing changed then.
  template <typename F>
  bool update_file(F update);
  // Move m_pending into the file; kept when that fails.
  void save_pending_locked();

  const std::string m_path;
  const mode_t m_file_mode;
  std::mutex m_mutex;                       // one update of the file at a time per process
  std::map<std::string, int64_t> m_pending; // not yet in the file; guarded by m_mutex
};

} // namespace ccrex::agent
