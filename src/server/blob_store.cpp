#include "server/blob_store.h"

#include "util/file.h"
#include "util/logging.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <system_error>

namespace ccrex::server {
namespace {

// Evict down to this fraction of the cap so that eviction does not run on every insert.
constexpr int64_t k_evict_percent = 90;

std::vector<std::string> list_dir(const std::string& path) {
  std::vector<std::string> out;
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) {
    return out;
  }
  while (const dirent* e = ::readdir(d)) { // NOLINT(concurrency-mt-unsafe): one DIR per thread
    const std::string_view name = e->d_name;
    if (name != "." && name != "..") {
      out.emplace_back(name);
    }
  }
  ::closedir(d);
  return out;
}

int64_t mtime_ns(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

// Closes a file descriptor at the end of a scope.
struct FdGuard {
  explicit FdGuard(int f) : fd(f) {}
  int fd;
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  ~FdGuard() { ::close(fd); }
};

// Read `from` (an open regular file, named `what` in errors) to its end, writing every
// byte to `to` too unless it is -1; return the digest of what was read.
util::Result<util::Digest> hash_and_copy(int from, int to, const std::string& what) {
  util::Sha256 h;
  std::array<char, 1 << 16> buf{};
  int64_t total = 0;
  for (;;) {
    const ssize_t n = ::read(from, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return util::errno_error("read " + what, errno);
    }
    if (n == 0) {
      break;
    }
    for (ssize_t off = 0; to >= 0 && off < n;) {
      const ssize_t w = ::write(to, buf.data() + off, static_cast<size_t>(n - off));
      if (w < 0 && errno == EINTR) {
        continue;
      }
      if (w < 0) {
        return util::errno_error("write copy of " + what, errno);
      }
      off += w;
    }
    h.update(std::string_view(buf.data(), static_cast<size_t>(n)));
    total += n;
  }
  return util::Digest{h.finish(), total};
}

// Copy the open file `from` into the new file `tmp` (mode 0444); return its digest.
util::Result<util::Digest> copy_to_temp(int from, const std::string& tmp, const std::string& what) {
  const int to = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
  if (to < 0) {
    return util::errno_error("create " + tmp, errno);
  }
  const FdGuard guard{to};
  return hash_and_copy(from, to, what);
}

// Parse the name of a compressed blob, "<hash>.<size>.zst"; return its size, or -1.
int64_t compressed_name_size(std::string_view name) {
  constexpr std::string_view k_suffix = ".zst";
  if (name.size() <= 64 + 1 + k_suffix.size() || name[64] != '.'
      || name.substr(name.size() - k_suffix.size()) != k_suffix
      || !util::is_valid_sha256_hex(name.substr(0, 64))) {
    return -1;
  }
  const std::string_view digits = name.substr(65, name.size() - 65 - k_suffix.size());
  if (digits.size() > 18 || (digits.size() > 1 && digits[0] == '0')) {
    return -1;
  }
  int64_t n = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') {
      return -1;
    }
    n = n * 10 + (c - '0');
  }
  return n > 0 ? n : -1;
}

} // namespace

BlobStore::BlobStore(std::string dir, int64_t max_size)
    : m_dir(std::move(dir)),
      m_max_size(max_size) {}

util::Result<std::unique_ptr<BlobStore>>
BlobStore::open(const std::string& dir, int64_t max_size, bool sole_user, int compression_level) {
  if (max_size <= 0) {
    return util::invalid_argument("store size cap must be positive");
  }
  if (compression_level != 0
      && (compression_level < k_min_compression_level
          || compression_level > k_max_compression_level)) {
    return util::invalid_argument("compression level " + std::to_string(compression_level)
                                  + " is outside " + std::to_string(k_min_compression_level) + ".."
                                  + std::to_string(k_max_compression_level));
  }
  std::unique_ptr<BlobStore> store(new BlobStore(util::normalize_path(dir), max_size));
  store->m_level = compression_level;
  for (const char* sub : {"cas", "ac", "tmp"}) {
    // 0777 less the umask: with umask 002 a group shares the store (README).
    CCREX_TRY(util::make_dirs(util::join_path(store->m_dir, sub), 0777));
  }
  // Leftovers of writes interrupted by a crash: never visible as blobs, safe to delete
  // when no other process may be writing them right now.
  store->m_sole_user = sole_user;
  const std::string tmp = util::join_path(store->m_dir, "tmp");
  for (const auto& name : sole_user ? list_dir(tmp) : std::vector<std::string>{}) {
    (void)util::remove_all(util::join_path(tmp, name));
  }
  CCREX_TRY(store->load_index());
  return store;
}

util::Status BlobStore::load_index() {
  struct Found {
    std::string hash;
    int64_t size;
    int64_t mtime;
    int64_t disk = -1;
    bool compressed = false;
  };
  std::vector<Found> found;
  const std::string cas = util::join_path(m_dir, "cas");
  for (const auto& shard : list_dir(cas)) {
    const std::string shard_dir = util::join_path(cas, shard);
    for (const auto& name : list_dir(shard_dir)) {
      const std::string path = util::join_path(shard_dir, name);
      const int64_t content = compressed_name_size(name);
      struct stat st {};
      if ((!util::is_valid_sha256_hex(name) && content < 0) || name.compare(0, 2, shard) != 0
          || ::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
        CCREX_LOG_WARN("store: removing stray file " << path);
        (void)util::remove_all(path);
        continue;
      }
      if (content < 0) {
        found.push_back({name, static_cast<int64_t>(st.st_size), mtime_ns(st)});
      } else {
        found.push_back(
            {name.substr(0, 64), content, mtime_ns(st), static_cast<int64_t>(st.st_size), true});
      }
    }
  }
  const std::string ac = util::join_path(m_dir, "ac");
  for (const auto& shard : list_dir(ac)) {
    const std::string shard_dir = util::join_path(ac, shard);
    for (const auto& name : list_dir(shard_dir)) {
      const std::string path = util::join_path(shard_dir, name);
      struct stat st {};
      if (!util::is_valid_sha256_hex(name) || name.compare(0, 2, shard) != 0
          || ::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
        // Another process sharing the store may be writing it right now (a temporary
        // sibling); only a sole user knows it is a leftover.
        if (m_sole_user) {
          (void)util::remove_all(path);
        }
        continue;
      }
      found.push_back(
          {std::string(k_ac_prefix) + name, static_cast<int64_t>(st.st_size), mtime_ns(st)});
    }
  }
  // Most recently used (newest mtime) first.
  std::sort(
      found.begin(), found.end(), [](const Found& a, const Found& b) { return a.mtime > b.mtime; });
  const std::lock_guard lock(m_mutex);
  for (auto& f : found) {
    const int64_t disk = f.disk < 0 ? f.size : f.disk;
    if (m_index.contains(f.hash)) {
      // Stored both raw and compressed (by processes with different settings): one is
      // enough, the other is a leftover when nobody else uses the store.
      if (m_sole_user) {
        ::unlink(blob_path(f.hash, f.size, f.compressed).c_str());
      }
      continue;
    }
    const auto it = m_index.emplace(std::move(f.hash), Entry{f.size, disk, f.compressed, {}, 0});
    it.first->second.lru = m_lru.insert(m_lru.end(), &it.first->first);
    m_total += disk;
    m_content += f.size;
  }
  evict_locked();
  return {};
}

std::string BlobStore::cas_path(std::string_view hash) const {
  std::string p = m_dir;
  p += "/cas/";
  p += hash.substr(0, 2);
  p += '/';
  p += hash;
  return p;
}

std::string BlobStore::blob_path(std::string_view hash, int64_t size, bool compressed) const {
  std::string p = cas_path(hash);
  if (compressed) {
    p += '.';
    p += std::to_string(size);
    p += ".zst";
  }
  return p;
}

std::string BlobStore::ac_key(std::string_view instance, std::string_view hash) {
  // Instances share the CAS but not action results; the key mixes the instance in.
  std::string key(k_ac_prefix);
  key += instance.empty() ? std::string(hash)
                          : util::sha256_hex(std::string(instance) + '\0' + std::string(hash));
  return key;
}

std::string BlobStore::path_of_key(std::string_view key, const Entry& e) const {
  if (key.substr(0, k_ac_prefix.size()) != k_ac_prefix) {
    return blob_path(key, e.size, e.compressed);
  }
  const std::string_view name = key.substr(k_ac_prefix.size());
  std::string p = m_dir;
  p += "/ac/";
  p += name.substr(0, 2);
  p += '/';
  p += name;
  return p;
}

std::string BlobStore::new_temp_path() {
  static std::atomic<uint64_t> counter{0};
  return m_dir + "/tmp/" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

void BlobStore::touch_locked(std::unordered_map<std::string, Entry>::iterator it) {
  m_lru.splice(m_lru.begin(), m_lru, it->second.lru);
  // Reopening the store orders blobs by mtime; refresh it at most once a minute per blob.
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  if (now - it->second.touched >= 60) {
    it->second.touched = now;
    ::utimensat(AT_FDCWD, path_of_key(it->first, it->second).c_str(), nullptr, 0);
  }
}

bool BlobStore::contains(const util::Digest& d) {
  if (d.size == 0 && d.hash == util::k_empty_sha256) {
    return true;
  }
  return locate(d).has_value();
}

std::optional<BlobStore::Located> BlobStore::locate(const util::Digest& d) {
  {
    const std::lock_guard lock(m_mutex);
    const auto it = m_index.find(d.hash);
    if (it != m_index.end()) {
      if (it->second.size != d.size) {
        return std::nullopt;
      }
      touch_locked(it);
      return Located{blob_path(d.hash, d.size, it->second.compressed), it->second.compressed};
    }
  }
  if (!adopt(d)) {
    return std::nullopt;
  }
  const std::lock_guard lock(m_mutex);
  const auto it = m_index.find(d.hash);
  if (it == m_index.end() || it->second.size != d.size) {
    return std::nullopt; // evicted again at once
  }
  return Located{blob_path(d.hash, d.size, it->second.compressed), it->second.compressed};
}

bool BlobStore::adopt(const util::Digest& d) {
  if (d.size <= 0) {
    return false;
  }
  struct stat st {};
  if (::lstat(cas_path(d.hash).c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size == d.size) {
    insert(d.hash, d.size);
    return true;
  }
  if (::lstat(blob_path(d.hash, d.size, true).c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    insert(d.hash, d.size, st.st_size, true);
    return true;
  }
  return false;
}

void BlobStore::discard(const util::Digest& d, const Located& where) {
  CCREX_LOG_WARN("store: removing damaged blob " << where.path);
  {
    const std::lock_guard lock(m_mutex);
    const auto it = m_index.find(d.hash);
    if (it != m_index.end() && it->second.compressed == where.compressed) {
      m_total -= it->second.disk;
      m_content -= it->second.size;
      m_lru.erase(it->second.lru);
      m_index.erase(it);
    }
  }
  ::unlink(where.path.c_str());
}

std::vector<util::Digest> BlobStore::find_missing(const std::vector<util::Digest>& digests) {
  std::vector<util::Digest> missing;
  for (const auto& d : digests) {
    if (!contains(d)) {
      missing.push_back(d);
    }
  }
  return missing;
}

util::Result<std::string> BlobStore::read(const util::Digest& d) {
  if (d.size == 0 && d.hash == util::k_empty_sha256) {
    return std::string();
  }
  const auto where = locate(d);
  if (!where) {
    return util::not_found("blob " + d.to_string() + " not in CAS");
  }
  if (where->compressed) {
    auto reader = open_reader(d);
    if (!reader) {
      return reader.error();
    }
    // The blob's size, from its digest, bounds the buffer whatever the file claims.
    std::string out(static_cast<size_t>(d.size), '\0');
    size_t done = 0;
    while ((*reader)->remaining() > 0) {
      auto n = (*reader)->read(out.data() + done, out.size() - done);
      if (!n) {
        return util::not_found("blob " + d.to_string() + " not in CAS (damaged)");
      }
      done += *n;
    }
    return out;
  }
  auto data = util::read_file(where->path);
  if (!data) {
    forget(d.hash); // evicted by another process sharing the store
    return util::not_found("blob " + d.to_string() + " not in CAS (evicted)");
  }
  if (static_cast<int64_t>(data->size()) != d.size) {
    return util::Error(util::ErrorCode::data_loss, "blob " + d.to_string() + " has wrong size");
  }
  return data;
}

util::Result<std::string> BlobStore::path_of(const util::Digest& d) {
  const auto where = d.size == 0 ? std::nullopt : locate(d);
  if (!where || where->compressed) {
    return util::not_found("blob " + d.to_string() + " not in CAS as a plain file");
  }
  return where->path;
}

util::Result<std::unique_ptr<BlobReader>> BlobStore::open_reader(const util::Digest& d) {
  if (d.size == 0 && d.hash == util::k_empty_sha256) {
    return BlobReader::open("/dev/null", false, d);
  }
  const auto where = locate(d);
  if (!where) {
    return util::not_found("blob " + d.to_string() + " not in CAS");
  }
  auto reader = BlobReader::open(where->path, where->compressed, d);
  if (!reader) {
    if (reader.error().code() == util::ErrorCode::data_loss) {
      discard(d, *where);
    } else {
      forget(d.hash); // evicted by another process sharing the store
    }
    return util::not_found("blob " + d.to_string() + " not in CAS");
  }
  (*reader)->on_damage([this, d, w = *where] { discard(d, w); });
  return reader;
}

util::Status BlobStore::copy_to(const util::Digest& d, const std::string& dest, unsigned mode) {
  if (d.size > 0) {
    if (auto src = path_of(d)) {
      // A blob stored raw: the kernel copies it.
      std::error_code ec;
      if (std::filesystem::copy_file(*src, dest, ec) && ::chmod(dest.c_str(), mode) == 0) {
        return {};
      }
      ::unlink(dest.c_str()); // evicted mid-copy or similar: try the reader below
    }
  }
  CCREX_ASSIGN_OR_RETURN(auto reader, open_reader(d));
  auto st = write_blob_to(*reader, dest, mode);
  if (!st && st.error().code() == util::ErrorCode::data_loss) {
    return util::not_found("blob " + d.to_string() + " not in CAS (damaged)");
  }
  return st;
}

void BlobStore::forget(const std::string& key) {
  const std::lock_guard lock(m_mutex);
  if (const auto it = m_index.find(key); it != m_index.end()) {
    m_total -= it->second.disk;
    m_content -= it->second.size;
    m_lru.erase(it->second.lru);
    m_index.erase(it);
  }
}

void BlobStore::insert(const std::string& key, int64_t size, int64_t disk, bool compressed) {
  if (disk < 0) {
    disk = size;
  }
  const std::lock_guard lock(m_mutex);
  const auto it = m_index.find(key);
  if (it != m_index.end()) {
    // Blobs never change size; an action result replaced by a new one may. A blob keeps
    // the form it was first indexed in.
    if (it->second.compressed == compressed) {
      m_total += disk - it->second.disk;
      m_content += size - it->second.size;
      it->second.size = size;
      it->second.disk = disk;
    }
    touch_locked(it);
    evict_locked();
    return;
  }
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  const auto added = m_index.emplace(key, Entry{size, disk, compressed, {}, now});
  added.first->second.lru = m_lru.insert(m_lru.begin(), &added.first->first);
  m_total += disk;
  m_content += size;
  evict_locked();
}

void BlobStore::free_space(int64_t bytes) {
  const std::lock_guard lock(m_mutex);
  int64_t freed = 0;
  while (freed < bytes && !m_lru.empty()) {
    const std::string hash = *m_lru.back();
    m_lru.pop_back();
    const auto it = m_index.find(hash);
    freed += it->second.disk;
    m_total -= it->second.disk;
    m_content -= it->second.size;
    ::unlink(path_of_key(hash, it->second).c_str());
    m_index.erase(it);
  }
  CCREX_LOG_WARN("store: disk full, evicted " << freed << " bytes");
}

void BlobStore::set_max_size(int64_t max_size) {
  const std::lock_guard lock(m_mutex);
  m_max_size = max_size;
  evict_locked();
}

int64_t BlobStore::evict_unused_since(std::chrono::system_clock::time_point cutoff) {
  const std::lock_guard lock(m_mutex);
  const auto limit = std::chrono::system_clock::to_time_t(cutoff);
  int64_t freed = 0;
  while (!m_lru.empty()) {
    const std::string key = *m_lru.back();
    const auto it = m_index.find(key);
    const std::string path = path_of_key(key, it->second);
    struct stat st {};
    // The file's mtime marks its last use (insert() and touches set it).
    if (::stat(path.c_str(), &st) == 0 && st.st_mtim.tv_sec >= limit) {
      break;
    }
    m_lru.pop_back();
    m_total -= it->second.disk;
    m_content -= it->second.size;
    freed += it->second.disk;
    m_index.erase(it);
    ::unlink(path.c_str());
  }
  return freed;
}

void BlobStore::evict_locked() {
  if (m_total <= m_max_size) {
    return;
  }
  const int64_t target = m_max_size / 100 * k_evict_percent;
  // Never evict the most recent entry: it was just stored for a caller still using it.
  while (m_total > target && m_lru.size() > 1) {
    const std::string hash = *m_lru.back();
    m_lru.pop_back();
    const auto it = m_index.find(hash);
    m_total -= it->second.disk;
    m_content -= it->second.size;
    ::unlink(path_of_key(hash, it->second).c_str());
    m_index.erase(it);
  }
}

util::Status BlobStore::put(const util::Digest& d, std::string_view data) {
  if (static_cast<int64_t>(data.size()) != d.size) {
    return util::invalid_argument("blob " + d.to_string() + ": got " + std::to_string(data.size())
                                  + " bytes");
  }
  if (util::sha256_hex(data) != d.hash) {
    return util::invalid_argument("blob " + d.to_string() + ": content does not match hash");
  }
  if (d.size == 0 || contains(d)) {
    return {};
  }
  return note_write(write_blob(d, data));
}

util::Status BlobStore::publish_frame(const util::Digest& d, const std::string& tmp, int64_t disk) {
  const std::string dest = blob_path(d.hash, d.size, true);
  if (auto st = util::make_dirs(util::dirname(dest), 0777); !st) {
    ::unlink(tmp.c_str());
    return st;
  }
  if (::rename(tmp.c_str(), dest.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return util::errno_error("store blob " + d.hash, err);
  }
  insert(d.hash, d.size, disk, true);
  return {};
}

util::Status BlobStore::write_blob(const util::Digest& d, std::string_view data) {
  const int level = m_level.load();
  if (level != 0 && worth_compressing(d.size)) {
    const std::string tmp = new_temp_path();
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
    if (fd < 0) {
      return util::errno_error("create " + tmp, errno);
    }
    auto written = compress_data(data, fd, level);
    if (::close(fd) != 0 && written) {
      written = util::errno_error("write " + tmp, errno);
    }
    if (written && compression_pays(d.size, *written)) {
      return publish_frame(d, tmp, *written);
    }
    ::unlink(tmp.c_str());
    if (!written && written.error().code() != util::ErrorCode::resource_exhausted) {
      return written.error();
    }
    // Does not pay, or the disk is full: the raw write below makes room if it can.
  }
  const std::string tmp = new_temp_path();
  const std::string dest = cas_path(d.hash);
  CCREX_TRY(util::make_dirs(util::dirname(dest), 0777));
  // `tmp` is new and private to this call: write it in place, then one rename publishes it.
  auto written = util::write_new_file(tmp, data, 0444);
  if (!written && written.error().code() == util::ErrorCode::resource_exhausted) {
    // The disk is full before the size cap is reached: make room and try once more.
    free_space(std::max<int64_t>(2 * d.size, total_size() / 10));
    written = util::write_new_file(tmp, data, 0444);
  }
  CCREX_TRY(written);
  if (::rename(tmp.c_str(), dest.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return util::errno_error("store blob " + d.hash, err);
  }
  insert(d.hash, d.size);
  return {};
}

util::Result<BlobStore::Compressed> BlobStore::store_compressed(
    int fd, int64_t size, const std::optional<util::Digest>& expect, const std::string& what) {
  const std::string tmp = new_temp_path();
  const int to = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
  if (to < 0) {
    return util::errno_error("create " + tmp, errno);
  }
  auto copy = compress_file(fd, size, to, m_level.load(), what);
  if (::close(to) != 0 && copy) {
    copy = util::errno_error("write " + tmp, errno);
  }
  if (!copy) {
    ::unlink(tmp.c_str());
    return copy.error();
  }
  Compressed out{copy->digest, false};
  if (expect && *expect != copy->digest) {
    ::unlink(tmp.c_str());
    return util::invalid_argument("blob " + expect->to_string() + ": uploaded content hashes to "
                                  + copy->digest.to_string());
  }
  if (contains(copy->digest)) {
    ::unlink(tmp.c_str());
    out.stored = true; // nothing more to do
    return out;
  }
  if (!compression_pays(size, copy->compressed_size)) {
    ::unlink(tmp.c_str());
    return out;
  }
  CCREX_TRY(note_write(publish_frame(copy->digest, tmp, copy->compressed_size)));
  out.stored = true;
  return out;
}

util::Status BlobStore::note_write(util::Status st) {
  if (st) {
    if (m_unwritable.exchange(false)) {
      CCREX_LOG_WARN("store: " << m_dir << " is writable again");
    }
  } else if (st.error().code() == util::ErrorCode::permission_denied
             && !m_unwritable.exchange(true)) {
    CCREX_LOG_ERROR("store: cannot write to " << m_dir << " (" << st.error().message()
                                              << "); uploads fail, reads go on");
  }
  return st;
}

util::Result<util::Digest> BlobStore::put_computed(std::string_view data) {
  const util::Digest d = util::digest_of(data);
  CCREX_TRY(put(d, data));
  return d;
}

util::Status BlobStore::put_temp_file(const util::Digest& d, const std::string& temp_path) {
  if (m_level.load() != 0 && worth_compressing(d.size)) {
    // One pass hashes and compresses; the upload is kept only when the frame does not pay.
    const int fd = ::open(temp_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
      const int err = errno;
      ::unlink(temp_path.c_str());
      return util::errno_error("open " + temp_path, err);
    }
    struct stat st {};
    auto done = ::fstat(fd, &st) == 0
                    ? store_compressed(fd, st.st_size, d, temp_path)
                    : util::Result<Compressed>(util::errno_error("stat " + temp_path, errno));
    ::close(fd);
    if (!done || done->stored) {
      ::unlink(temp_path.c_str());
      return done ? util::Status() : util::Status(done.error());
    }
    CCREX_TRY(note_write(move_into_place(d, temp_path)));
    insert(d.hash, d.size);
    return {};
  }
  auto actual = util::digest_file(temp_path);
  if (!actual || *actual != d) {
    ::unlink(temp_path.c_str());
    if (!actual) {
      return actual.error();
    }
    return util::invalid_argument("blob " + d.to_string() + ": uploaded content hashes to "
                                  + actual->to_string());
  }
  if (d.size == 0 || contains(d)) {
    ::unlink(temp_path.c_str());
    return {};
  }
  CCREX_TRY(note_write(move_into_place(d, temp_path)));
  insert(d.hash, d.size);
  return {};
}

util::Status BlobStore::move_into_place(const util::Digest& d, const std::string& temp_path) {
  const std::string dest = cas_path(d.hash);
  if (auto st = util::make_dirs(util::dirname(dest), 0777); !st) {
    ::unlink(temp_path.c_str());
    return st;
  }
  if (::chmod(temp_path.c_str(), 0444) != 0 || ::rename(temp_path.c_str(), dest.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp_path.c_str());
    return util::errno_error("store blob " + d.hash, err);
  }
  return {};
}

util::Result<util::Digest> BlobStore::put_file(const std::string& path) {
  // Never through a symlink: the output is what the action left at `path` itself.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
  if (fd < 0) {
    const int err = errno;
    if (err == ELOOP) {
      return util::Error(util::ErrorCode::failed_precondition, path + " is a symlink");
    }
    return util::errno_error("open " + path, err);
  }
  const FdGuard guard{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return util::Error(util::ErrorCode::failed_precondition, path + " is not a regular file");
  }
  if (m_level.load() != 0 && worth_compressing(st.st_size)) {
    CCREX_ASSIGN_OR_RETURN(const auto done, store_compressed(fd, st.st_size, std::nullopt, path));
    if (done.stored) {
      return done.digest;
    }
    // Stored raw after all: read the file again from its start.
    if (::lseek(fd, 0, SEEK_SET) != 0) {
      return util::errno_error("seek " + path, errno);
    }
  }
  const std::string tmp = new_temp_path();
  // A hard link saves copying an output that lives on the store's file system, but only
  // when `path` is the file's one name: a file with another name (say, linked from outside
  // the action's directory) would be made read-only there and could be rewritten through
  // it. The digest is computed from the linked inode itself, after the action is gone.
  bool linked = st.st_nlink == 1 && ::link(path.c_str(), tmp.c_str()) == 0;
  if (linked) {
    struct stat lst {};
    if (::lstat(tmp.c_str(), &lst) != 0 || lst.st_ino != st.st_ino || lst.st_dev != st.st_dev
        || lst.st_nlink != 2) {
      ::unlink(tmp.c_str());
      linked = false;
    }
  }
  auto d = linked ? hash_and_copy(fd, -1, path) : copy_to_temp(fd, tmp, path);
  if (!d) {
    ::unlink(tmp.c_str());
    return d.error();
  }
  if (d->size == 0 || contains(*d)) {
    ::unlink(tmp.c_str());
    return d;
  }
  CCREX_TRY(note_write(move_into_place(*d, tmp)));
  insert(d->hash, d->size);
  return d;
}

std::optional<std::string> BlobStore::get_action_result(std::string_view instance,
                                                        std::string_view action_hash) {
  const std::string key = ac_key(instance, action_hash);
  auto data = util::read_file(path_of_key(key, Entry{}));
  if (!data) {
    forget(key); // evicted here or by another process sharing the store
    return std::nullopt;
  }
  // A hit makes the entry recently used; one another process stored is indexed now.
  insert(key, static_cast<int64_t>(data->size()));
  return std::move(data).value();
}

util::Status BlobStore::put_action_result(std::string_view instance,
                                          std::string_view action_hash,
                                          std::string_view serialized) {
  const std::string key = ac_key(instance, action_hash);
  const std::string path = path_of_key(key, Entry{});
  CCREX_TRY(note_write(util::make_dirs(util::dirname(path), 0777)));
  CCREX_TRY(note_write(util::write_file_atomic(path, serialized, 0644)));
  insert(key, static_cast<int64_t>(serialized.size()));
  return {};
}

int64_t BlobStore::total_size() {
  const std::lock_guard lock(m_mutex);
  return m_total;
}

int64_t BlobStore::content_size() {
  const std::lock_guard lock(m_mutex);
  return m_content;
}

std::vector<std::string> BlobStore::verify_all() {
  struct Item {
    std::string hash;
    int64_t size;
    bool compressed;
  };
  std::vector<Item> entries;
  {
    const std::lock_guard lock(m_mutex);
    for (const auto& [hash, e] : m_index) {
      if (hash.size() == 64) { // a blob, not an action result
        entries.push_back({hash, e.size, e.compressed});
      }
    }
  }
  std::vector<std::string> bad;
  for (const auto& [hash, size, compressed] : entries) {
    if (!compressed) {
      auto d = util::digest_file(cas_path(hash));
      if (d && (d->hash != hash || d->size != size)) {
        bad.push_back(hash);
      }
      continue;
    }
    // Decompressed through a fixed buffer and hashed; a damaged frame counts as bad.
    auto reader = BlobReader::open(blob_path(hash, size, true), true, util::Digest{hash, size});
    if (!reader && reader.error().code() == util::ErrorCode::not_found) {
      continue; // evicted meanwhile
    }
    util::Sha256 h;
    std::array<char, 1 << 16> buf{};
    bool ok = static_cast<bool>(reader);
    while (ok && (*reader)->remaining() > 0) {
      auto n = (*reader)->read(buf.data(), buf.size());
      ok = static_cast<bool>(n);
      if (ok) {
        h.update(std::string_view(buf.data(), *n));
      }
    }
    if (!ok || h.finish() != hash) {
      bad.push_back(hash);
    }
  }
  return bad;
}

void BlobStore::for_each_action_result(
    const std::function<void(const std::string&, const std::string&)>& fn) const {
  const std::string ac = util::join_path(m_dir, "ac");
  for (const auto& shard : list_dir(ac)) {
    for (const auto& name : list_dir(util::join_path(ac, shard))) {
      if (auto data = util::read_file(util::join_path(util::join_path(ac, shard), name))) {
        fn(name, *data);
      }
    }
  }
}

} // namespace ccrex::server
