#include "util/logging.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <ctime>
#include <mutex>
#include <string>

namespace ccrex::util::logging {
namespace {

// -1 means "off". The fd and level are read on every log call, so they are atomics rather
// than mutex-protected; the fd is set once at start-up in practice.
std::atomic<int> g_fd{-1};
std::atomic<int> g_level{static_cast<int>(Level::error)};
std::atomic<bool> g_owns_fd{false};

void set_fd(int fd, bool owns, Level level) {
  g_level.store(static_cast<int>(level));
  const int old = g_fd.exchange(fd);
  if (g_owns_fd.exchange(owns) && old >= 0) {
    ::close(old);
  }
}

// Rotation of a log file: its path and size limit, and how many lines were written since
// its size was last looked at.
std::mutex g_rotation_mutex;
std::string g_path; // guarded by g_rotation_mutex
std::atomic<int64_t> g_max_bytes{0};
std::atomic<uint32_t> g_lines_since_check{0};
constexpr uint32_t k_lines_per_check = 64;

// Rename a log file past its limit and carry on in a new one. The new file takes the old
// descriptor's number (dup2), so a thread writing concurrently never writes to a closed or
// reused descriptor.
void rotate_if_needed(int fd) {
  const int64_t max = g_max_bytes.load(std::memory_order_relaxed);
  if (max <= 0 || g_lines_since_check.fetch_add(1) % k_lines_per_check != 0) {
    return;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size < max) {
    return;
  }
  const std::lock_guard lock(g_rotation_mutex);
  if (g_path.empty() || g_fd.load() != fd || ::fstat(fd, &st) != 0 || st.st_size < max) {
    return;
  }
  if (::rename(g_path.c_str(), (g_path + ".1").c_str()) != 0) {
    return;
  }
  const int fresh = ::open(g_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fresh >= 0) {
    ::dup3(fresh, fd, O_CLOEXEC);
    ::close(fresh);
  }
}

std::string_view level_name(Level level) {
  switch (level) {
  case Level::error:
    return "ERROR";
  case Level::warn:
    return "WARN ";
  case Level::info:
    return "INFO ";
  case Level::debug:
    return "DEBUG";
  }
  return "?";
}

} // namespace

void log_to_stderr(Level level) {
  set_fd(STDERR_FILENO, false, level);
}

bool log_to_file(const std::string& path, Level level, int64_t max_bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    disable();
    return false;
  }
  {
    const std::lock_guard lock(g_rotation_mutex);
    g_path = path;
  }
  g_max_bytes.store(max_bytes);
  set_fd(fd, true, level);
  return true;
}

void disable() {
  set_fd(-1, false, Level::error);
}

bool enabled(Level level) {
  return g_fd.load(std::memory_order_relaxed) >= 0
         && static_cast<int>(level) <= g_level.load(std::memory_order_relaxed);
}

bool parse_level(std::string_view text, Level& out) {
  static constexpr std::array<std::pair<std::string_view, Level>, 4> k_names{{
      {"error", Level::error},
      {"warn", Level::warn},
      {"info", Level::info},
      {"debug", Level::debug},
  }};
  for (const auto& [name, level] : k_names) {
    if (text == name) {
      out = level;
      return true;
    }
  }
  return false;
}

void write(Level level, std::string_view message) {
  const int fd = g_fd.load(std::memory_order_relaxed);
  if (fd < 0) {
    return;
  }
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  ::localtime_r(&secs, &tm);
  std::array<char, 64> stamp{};
  const size_t n = std::strftime(stamp.data(), stamp.size(), "%Y-%m-%dT%H:%M:%S", &tm);

  std::string line;
  line.reserve(message.size() + 64);
  line.append(stamp.data(), n);
  line += '.';
  line += static_cast<char>('0' + (millis / 100));
  line += static_cast<char>('0' + (millis / 10 % 10));
  line += static_cast<char>('0' + (millis % 10));
  line += ' ';
  line += level_name(level);
  line += " [";
  line += std::to_string(static_cast<long>(::syscall(SYS_gettid)));
  line += "] ";
  line += message;
  line += '\n';
  // One write per line keeps lines whole under O_APPEND; a failed log write is ignored.
  [[maybe_unused]] const ssize_t w = ::write(fd, line.data(), line.size());
  if (g_owns_fd.load(std::memory_order_relaxed)) {
    rotate_if_needed(fd);
  }
}

} // namespace ccrex::util::logging
