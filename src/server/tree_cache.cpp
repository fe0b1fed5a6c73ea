#include "server/tree_cache.h"

#include "util/file.h"
#include "util/logging.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <limits>
#include <system_error>

namespace ccrex::server {
namespace {

namespace fs = std::filesystem;

// Far above any real tree, far below overflow: a hostile tree that shares one subtree at
// many places cannot wrap the sums around.
constexpr int64_t k_size_ceiling = std::numeric_limits<int64_t>::max() / 4;

int64_t add_capped(int64_t a, int64_t b) {
  return a > k_size_ceiling - b ? k_size_ceiling : a + b;
}

std::string key_of(const reapi::v2::Digest& d) {
  return d.hash() + "-" + std::to_string(d.size_bytes());
}

// Make every directory below (and at) `path` 0555; files keep the modes staging gave them.
util::Status seal(const std::string& path) {
  std::error_code ec;
  std::vector<std::string> dirs{path};
  for (auto it = fs::recursive_directory_iterator(path, ec);
       !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) {
      dirs.push_back(it->path().string());
    }
  }
  if (ec) {
    return util::errno_error("walk " + path, ec.value());
  }
  for (const auto& dir : dirs) {
    if (::chmod(dir.c_str(), 0555) != 0) {
      return util::errno_error("make " + dir + " read-only", errno);
    }
  }
  return {};
}

} // namespace

SubtreeSize subtree_size(const InputTree& tree, const reapi::v2::Digest& d, SubtreeSizes& sizes) {
  if (auto it = sizes.find(d.hash()); it != sizes.end()) {
    return it->second;
  }
  SubtreeSize out;
  const auto& dir = tree.directory(d);
  for (const auto& file : dir.files()) {
    out.bytes = add_capped(out.bytes, file.digest().size_bytes());
    out.files = add_capped(out.files, 1);
  }
  for (const auto& sub : dir.directories()) {
    const SubtreeSize s = subtree_size(tree, sub.digest(), sizes);
    out.bytes = add_capped(out.bytes, s.bytes);
    out.files = add_capped(out.files, s.files);
  }
  sizes.emplace(d.hash(), out);
  return out;
}

TreeCache::TreeCache(BlobStore& store, TreeCacheOptions options)
    : m_store(store),
      m_options(std::move(options)) {}

int64_t TreeCache::bytes() const {
  const std::lock_guard lock(m_mutex);
  return m_bytes;
}

util::Result<std::optional<std::string>>
TreeCache::find_or_build(const InputTree& tree,
                         const reapi::v2::Digest& d,
                         SubtreeSizes& sizes,
                         const StagingOptions& limits,
                         std::vector<reapi::v2::Digest>& missing) {
  if (!enabled()) {
    return std::optional<std::string>();
  }
  const std::string key = key_of(d);
  const std::string path = util::join_path(m_options.dir, key);
  const SubtreeSize size = subtree_size(tree, d, sizes);
  {
    const std::lock_guard lock(m_mutex);
    if (m_ready.contains(key)) {
      return std::optional<std::string>(path);
    }
    if (size.bytes < m_options.min_bytes && size.files < m_options.min_files) {
      return std::optional<std::string>();
    }
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      // Built by another process sharing the store: complete, or it would not be there.
      m_ready.insert(key);
      m_bytes = add_capped(m_bytes, size.bytes);
      return std::optional<std::string>(path);
    }
    if (!m_seen.contains(key)) {
      if (m_seen_order.size() >= m_options.max_seen && !m_seen_order.empty()) {
        m_seen.erase(m_seen_order.front());
        m_seen_order.pop_front();
      }
      m_seen.insert(key);
      m_seen_order.push_back(key);
      return std::optional<std::string>();
    }
    if (m_building.contains(key) || add_capped(m_bytes, size.bytes) > m_options.max_bytes) {
      return std::optional<std::string>();
    }
    m_building.insert(key);
    m_bytes = add_capped(m_bytes, size.bytes); // reserved while building
  }
  auto built = build(tree, d, path, limits, missing);
  const std::lock_guard lock(m_mutex);
  m_building.erase(key);
  if (!built) {
    m_bytes -= size.bytes;
    return built.error();
  }
  m_ready.insert(key);
  return std::optional<std::string>(*built);
}

util::Result<std::string> TreeCache::build(const InputTree& tree,
                                           const reapi::v2::Digest& d,
                                           const std::string& path,
                                           const StagingOptions& limits,
                                           std::vector<reapi::v2::Digest>& missing) {
  CCREX_TRY(util::make_dirs(m_options.dir, 0755));
  std::string tmp = util::join_path(m_options.dir, ".tmp-XXXXXX");
  if (::mkdtemp(tmp.data()) == nullptr) {
    return util::errno_error("create a directory in " + m_options.dir, errno);
  }
  StagingOptions copy;
  copy.hard_link_inputs = false; // private copies: the store's inodes stay out of reach
  copy.deadline = limits.deadline;
  copy.max_entries = limits.max_entries;
  copy.cancel = limits.cancel;
  auto st = stage_input_subtree(m_store, tree, d, tmp, copy, missing);
  if (st) {
    st = seal(tmp);
  }
  // Renaming within one parent needs no write permission on the (now 0555) directory.
  if (st && ::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    struct stat info {};
    if ((err != EEXIST && err != ENOTEMPTY) || ::lstat(path.c_str(), &info) != 0
        || !S_ISDIR(info.st_mode)) {
      st = util::errno_error("rename " + tmp + " to " + path, err);
    }
    // else: another process built the same tree first; use its copy.
  }
  if (auto gone = remove_tree(tmp); !gone && st) {
    CCREX_LOG_WARN("tree cache: cannot remove " << tmp << ": " << gone.error().message());
  }
  if (!st) {
    return st.error();
  }
  CCREX_LOG_DEBUG("tree cache: built " << path);
  return path;
}

} // namespace ccrex::server
