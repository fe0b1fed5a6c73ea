#include "agent/stats.h"

#include "util/file.h"
#include "util/strings.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <sstream>
#include <thread>

namespace ccrex::agent {
namespace {

// A stalled holder of the lock (a stopped agent) must not stall the compiles of others.
constexpr auto k_lock_wait = std::chrono::milliseconds(500);

// The process's umask, read without changing it (other threads create files meanwhile).
mode_t current_umask() {
  if (auto status = util::read_file("/proc/self/status")) {
    for (const auto l : util::split(*status, '\n', true)) {
      if (l.rfind("Umask:", 0) == 0) {
        unsigned long mask = 0;
        const std::string digits(util::trim(l.substr(6)));
        if (!digits.empty() && digits.find_first_not_of("01234567") == std::string::npos) {
          mask = std::stoul(digits, nullptr, 8);
          return static_cast<mode_t>(mask & 0777);
        }
      }
    }
  }
  return 022;
}

// The counters file, opened once for reading and writing and flock'ed for this scope
// (waiting at most k_lock_wait): the one descriptor an update reads and writes through.
// The lock is on the file itself, so a file another agent renamed over it meanwhile
// (zero(), a shorter text) is opened again once the old one's lock is had. Something at
// `path` that is not a regular file (a symlink, a FIFO) is removed and a file created in
// its place, as replacing it by rename did; a directory stays, and nothing is held.
class LockedFile {
public:
  LockedFile(const std::string& path, mode_t mode) {
    const auto deadline = std::chrono::steady_clock::now() + k_lock_wait;
    bool removed = false;
    while (!open_and_lock(path, mode, deadline)) {
      if (m_fd >= 0 || removed || !remove_non_regular(path)) {
        close_fd();
        return;
      }
      removed = true;
    }
  }
  ~LockedFile() { close_fd(); }
  LockedFile(const LockedFile&) = delete;
  LockedFile& operator=(const LockedFile&) = delete;
  bool held() const { return m_fd >= 0; }
  int fd() const { return m_fd; }
  // The file's size when the lock was had (no writer can change it while held).
  off_t size() const { return m_size; }

private:
  // True once m_fd is the locked file at `path`. False with m_fd < 0 when nothing could be
  // opened as a regular file; false with m_fd >= 0 (to be closed) when the lock was not had.
  bool open_and_lock(const std::string& path,
                     mode_t mode,
                     std::chrono::steady_clock::time_point deadline) {
    bool made_dirs = false;
    for (;;) {
      // O_NONBLOCK: a FIFO put there must not hang the compile that opens it.
      m_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, mode);
      if (m_fd < 0 && errno == ENOENT && !made_dirs) {
        // The cache directory is made on first use (or again, after someone removed it).
        made_dirs = true;
        (void)util::make_dirs(util::dirname(path), 0777); // less the umask
        continue;
      }
      struct stat opened {};
      if (m_fd < 0 || ::fstat(m_fd, &opened) != 0 || !S_ISREG(opened.st_mode)) {
        close_fd();
        return false;
      }
      // The mode given to open() went through the umask already; a file another user of
      // the group created keeps its own.
      while (::flock(m_fd, LOCK_EX | LOCK_NB) != 0) {
        if ((errno != EWOULDBLOCK && errno != EINTR)
            || std::chrono::steady_clock::now() >= deadline) {
          return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
      struct stat current {};
      if (::lstat(path.c_str(), &current) == 0 && current.st_ino == opened.st_ino
          && current.st_dev == opened.st_dev) {
        m_size = current.st_size;
        return true;
      }
      close_fd(); // replaced or removed while this waited: lock what is there now
      if (std::chrono::steady_clock::now() >= deadline) {
        return false;
      }
    }
  }

  // Remove what is at `path` when it exists and is neither a regular file nor a directory.
  static bool remove_non_regular(const std::string& path) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)
           && ::unlink(path.c_str()) == 0;
  }

  void close_fd() {
    if (m_fd >= 0) {
      ::close(m_fd);
      m_fd = -1;
    }
  }

  int m_fd = -1;
  off_t m_size = 0;
};

// The whole content of the locked file; nullopt when it cannot be read. Its size is known
// from the lock, so one read and one at the end of the file are the usual cost.
std::optional<std::string> read_all(const LockedFile& file) {
  const int fd = file.fd();
  std::string text;
  text.resize(file.size() > 0 ? static_cast<size_t>(file.size()) + 1 : 64);
  size_t used = 0;
  for (;;) {
    if (used == text.size()) {
      text.resize(text.size() * 2);
    }
    const ssize_t n = ::pread(fd, text.data() + used, text.size() - used, static_cast<off_t>(used));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return std::nullopt;
    }
    if (n == 0) {
      text.resize(used);
      return text;
    }
    used += static_cast<size_t>(n);
  }
}

int64_t get(const std::map<std::string, int64_t>& c, const std::string& name) {
  const auto it = c.find(name);
  return it == c.end() ? 0 : it->second;
}

int64_t sum_prefix(const std::map<std::string, int64_t>& c, const std::string& prefix) {
  int64_t total = 0;
  for (const auto& [k, v] : c) {
    if (k.rfind(prefix, 0) == 0) {
      total += v;
    }
  }
  return total;
}

void line(std::ostringstream& out, int indent, const std::string& label, const std::string& value) {
  std::string text(static_cast<size_t>(indent), ' ');
  text += label;
  text += ':';
  if (text.size() < 34) {
    text.resize(34, ' ');
  }
  out << text << ' ' << value << '\n';
}

void line(std::ostringstream& out, int indent, const std::string& label, int64_t value) {
  line(out, indent, label, std::to_string(value));
}

// "12 / 40 (30.00%)"; no share of nothing.
std::string share(int64_t part, int64_t whole) {
  std::string text = std::to_string(part);
  if (whole > 0) {
    std::array<char, 32> pct{};
    std::snprintf(pct.data(),
                  pct.size(),
                  " / %lld (%.2f%%)",
                  static_cast<long long>(whole),
                  100.0 * static_cast<double>(part) / static_cast<double>(whole));
    text += pct.data();
  }
  return text;
}

// "1.5 GiB".
std::string human_size(int64_t bytes) {
  static constexpr std::array<const char*, 5> k_units = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  size_t unit = 0;
  while (v >= 1024 && unit + 1 < k_units.size()) {
    v /= 1024;
    ++unit;
  }
  std::array<char, 32> text{};
  std::snprintf(text.data(), text.size(), unit == 0 ? "%.0f %s" : "%.1f %s", v, k_units[unit]);
  return text.data();
}

// "4.10 x (75.6% saved)": what the store holds against what it takes on disk.
std::string ratio(const StoreSummary& store) {
  if (store.size <= 0) {
    return "-";
  }
  const double r = static_cast<double>(store.content) / static_cast<double>(store.size);
  const double saved = store.content > 0 ? 100.0 * (1.0 - 1.0 / r) : 0.0;
  std::array<char, 48> text{};
  std::snprintf(text.data(), text.size(), "%.2f x (%.1f%% saved)", r, saved);
  return text.data();
}

// Counters every summary names, zero or not (`--print-stats` lists them all, so a script
// never finds one missing after `ccrex -z`).
constexpr std::array<const char*, 11> k_core_counters = {"cache_only_location",
                                                         "cache_only_no_execution",
                                                         "cancelled",
                                                         "compile_error",
                                                         "depend_compiler",
                                                         "depend_compiler_remembered",
                                                         "hit_local",
                                                         "hit_remote",
                                                         "miss_cache_only",
                                                         "miss_executed",
                                                         "result_not_stored"};

} // namespace

Stats::Stats(std::string path)
    : m_path(std::move(path)),
      m_file_mode(static_cast<mode_t>(0666 & ~current_umask())) {}

std::map<std::string, int64_t> Stats::parse(std::string_view text) {
  std::map<std::string, int64_t> counters;
  for (const auto l : util::split(text, '\n', true)) {
    const size_t sp = l.find(' ');
    if (sp == std::string_view::npos || sp == 0) {
      continue;
    }
    if (auto v = util::parse_int(l.substr(sp + 1))) {
      counters[std::string(l.substr(0, sp))] += *v;
    }
  }
  return counters;
}

template <typename F>
bool Stats::update_file(F update) {
  const LockedFile file(m_path, m_file_mode);
  if (!file.held()) {
    return false;
  }
  const auto text = read_all(file);
  if (!text) {
    return false;
  }
  std::map<std::string, int64_t> counters = parse(*text);
  update(counters);
  std::string out;
  for (const auto& [k, v] : counters) {
    if (v != 0) {
      out += k + " " + std::to_string(v) + "\n";
    }
  }
  // Counters only grow between two zero()s, and the lines are sorted by name, so an update
  // is never shorter than what it replaces: it is written over the old text in place,
  // through the descriptor it was read from (creating a new file costs more than all the
  // rest here). A shorter text (zero(), a file with lines that were not counters) is a new
  // file renamed over the old one, which agents waiting for the old one's lock notice.
  if (out.size() >= text->size()) {
    return ::pwrite(file.fd(), out.data(), out.size(), 0) == static_cast<ssize_t>(out.size());
  }
  return static_cast<bool>(util::write_file_atomic(m_path, out, m_file_mode));
}

void Stats::add(const std::string& name, int64_t n) {
  const std::lock_guard lock(m_mutex);
  m_pending[name] += n;
  save_pending_locked();
}

void Stats::save() {
  const std::lock_guard lock(m_mutex);
  save_pending_locked();
}

void Stats::save_pending_locked() {
  const bool written = update_file([this](std::map<std::string, int64_t>& c) {
    for (const auto& [k, v] : m_pending) {
      c[k] += v;
    }
  });
  if (written) {
    m_pending.clear();
  }
}

std::map<std::string, int64_t> Stats::snapshot() {
  const std::lock_guard lock(m_mutex);
  // Under the file lock: an update writes in place. Without it (a file this user may only
  // read), read anyway.
  const LockedFile file(m_path, m_file_mode);
  std::optional<std::string> text;
  if (file.held()) {
    text = read_all(file);
  } else if (auto unlocked = util::read_regular_file(m_path, SIZE_MAX - 1)) {
    text = std::move(*unlocked);
  }
  std::map<std::string, int64_t> counters = text ? parse(*text) : std::map<std::string, int64_t>{};
  for (const auto& [k, v] : m_pending) {
    counters[k] += v;
  }
  return counters;
}

void Stats::zero() {
  const std::lock_guard lock(m_mutex);
  m_pending.clear();
  if (!update_file([](std::map<std::string, int64_t>& c) { c.clear(); })) {
    (void)util::remove_all(m_path); // no lock to be had: still leave no counts behind
  }
}

std::string Stats::format(const std::map<std::string, int64_t>& c, const StoreSummary& store) {
  std::ostringstream out;
  const int64_t hits = get(c, "hit_local") + get(c, "hit_remote");
  const int64_t misses = get(c, "miss_executed") + get(c, "miss_cache_only");
  const int64_t cacheable = hits + misses + get(c, "compile_error");
  const int64_t local = sum_prefix(c, "local_");
  const int64_t fallbacks = sum_prefix(c, "fallback_");
  const int64_t calls = cacheable + local + fallbacks + get(c, "cancelled");
  line(out, 0, "Cacheable calls", share(cacheable, calls));
  line(out, 2, "Hits", share(hits, cacheable));
  line(out, 4, "Local store", get(c, "hit_local"));
  line(out, 4, "Remote cache", get(c, "hit_remote"));
  line(out, 2, "Misses", share(misses, cacheable));
  line(out, 4, "Executed remotely", get(c, "miss_executed"));
  line(out, 4, "Compiled locally, uploaded", get(c, "miss_cache_only"));
  line(out, 6, "engine without execution", get(c, "cache_only_no_execution"));
  line(out, 6, "records its directory", get(c, "cache_only_location"));
  line(out, 2, "Compile errors", share(get(c, "compile_error"), cacheable));
  line(out, 0, "Run locally (unsupported)", share(local, calls));
  for (const auto& [k, v] : c) {
    if (k.rfind("local_", 0) == 0) {
      line(out, 2, k.substr(6), v);
    }
  }
  line(out, 0, "Fell back to local compile", share(fallbacks, calls));
  for (const auto& [k, v] : c) {
    if (k.rfind("fallback_", 0) == 0) {
      line(out, 2, k.substr(9), v);
    }
  }
  line(out, 0, "Cancelled (client went away)", get(c, "cancelled"));
  line(out, 0, "Dependencies from -M", get(c, "depend_compiler"));
  line(out, 0, "Dependencies -M listed before", get(c, "depend_compiler_remembered"));
  if (get(c, "result_not_stored") != 0) {
    line(out, 0, "Results too large to store", get(c, "result_not_stored"));
  }
  if (!store.dir.empty()) {
    line(out, 0, "Cache directory", store.dir);
  }
  if (store.size >= 0) {
    std::string size = human_size(store.size);
    if (store.limit > 0) {
      std::array<char, 32> pct{};
      std::snprintf(pct.data(),
                    pct.size(),
                    " (%.2f%%)",
                    100.0 * static_cast<double>(store.size) / static_cast<double>(store.limit));
      size += " / " + human_size(store.limit) + pct.data();
    }
    line(out, 2, "Store size", size);
    if (store.content >= 0) {
      line(out, 2, "Uncompressed", human_size(store.content));
      line(out, 2, "Compression ratio", ratio(store));
    }
  }
  return out.str();
}

std::string Stats::format_raw(const std::map<std::string, int64_t>& c, const StoreSummary& store) {
  std::map<std::string, int64_t> all = c;
  for (const char* name : k_core_counters) {
    all.emplace(name, 0);
  }
  std::string out;
  for (const auto& [k, v] : all) {
    out += k + "\t" + std::to_string(v) + "\n";
  }
  if (store.size >= 0 && store.content >= 0) {
    out += "store_bytes_on_disk\t" + std::to_string(store.size) + "\n";
    out += "store_bytes_uncompressed\t" + std::to_string(store.content) + "\n";
  }
  return out;
}

std::string Stats::format_compression(const StoreSummary& store) {
  std::ostringstream out;
  if (store.size < 0 || store.content < 0) {
    line(out, 0, "Store", "not available");
    return out.str();
  }
  line(out, 0, "Store on disk", human_size(store.size));
  line(out, 0, "Uncompressed", human_size(store.content));
  line(out, 0, "Compression ratio", ratio(store));
  line(out,
       0,
       "New blobs",
       store.compression == 0 ? std::string("stored raw (compression off)")
                              : "zstd level " + std::to_string(store.compression));
  return out.str();
}

} // namespace ccrex::agent
