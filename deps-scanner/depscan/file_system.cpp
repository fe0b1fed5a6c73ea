#include "depscan/file_system.h"

#include "util/file.h"
#include "util/strings.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace ccrex::depscan {
namespace {

FileType type_of_mode(mode_t mode) {
  if (S_ISREG(mode)) {
    return FileType::regular;
  }
  return S_ISDIR(mode) ? FileType::directory : FileType::other;
}

int64_t to_ns(const struct timespec& ts) {
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

FileStat to_file_stat(const struct stat& st) {
  FileStat out;
  out.dev = st.st_dev;
  out.ino = st.st_ino;
  out.size = st.st_size;
  out.mtime_ns = to_ns(st.st_mtim);
  out.ctime_ns = to_ns(st.st_ctim);
  out.type = type_of_mode(st.st_mode);
  return out;
}

// The file stat_for_read() opened on this thread, waiting for its read_into().
struct PendingRead {
  std::string path;
  int fd = -1;

  void reset() {
    if (fd >= 0) {
      ::close(fd);
    }
    fd = -1;
    path.clear();
  }
  ~PendingRead() { reset(); }
};
thread_local PendingRead t_pending;

// Return the fd stat_for_read() kept for `path` (the caller closes it), or -1.
int take_pending(const std::string& path) {
  if (t_pending.fd < 0 || t_pending.path != path) {
    return -1;
  }
  const int fd = t_pending.fd;
  t_pending.fd = -1;
  t_pending.path.clear();
  return fd;
}

// Open `path` for reading when it is a regular file of at most k_max_source_bytes. Without
// blocking (a FIFO with no writer would hang the scan) and without reading a device (a
// header that names /dev/zero would fill memory): both are errors, so the compile takes
// the compiler's -M route.
util::Result<int> open_regular(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    return util::errno_error("open " + path, errno);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)
      || static_cast<uint64_t>(st.st_size) > k_max_source_bytes) {
    ::close(fd);
    return util::Error(util::ErrorCode::failed_precondition,
                       path + " is not a regular file of a size the scanner reads");
  }
  return fd;
}

} // namespace

std::optional<FileStat> RealFileSystem::stat_for_read(const std::string& path) {
  t_pending.reset();
  // O_NONBLOCK: opening a FIFO must not wait for a writer. Anything that is not a regular
  // file is closed again at once and only its stat is kept.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    // Unreadable but present (EACCES, ...) must still stat as present.
    return errno == ENOENT || errno == ENOTDIR ? std::nullopt : stat(path);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return stat(path);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return to_file_stat(st);
  }
  t_pending.path = path;
  t_pending.fd = fd;
  return to_file_stat(st);
}

std::optional<FileStat> RealFileSystem::stat(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return std::nullopt;
  }
  return to_file_stat(st);
}

util::Result<std::string> RealFileSystem::read_file(const std::string& path) {
  return util::read_regular_file(path, k_max_source_bytes);
}

util::Result<size_t>
RealFileSystem::read_into(const std::string& path, int64_t size_hint, std::string& buffer) {
  int fd = take_pending(path);
  if (fd >= 0 && size_hint > static_cast<int64_t>(k_max_source_bytes)) {
    ::close(fd);
    return util::Error(util::ErrorCode::resource_exhausted, path + " is too large to scan");
  }
  if (fd < 0) {
    CCREX_ASSIGN_OR_RETURN(fd, open_regular(path));
  }
  // One spare byte: a read that does not fill the buffer has reached the end of the file,
  // so a file of the expected size needs a single read(2).
  size_t used = 0;
  const size_t want = static_cast<size_t>(std::max<int64_t>(size_hint, 0)) + 1;
  for (;;) {
    if (buffer.size() < used + want) {
      buffer.resize(used + want);
    }
    const ssize_t n = ::read(fd, buffer.data() + used, buffer.size() - used);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      const int err = errno;
      ::close(fd);
      return util::errno_error("read " + path, err);
    }
    used += static_cast<size_t>(n);
    if (n == 0 || used < buffer.size()) {
      break;
    }
    if (used > k_max_source_bytes) { // a file that keeps growing while it is read
      ::close(fd);
      return util::Error(util::ErrorCode::resource_exhausted, path + " is too large to scan");
    }
  }
  ::close(fd);
  return used;
}

// getdents64(2) straight into one reusable buffer: opendir(3) would add an fstat(2) and a
// buffer allocation per directory, and most include directories fit one call.
util::Result<std::vector<DirEntry>> RealFileSystem::list_dir(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return util::errno_error("open " + path, errno);
  }
  thread_local std::vector<char> buffer(size_t{64} * 1024);
  std::vector<DirEntry> out;
  for (;;) {
    const ssize_t n = ::getdents64(fd, buffer.data(), buffer.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      const int err = errno;
      ::close(fd);
      return util::errno_error("getdents64 " + path, err);
    }
    if (n == 0) {
      break;
    }
    for (ssize_t off = 0; off < n;) {
      struct dirent64 e {};
      // Copy the fixed header (the buffer holds packed, possibly unaligned records).
      std::memcpy(&e, buffer.data() + off, offsetof(struct dirent64, d_name));
      const char* name_ptr = buffer.data() + off + offsetof(struct dirent64, d_name);
      off += e.d_reclen;
      const std::string_view name(name_ptr);
      if (name == "." || name == "..") {
        continue;
      }
      DirEntry entry{std::string(name), std::nullopt};
      if (e.d_type == DT_REG) {
        entry.type = FileType::regular;
      } else if (e.d_type == DT_DIR) {
        entry.type = FileType::directory;
      } else if (e.d_type != DT_LNK && e.d_type != DT_UNKNOWN) {
        entry.type = FileType::other;
      }
      out.push_back(std::move(entry));
    }
  }
  ::close(fd);
  return out;
}

util::Result<std::string> RealFileSystem::real_path(const std::string& path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) == nullptr) {
    return util::errno_error("realpath " + path, errno);
  }
  return std::string(buf);
}

// --- MemoryFileSystem ---

std::optional<std::string> MemoryFileSystem::resolve(const std::string& path, int depth) const {
  if (depth > 40 || path.empty() || path[0] != '/') {
    return std::nullopt;
  }
  std::vector<std::string_view> parts;
  for (const std::string_view part : util::split(path, '/', true)) {
    parts.push_back(part);
  }
  std::string cur = "/";
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string_view part = parts[i];
    if (part == ".") {
      continue;
    }
    if (part == "..") {
      cur = util::dirname(cur);
      if (cur == ".") {
        cur = "/";
      }
      continue;
    }
    const std::string next = util::join_path(cur, part);
    const auto it = m_nodes.find(next);
    if (it == m_nodes.end()) {
      return std::nullopt;
    }
    if (!it->second.link_target.empty()) {
      std::string target = it->second.link_target;
      if (target[0] != '/') {
        target = util::join_path(cur, target);
      }
      for (size_t k = i + 1; k < parts.size(); ++k) {
        target = util::join_path(target, parts[k]);
      }
      return resolve(target, depth + 1);
    }
    if (i + 1 < parts.size() && it->second.type != FileType::directory) {
      return std::nullopt;
    }
    cur = next;
  }
  return cur;
}

MemoryFileSystem::Node& MemoryFileSystem::make_node(const std::string& path, FileType type) {
  const std::string norm = util::normalize_path(path);
  const std::string parent = util::dirname(norm);
  if (parent != norm && parent != "/" && parent != "." && m_nodes.count(parent) == 0) {
    add_dir(parent);
  }
  Node& node = m_nodes[norm];
  if (node.ino == 0) {
    node.ino = m_next_ino++;
  }
  node.type = type;
  node.mtime_ns = ++m_clock;
  touch_parent(norm);
  return node;
}

void MemoryFileSystem::touch_parent(const std::string& path) {
  const auto it = m_nodes.find(util::dirname(path));
  if (it != m_nodes.end()) {
    it->second.mtime_ns = ++m_clock;
  }
}

void MemoryFileSystem::add_file(const std::string& path, std::string content) {
  Node& node = make_node(path, FileType::regular);
  node.content = std::move(content);
  node.link_target.clear();
}

void MemoryFileSystem::add_dir(const std::string& path) {
  const std::string norm = util::normalize_path(path);
  if (norm == "/" || m_nodes.count(norm) != 0) {
    return;
  }
  make_node(norm, FileType::directory);
}

void MemoryFileSystem::add_symlink(const std::string& path, const std::string& target) {
  Node& node = make_node(path, FileType::other);
  node.link_target = target;
}

void MemoryFileSystem::remove(const std::string& path) {
  const std::string norm = util::normalize_path(path);
  const std::string prefix = norm + "/";
  for (auto it = m_nodes.begin(); it != m_nodes.end();) {
    if (it->first == norm || it->first.starts_with(prefix)) {
      it = m_nodes.erase(it);
    } else {
      ++it;
    }
  }
  touch_parent(norm);
}

void MemoryFileSystem::set_unreadable(const std::string& path) {
  m_nodes.at(util::normalize_path(path)).unreadable = true;
}

std::optional<FileStat> MemoryFileSystem::stat(const std::string& path) {
  ++m_stats;
  const auto key = resolve(path);
  if (!key) {
    return std::nullopt;
  }
  FileStat out;
  out.dev = 1;
  if (*key == "/") {
    out.type = FileType::directory;
    return out;
  }
  const Node& node = m_nodes.at(*key);
  out.ino = node.ino;
  out.size = static_cast<int64_t>(node.content.size());
  out.mtime_ns = node.mtime_ns;
  out.ctime_ns = node.mtime_ns;
  out.type = node.type;
  return out;
}

util::Result<std::string> MemoryFileSystem::read_file(const std::string& path) {
  ++m_reads;
  const auto key = resolve(path);
  if (!key || *key == "/") {
    return util::not_found("no such file: " + path);
  }
  const Node& node = m_nodes.at(*key);
  if (node.type != FileType::regular) {
    return util::io_error("not a regular file: " + path);
  }
  if (node.unreadable) {
    return util::Error(util::ErrorCode::permission_denied, "cannot read " + path);
  }
  return node.content;
}

util::Result<std::vector<DirEntry>> MemoryFileSystem::list_dir(const std::string& path) {
  ++m_listings;
  const auto key = resolve(path);
  if (!key) {
    return util::not_found("no such directory: " + path);
  }
  const std::string prefix = *key == "/" ? "/" : *key + "/";
  std::vector<DirEntry> out;
  for (auto it = m_nodes.lower_bound(prefix); it != m_nodes.end(); ++it) {
    if (!it->first.starts_with(prefix)) {
      break;
    }
    const std::string_view rest = std::string_view(it->first).substr(prefix.size());
    if (rest.empty() || rest.find('/') != std::string_view::npos) {
      continue;
    }
    DirEntry e{std::string(rest), std::nullopt};
    if (it->second.link_target.empty()) {
      e.type = it->second.type;
    }
    out.push_back(std::move(e));
  }
  return out;
}

util::Result<std::string> MemoryFileSystem::real_path(const std::string& path) {
  const auto key = resolve(path);
  if (!key) {
    return util::not_found("no such file: " + path);
  }
  return *key;
}

} // namespace ccrex::depscan
