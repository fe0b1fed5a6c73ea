#include "util/file.h"

#include "util/strings.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <vector>

namespace ccrex::util {
namespace {

Status write_all(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno_error("write " + what, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

} // namespace

namespace {

// Read `fd` (which this closes) to its end. `size_hint` sizes the first read; more than
// `max_bytes` bytes is resource_exhausted.
Result<std::string>
read_to_end(int fd, const std::string& path, size_t size_hint, size_t max_bytes) {
  std::string out;
  // One spare byte: a file of the hinted size needs one read and one read of 0.
  out.resize(std::min(size_hint, max_bytes) + 1);
  size_t used = 0;
  for (;;) {
    if (used == out.size()) {
      out.resize(out.size() * 2);
    }
    const ssize_t n = ::read(fd, out.data() + used, out.size() - used);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      const int err = errno;
      ::close(fd);
      return errno_error("read " + path, err);
    }
    if (n == 0) {
      break;
    }
    used += static_cast<size_t>(n);
    if (used > max_bytes) {
      ::close(fd);
      return Error(ErrorCode::resource_exhausted,
                   path + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
  ::close(fd);
  out.resize(used);
  return out;
}

} // namespace

Result<std::string> read_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return errno_error("open " + path, errno);
  }
  struct stat st {};
  const size_t hint = ::fstat(fd, &st) == 0 && st.st_size > 0 ? static_cast<size_t>(st.st_size) : 0;
  return read_to_end(fd, path, hint, SIZE_MAX - 1);
}

Result<std::string> read_regular_file(const std::string& path, size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    return errno_error("open " + path, errno);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error(ErrorCode::failed_precondition, path + " is not a regular file");
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    ::close(fd);
    return Error(ErrorCode::resource_exhausted,
                 path + " is larger than " + std::to_string(max_bytes) + " bytes");
  }
  return read_to_end(fd, path, static_cast<size_t>(st.st_size), max_bytes);
}

std::string temp_sibling(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
}

Status write_new_file(const std::string& path, std::string_view data, mode_t mode, bool sync) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return errno_error("create " + path, errno);
  }
  Status st = write_all(fd, data, path);
  if (st && ::fchmod(fd, mode) != 0) {
    st = errno_error("chmod " + path, errno);
  }
  if (st && sync && ::fsync(fd) != 0) {
    st = errno_error("fsync " + path, errno);
  }
  if (::close(fd) != 0 && st) {
    st = errno_error("close " + path, errno);
  }
  if (!st) {
    ::unlink(path.c_str());
  }
  return st;
}

Status write_file_atomic(const std::string& path, std::string_view data, mode_t mode, bool sync) {
  const std::string tmp = temp_sibling(path);
  CCREX_TRY(write_new_file(tmp, data, mode, sync));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return errno_error("rename to " + path, err);
  }
  return {};
}

Status copy_file_atomic(const std::string& from, const std::string& to, mode_t mode) {
  CCREX_ASSIGN_OR_RETURN(const std::string data, read_file(from));
  return write_file_atomic(to, data, mode);
}

Status make_dirs(const std::string& path, mode_t mode) {
  if (path.empty()) {
    return {};
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      return {};
    }
    return Error(ErrorCode::already_exists, "not a directory: " + path);
  }
  const std::string parent = dirname(path);
  if (parent != path && parent != "." && parent != "/") {
    CCREX_TRY(make_dirs(parent, mode));
  }
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST) {
    return errno_error("mkdir " + path, errno);
  }
  return {};
}

Status remove_all(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) {
    return io_error("remove " + path + ": " + ec.message());
  }
  return {};
}

std::string dirname(std::string_view path) {
  const size_t slash = path.find_last_of('/');
  if (slash == std::string_view::npos) {
    return ".";
  }
  if (slash == 0) {
    return "/";
  }
  return std::string(path.substr(0, slash));
}

std::string_view basename(std::string_view path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string join_path(std::string_view a, std::string_view b) {
  if (a.empty() || a == ".") {
    return std::string(b);
  }
  if (b.empty()) {
    return std::string(a);
  }
  std::string out(a);
  if (out.back() != '/') {
    out += '/';
  }
  out += b.front() == '/' ? b.substr(1) : b;
  return out;
}

namespace {

// True when normalize_path would return `path` unchanged: no empty, "." or ".." component
// and no trailing slash (other than "/" itself). Most paths a compile names already are.
bool is_normal(std::string_view path) {
  if (path.empty()) {
    return false;
  }
  if (path == "/") {
    return true;
  }
  size_t start = path.front() == '/' ? 1 : 0;
  for (;;) {
    const size_t slash = path.find('/', start);
    const std::string_view part = path.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part.empty() || part == "." || part == "..") {
      return false;
    }
    if (slash == std::string_view::npos) {
      return true;
    }
    start = slash + 1;
  }
}

} // namespace

std::string relative_path(std::string_view target, std::string_view base) {
  const auto t = split(target, '/', true);
  const auto b = split(base, '/', true);
  size_t common = 0;
  while (common < t.size() && common < b.size() && t[common] == b[common]) {
    ++common;
  }
  std::string out;
  for (size_t i = common; i < b.size(); ++i) {
    out += out.empty() ? ".." : "/..";
  }
  for (size_t i = common; i < t.size(); ++i) {
    if (!out.empty()) {
      out += '/';
    }
    out += t[i];
  }
  return out.empty() ? "." : out;
}

std::string normalize_path(std::string_view path) {
  if (is_normal(path)) {
    return std::string(path);
  }
  const bool absolute = !path.empty() && path.front() == '/';
  std::vector<std::string_view> parts;
  size_t pos = 0;
  while (pos <= path.size()) {
    size_t next = path.find('/', pos);
    if (next == std::string_view::npos) {
      next = path.size();
    }
    const std::string_view part = path.substr(pos, next - pos);
    pos = next + 1;
    if (part.empty() || part == ".") {
      continue;
    }
    if (part == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
        continue;
      }
      if (absolute) {
        continue; // "/.." is "/"
      }
    }
    parts.push_back(part);
  }
  std::string out = absolute ? "/" : "";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) {
      out += '/';
    }
    out += parts[i];
  }
  if (out.empty()) {
    out = ".";
  }
  return out;
}

bool is_safe_relative_path(std::string_view path) {
  if (path.empty() || path.front() == '/') {
    return false;
  }
  const std::string norm = normalize_path(path);
  return norm != ".." && norm.rfind("../", 0) != 0;
}

bool path_exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

TempDir::TempDir(std::string_view prefix) {
  const char* base = std::getenv("TMPDIR"); // NOLINT(concurrency-mt-unsafe)
  std::string tmpl = join_path(base != nullptr && *base != '\0' ? base : "/tmp", prefix);
  tmpl += "XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    throw std::runtime_error("cannot create a temporary directory from " + tmpl);
  }
  m_path = buf.data();
}

TempDir::~TempDir() {
  if (!m_keep) {
    (void)remove_all(m_path);
  }
}

} // namespace ccrex::util
