#include "server/blob_store.h"

#include "util/file.h"
#include "util/logging.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>

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

} // namespace

BlobStore::BlobStore(std::string dir, int64_t max_size)
    : m_dir(std::move(dir)),
      m_max_size(max_size) {}

util::Result<std::unique_ptr<BlobStore>>
BlobStore::open(const std::string& dir, int64_t max_size, bool sole_user) {
  if (max_size <= 0) {
    return util::invalid_argument("store size cap must be positive");
  }
  std::unique_ptr<BlobStore> store(new BlobStore(util::normalize_path(dir), max_size));
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
  };
  std::vector<Found> found;
  const std::string cas = util::join_path(m_dir, "cas");
  for (const auto& shard : list_dir(cas)) {
    const std::string shard_dir = util::join_path(cas, shard);
    for (const auto& name : list_dir(shard_dir)) {
      const std::string path = util::join_path(shard_dir, name);
      struct stat st {};
      if (!util::is_valid_sha256_hex(name) || name.compare(0, 2, shard) != 0
          || ::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
        CCREX_LOG_WARN("store: removing stray file " << path);
        (void)util::remove_all(path);
        continue;
      }
      found.push_back({name, static_cast<int64_t>(st.st_size), mtime_ns(st)});
    }
  }
  // Most recently used (newest mtime) first.
  std::sort(
      found.begin(), found.end(), [](const Found& a, const Found& b) { return a.mtime > b.mtime; });
  const std::lock_guard lock(m_mutex);
  for (auto& f : found) {
    m_lru.push_back(f.hash);
    m_index.emplace(std::move(f.hash), Entry{f.size, std::prev(m_lru.end()), 0});
    m_total += f.size;
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

std::string BlobStore::ac_path(std::string_view instance, std::string_view hash) const {
  // Instances share the CAS but not action results; the key mixes the instance in.
  const std::string key = instance.empty()
                              ? std::string(hash)
                              : util::sha256_hex(std::string(instance) + '\0' + std::string(hash));
  std::string p = m_dir;
  p += "/ac/";
  p += key.substr(0, 2);
  p += '/';
  p += key;
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
    ::utimensat(AT_FDCWD, cas_path(it->first).c_str(), nullptr, 0);
  }
}

bool BlobStore::contains(const util::Digest& d) {
  if (d.size == 0 && d.hash == util::k_empty_sha256) {
    return true;
  }
  {
    const std::lock_guard lock(m_mutex);
    const auto it = m_index.find(d.hash);
    if (it != m_index.end()) {
      if (it->second.size != d.size) {
        return false;
      }
      touch_locked(it);
      return true;
    }
  }
  return adopt(d);
}

bool BlobStore::adopt(const util::Digest& d) {
  struct stat st {};
  if (::lstat(cas_path(d.hash).c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size != d.size) {
    return false;
  }
  insert(d.hash, d.size);
  return true;
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
  if (!contains(d)) {
    return util::not_found("blob " + d.to_string() + " not in CAS");
  }
  auto data = util::read_file(cas_path(d.hash));
  if (!data) {
    // Evicted by another process sharing the store: forget it here too.
    const std::lock_guard lock(m_mutex);
    if (const auto it = m_index.find(d.hash); it != m_index.end()) {
      m_total -= it->second.size;
      m_lru.erase(it->second.lru);
      m_index.erase(it);
    }
    return util::not_found("blob " + d.to_string() + " not in CAS (evicted)");
  }
  if (static_cast<int64_t>(data->size()) != d.size) {
    return util::Error(util::ErrorCode::data_loss, "blob " + d.to_string() + " has wrong size");
  }
  return data;
}

util::Result<std::string> BlobStore::path_of(const util::Digest& d) {
  if (d.size == 0 || !contains(d)) {
    return util::not_found("blob " + d.to_string() + " not in CAS");
  }
  return cas_path(d.hash);
}

void BlobStore::insert(const std::string& hash, int64_t size) {
  const std::lock_guard lock(m_mutex);
  const auto it = m_index.find(hash);
  if (it != m_index.end()) {
    touch_locked(it);
    return;
  }
  m_lru.push_front(hash);
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  m_index.emplace(hash, Entry{size, m_lru.begin(), now});
  m_total += size;
  evict_locked();
}

void BlobStore::free_space(int64_t bytes) {
  const std::lock_guard lock(m_mutex);
  int64_t freed = 0;
  while (freed < bytes && !m_lru.empty()) {
    const std::string hash = m_lru.back();
    m_lru.pop_back();
    const auto it = m_index.find(hash);
    freed += it->second.size;
    m_total -= it->second.size;
    m_index.erase(it);
    ::unlink(cas_path(hash).c_str());
  }
  CCREX_LOG_WARN("store: disk full, evicted " << freed << " bytes");
}

void BlobStore::evict_locked() {
  if (m_total <= m_max_size) {
    return;
  }
  const int64_t target = m_max_size / 100 * k_evict_percent;
  // Never evict the most recent entry: it was just stored for a caller still using it.
  while (m_total > target && m_lru.size() > 1) {
    const std::string hash = m_lru.back();
    m_lru.pop_back();
    const auto it = m_index.find(hash);
    m_total -= it->second.size;
    m_index.erase(it);
    ::unlink(cas_path(hash).c_str());
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
  CCREX_TRY(note_write(write_blob(d, data)));
  insert(d.hash, d.size);
  return {};
}

util::Status BlobStore::write_blob(const util::Digest& d, std::string_view data) {
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
  return {};
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
  const std::string tmp = new_temp_path();
  // A hard link avoids copying outputs that already live on the store's file system; the
  // digest is computed from the linked inode, so later changes to `path` cannot slip in
  // unverified (the runner's process group is dead by then).
  if (::link(path.c_str(), tmp.c_str()) != 0) {
    CCREX_TRY(util::copy_file_atomic(path, tmp, 0444));
  }
  auto d = util::digest_file(tmp);
  if (!d) {
    ::unlink(tmp.c_str());
    return d.error();
  }
  CCREX_TRY(put_temp_file(*d, tmp));
  return d;
}

std::optional<std::string> BlobStore::get_action_result(std::string_view instance,
                                                        std::string_view action_hash) {
  auto data = util::read_file(ac_path(instance, action_hash));
  if (!data) {
    return std::nullopt;
  }
  return std::move(data).value();
}

util::Status BlobStore::put_action_result(std::string_view instance,
                                          std::string_view action_hash,
                                          std::string_view serialized) {
  const std::string path = ac_path(instance, action_hash);
  CCREX_TRY(note_write(util::make_dirs(util::dirname(path), 0777)));
  return note_write(util::write_file_atomic(path, serialized, 0644));
}

int64_t BlobStore::total_size() {
  const std::lock_guard lock(m_mutex);
  return m_total;
}

std::vector<std::string> BlobStore::verify_all() {
  std::vector<std::pair<std::string, int64_t>> entries;
  {
    const std::lock_guard lock(m_mutex);
    for (const auto& [hash, e] : m_index) {
      entries.emplace_back(hash, e.size);
    }
  }
  std::vector<std::string> bad;
  for (const auto& [hash, size] : entries) {
    auto d = util::digest_file(cas_path(hash));
    if (d && (d->hash != hash || d->size != size)) {
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
