#include "agent/file_digests.h"

#include <cerrno>
#include <chrono>
#include <ctime>

namespace ccrex::agent {
namespace {

int64_t ns(const timespec& t) {
  return static_cast<int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec;
}

// A file modified within this window may still change without its mtime moving on file
// systems with coarse timestamps; such entries are not cached (ccache's "racy" rule).
constexpr int64_t k_racy_window_ns = 2'000'000'000;

} // namespace

util::Result<FileInfo> FileDigests::get(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return util::errno_error("stat " + path, errno);
  }
  if (!S_ISREG(st.st_mode)) {
    return util::invalid_argument("not a regular file: " + path);
  }
  {
    const std::lock_guard lock(m_mutex);
    const auto it = m_entries.find(path);
    if (it != m_entries.end() && it->second.dev == st.st_dev && it->second.ino == st.st_ino
        && it->second.size == st.st_size && it->second.mtime_ns == ns(st.st_mtim)
        && it->second.ctime_ns == ns(st.st_ctim)) {
      return it->second.info;
    }
  }
  CCREX_ASSIGN_OR_RETURN(const util::Digest d, util::digest_file(path));
  FileInfo info{d, (st.st_mode & S_IXUSR) != 0};
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  if (ns(now) - ns(st.st_mtim) > k_racy_window_ns && ns(now) - ns(st.st_ctim) > k_racy_window_ns) {
    const std::lock_guard lock(m_mutex);
    m_entries[path] = Entry{st.st_dev, st.st_ino, st.st_size, ns(st.st_mtim), ns(st.st_ctim), info};
  }
  return info;
}

} // namespace ccrex::agent
