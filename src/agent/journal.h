#pragma once

// The compile journal behind `ccrex --explain`: one line per compile (when, which source,
// what happened and why), appended to a file in the cache directory so it outlives the
// agent and covers every agent sharing the directory. Bounded: past `max_bytes` the file
// is renamed to `<path>.1` (replacing the older one) and a new one is started.
//
// Thread safety: append() and read() may be called concurrently, also from other
// processes (lines are written with one O_APPEND write each).

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace ccrex::agent {

class Journal {
public:
  explicit Journal(std::string path, int64_t max_bytes = int64_t{1} << 20);

  // Append "<local time> <source>: <line>\n". Failures are ignored: the journal never
  // fails a compile.
  void append(const std::string& source, const std::string& line);

  // The last `max_lines` lines (older file first) whose source contains `filter` ("" for
  // all).
  std::vector<std::string> read(const std::string& filter, size_t max_lines) const;

  const std::string& path() const { return m_path; }

private:
  std::string m_path;
  int64_t m_max_bytes;
  std::mutex m_mutex;
};

} // namespace ccrex::agent
