#include "agent/file_digests.h"

#include <cerrno>
#include <chrono>
#include <ctime>

namespace ccrex::agent {
namespace {

int64_t ns(const timespec& t) {
  return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}

} // namespace

std::optional<FileInfo> FileDigests::cached(const std::string& path, const depscan::FileStat& id) {
  const std::lock_guard lock(m_mutex);
  const auto it = m_entries.find(path);
  if (it != m_entries.end() && it->second.id == id) {
    return it->second.info;
  }
  return std::nullopt;
}

util::Result<FileInfo> FileDigests::get(const std::string& path, const depscan::FileStat* known) {
  if (known != nullptr) {
    if (auto info = cached(path, *known)) {
      m_known_hits.fetch_add(1, std::memory_order_relaxed);
      return *info;
    }
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return util::errno_error("stat " + path, errno);
  }
  if (!S_ISREG(st.st_mode)) {
    return util::invalid_argument("not a regular file: " + path);
  }
  const depscan::FileStat id{static_cast<uint64_t>(st.st_dev),
                             static_cast<uint64_t>(st.st_ino),
                             st.st_size,
                             ns(st.st_mtim),
                             ns(st.st_ctim),
                             depscan::FileType::regular};
  if (auto info = cached(path, id)) {
    return *info;
  }
  CCREX_ASSIGN_OR_RETURN(const util::Digest d, util::digest_file(path));
  FileInfo info{d, (st.st_mode & S_IXUSR) != 0};
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  if (ns(now) - id.mtime_ns > m_racy_window_ns && ns(now) - id.ctime_ns > m_racy_window_ns) {
    const std::lock_guard lock(m_mutex);
    m_entries[path] = Entry{id, info};
  }
  return info;
}

int64_t FileDigests::known_hits() const {
  return m_known_hits.load(std::memory_order_relaxed);
}

} // namespace ccrex::agent
