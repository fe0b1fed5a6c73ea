#pragma once

// FileDigests: the agent's memory of file digests, validated by stat so a repeated lookup
// of an unchanged file costs one stat(2) instead of reading and hashing it.
//
// Thread safety: digest() may be called concurrently.

#include "util/result.h"
#include "util/sha256.h"

#include <sys/stat.h>

#include <mutex>
#include <string>
#include <unordered_map>

namespace ccrex::agent {

struct FileInfo {
  util::Digest digest;
  bool is_executable = false;
};

class FileDigests {
public:
  // Return the digest and mode of the regular file at `path` (absolute).
  util::Result<FileInfo> get(const std::string& path);

private:
  struct Entry {
    dev_t dev = 0;
    ino_t ino = 0;
    off_t size = 0;
    int64_t mtime_ns = 0;
    int64_t ctime_ns = 0;
    FileInfo info;
  };
  std::mutex m_mutex;
  std::unordered_map<std::string, Entry> m_entries; // guarded by m_mutex
};

} // namespace ccrex::agent
