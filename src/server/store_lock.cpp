#include "server/store_lock.h"

#include "util/file.h"
#include "util/logging.h"
#include "util/strings.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

namespace ccrex::server {
namespace {

constexpr auto k_retry_interval = std::chrono::milliseconds(50);

// "pid 1234, ccrex-server" from the lock file's content and /proc; "" when unknown.
std::string describe_holder(int fd) {
  std::string text(32, '\0');
  const ssize_t n = ::pread(fd, text.data(), text.size(), 0);
  if (n <= 0) {
    return {};
  }
  text.resize(static_cast<size_t>(n));
  const auto pid = util::parse_int(util::trim(text));
  if (!pid || *pid <= 0) {
    return {};
  }
  std::string out = "pid " + std::to_string(*pid);
  if (auto comm = util::read_file("/proc/" + std::to_string(*pid) + "/comm")) {
    out += ", " + std::string(util::trim(*comm));
  }
  return out;
}

// Record this process as the holder for the error message of the next one; best effort
// (a store of another user of the group may not let this one write the file).
void record_holder(const std::string& path) {
  const std::string pid = std::to_string(::getpid()) + "\n";
  const int out = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW);
  const bool recorded =
      out >= 0 && ::write(out, pid.data(), pid.size()) == static_cast<ssize_t>(pid.size());
  if (out >= 0) {
    ::close(out);
  }
  if (!recorded) {
    CCREX_LOG_DEBUG("store: cannot record this process in " << path);
  }
}

// Try to take the lock once: 1 taken, 0 held elsewhere, -1 error (errno set).
int try_lock(int fd, int how) {
  while (::flock(fd, how | LOCK_NB) != 0) {
    if (errno == EINTR) {
      continue;
    }
    return errno == EWOULDBLOCK ? 0 : -1;
  }
  return 1;
}

} // namespace

util::Result<StoreLock>
StoreLock::acquire(const std::string& dir, std::chrono::milliseconds wait, StoreLockMode mode) {
  CCREX_TRY(util::make_dirs(dir, 0777)); // less the umask: 002 lets a group share it
  const std::string path = util::join_path(dir, "lock");
  // Held open read-only: a file open for writing would keep the store's file system from
  // being remounted read-only. Created as writable as the umask allows, so that the users
  // of a group-writable store can all record themselves.
  int fd = ::open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
  if (fd < 0 && errno == EROFS) {
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  }
  if (fd < 0) {
    return util::errno_error("open the store lock " + path, errno);
  }
  StoreLock lock(fd, dir);
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (true) {
    int got = try_lock(fd, LOCK_EX);
    if (got == 0 && mode == StoreLockMode::shared) {
      got = try_lock(fd, LOCK_SH);
      lock.m_exclusive = got != 1;
    }
    if (got < 0) {
      return util::errno_error("lock the store " + dir, errno);
    }
    if (got == 1) {
      break;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      const std::string holder = describe_holder(fd);
      const std::string who = holder.empty() ? "" : " (" + holder + ")";
      if (mode == StoreLockMode::shared) {
        return util::Error(util::ErrorCode::failed_precondition,
                           "the store " + dir + " is in use by a server that does not share it"
                               + who);
      }
      return util::Error(util::ErrorCode::failed_precondition,
                         "the store " + dir + " is in use by another process" + who
                             + "; only one server may use a store directory");
    }
    std::this_thread::sleep_for(k_retry_interval);
  }
  if (lock.m_exclusive) {
    record_holder(path);
  }
  return lock;
}

util::Status StoreLock::share() {
  if (!m_exclusive) {
    return {};
  }
  // flock converts by dropping the old lock first: a standalone server may slip in.
  if (const int got = try_lock(m_fd, LOCK_SH); got != 1) {
    return got < 0 ? util::errno_error("share the store " + m_dir, errno)
                   : util::Error(util::ErrorCode::failed_precondition,
                                 "the store " + m_dir
                                     + " was taken by a server that does not "
                                       "share it");
  }
  m_exclusive = false;
  return {};
}

StoreLock::StoreLock(StoreLock&& other) noexcept
    : m_fd(other.m_fd),
      m_dir(std::move(other.m_dir)),
      m_exclusive(other.m_exclusive) {
  other.m_fd = -1;
}

StoreLock& StoreLock::operator=(StoreLock&& other) noexcept {
  if (this != &other) {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
    m_fd = other.m_fd;
    m_dir = std::move(other.m_dir);
    m_exclusive = other.m_exclusive;
    other.m_fd = -1;
  }
  return *this;
}

StoreLock::~StoreLock() {
  if (m_fd >= 0) {
    ::close(m_fd);
  }
}

} // namespace ccrex::server
