#pragma once

// FileDigests: the agent's memory of file digests, validated by stat so a repeated lookup
// of an unchanged file costs one stat(2) instead of reading and hashing it, and no stat at
// all when the caller already holds the file's current stat (the scanner just took it).
//
// Thread safety: get() may be called concurrently.

#include "depscan/file_system.h"
#include "util/result.h"
#include "util/sha256.h"

#include <sys/stat.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace ccrex::agent {

struct FileInfo {
  util::Digest digest;
  bool is_executable = false;
};

class FileDigests {
public:
  // Files changed within `racy_window_ns` of a lookup may still change without their
  // mtime moving on file systems with coarse timestamps; their digests are not kept
  // (ccache's "racy" rule). Tests pass 0.
  explicit FileDigests(int64_t racy_window_ns = 2'000'000'000) : m_racy_window_ns(racy_window_ns) {}

  // Return the digest and mode of the regular file at `path` (absolute). `known`, when
  // given, is the file's stat as the caller observed it moments ago (the scanner's): if the
  // cache holds an entry with that stat, it answers without touching the disk. A chmod
  // moves ctime, so the stat also covers the executable bit. Otherwise the file is
  // stat'ed (and read when the cache cannot answer).
  util::Result<FileInfo> get(const std::string& path, const depscan::FileStat* known = nullptr);

  // Number of get() calls answered without a stat (for tests).
  int64_t known_hits() const;

private:
  struct Entry {
    depscan::FileStat id;
    FileInfo info;
  };
  std::optional<FileInfo> cached(const std::string& path, const depscan::FileStat& id);

  const int64_t m_racy_window_ns;
  mutable std::mutex m_mutex;
  std::unordered_map<std::string, Entry> m_entries; // guarded by m_mutex
  std::atomic<int64_t> m_known_hits{0};
};

} // namespace ccrex::agent
