#include "depscan/scan_cache.h"

#include "depscan/content_hash.h"
#include "depscan/packed_scan_record.h"

#include <algorithm>
#include <functional>

namespace ccrex::depscan {
namespace {

// Return a hash of the first and last (up to) 64 bytes of `content`: equal contents have
// equal samples, so files whose samples differ need not be compared.
uint64_t sample_hash(std::string_view content) {
  constexpr size_t k_edge = 64;
  const size_t n = std::min(content.size(), k_edge);
  const uint64_t tail = content_hash(content.substr(content.size() - n));
  return content_hash(content.substr(0, n)) ^ ((tail << 1) | (tail >> 63));
}

} // namespace

template <typename V>
ScanCache::Shard<V>& ScanCache::shard_for(Shards<V>& shards, const std::string& key) {
  return shards[std::hash<std::string>{}(key) % k_shards];
}

template <typename V>
const ScanCache::Shard<V>& ScanCache::shard_for(const Shards<V>& shards, const std::string& key) {
  return shards[std::hash<std::string>{}(key) % k_shards];
}

bool ScanCache::knows_file(const std::string& path) const {
  const auto& shard = shard_for(m_files, path);
  const std::lock_guard lock(shard.mutex);
  return shard.map.count(path) != 0;
}

util::Result<std::shared_ptr<const DirectiveList>>
ScanCache::directives(FileSystem& fs, const std::string& path, const FileStat& st) {
  auto& file_shard = shard_for(m_files, path);
  {
    const std::lock_guard lock(file_shard.mutex);
    const auto it = file_shard.map.find(path);
    if (it != file_shard.map.end() && it->second.stat == st) {
      ++m_directive_hits;
      return it->second.directives;
    }
  }
  // One buffer per thread, reused across files: no allocation or zero-fill per header.
  thread_local std::string buffer;
  CCREX_ASSIGN_OR_RETURN(const size_t used, fs.read_into(path, st.size, buffer));
  const std::string_view content(buffer.data(), used);
  std::shared_ptr<const DirectiveList> result;
  const uint64_t sample = sample_hash(content);
  auto& size_shard = m_by_size[content.size() % k_shards];
  std::optional<uint64_t> hash;
  {
    const std::lock_guard lock(size_shard.mutex);
    const auto it = size_shard.map.find(content.size());
    if (it != size_shard.map.end() && !it->second.empty()) {
      result = find_same_content(fs, it->second, content, sample, hash);
    }
  }
  if (result) {
    ++m_digest_hits;
  } else {
    result = std::make_shared<const DirectiveList>(lex_file(content));
    ++m_lexed;
    const std::lock_guard lock(size_shard.mutex);
    auto& bucket = size_shard.map[content.size()];
    std::erase_if(bucket, [&](const SizeEntry& e) { return e.path == path; });
    bucket.push_back(SizeEntry{path, st, sample, hash, result});
  }
  // The stat taken before reading is stored: if the file changed while being read, the
  // next lookup sees a different stat and reads it again.
  const std::lock_guard lock(file_shard.mutex);
  file_shard.map[path] = FileEntry{st, result};
  return result;
}

// Return the directives of an entry of `bucket` whose bytes equal `content`, whose
// sample_hash is `sample`. Only entries with the same sample can match; they are re-read to
// hash them (once) and to confirm a match, and `hash` is set to content's own hash when
// that is needed. An entry whose file changed since it was lexed is dropped. The caller
// holds the bucket's shard lock: this path is taken only on size collisions.
std::shared_ptr<const DirectiveList> ScanCache::find_same_content(FileSystem& fs,
                                                                  std::vector<SizeEntry>& bucket,
                                                                  std::string_view content,
                                                                  uint64_t sample,
                                                                  std::optional<uint64_t>& hash) {
  std::shared_ptr<const DirectiveList> found;
  for (auto it = bucket.begin(); it != bucket.end();) {
    if (found || it->sample != sample) {
      ++it;
      continue;
    }
    if (!hash) {
      hash = content_hash(content);
    }
    if (it->hash && *it->hash != *hash) {
      ++it;
      continue;
    }
    auto other = fs.stat(it->path) == it->stat ? fs.read_file(it->path)
                                               : util::Result<std::string>(util::not_found(""));
    if (!other || fs.stat(it->path) != it->stat) {
      it = bucket.erase(it);
      continue;
    }
    it->hash = content_hash(*other);
    if (*other == content) {
      found = it->directives;
    }
    ++it;
  }
  return found;
}

std::shared_ptr<const DirListing>
ScanCache::listing(FileSystem& fs, const std::string& path, const FileStat& st) {
  auto& shard = shard_for(m_listings, path);
  {
    const std::lock_guard lock(shard.mutex);
    const auto it = shard.map.find(path);
    if (it != shard.map.end() && it->second->stat == st) {
      ++m_listing_hits;
      return it->second;
    }
  }
  auto entries = fs.list_dir(path);
  if (!entries) {
    return nullptr;
  }
  auto listing = std::make_shared<DirListing>();
  listing->stat = st;
  listing->entries.reserve(entries->size());
  for (DirEntry& e : *entries) {
    const std::string_view name = e.name;
    listing->has_pch = listing->has_pch || name.ends_with(".gch") || name.ends_with(".pch");
    listing->entries.emplace(std::move(e.name), e.type);
  }
  ++m_listings_read;
  std::shared_ptr<const DirListing> out = std::move(listing);
  const std::lock_guard lock(shard.mutex);
  shard.map[path] = out;
  return out;
}

namespace {

bool same_directory(const std::optional<FileStat>& a, const std::optional<FileStat>& b) {
  return a && b && a->type == FileType::directory && b->type == FileType::directory
         && a->dev == b->dev && a->ino == b->ino;
}

} // namespace

// Return the listing of `dir` as it is now (stat `now`) if every name `seen` looked up in
// `dir` gets the same answer from it; nullptr otherwise.
std::shared_ptr<const DirListing> ScanCache::recheck_lookups(FileSystem& fs,
                                                             const std::string& dir,
                                                             const FileStat& now,
                                                             const ScanRecord::DirLookups& seen) {
  ++m_dirs_rechecked;
  auto current = listing(fs, dir, now);
  if (!current || !seen.listing) {
    return nullptr;
  }
  for (const std::string& name : seen.names) {
    if (name == k_no_pch_lookup) {
      if (current->has_pch) {
        return nullptr;
      }
      continue;
    }
    const auto before = seen.listing->entries.find(name);
    const auto after = current->entries.find(name);
    const bool was = before != seen.listing->entries.end();
    const bool is = after != current->entries.end();
    if (was != is || (was && before->second != after->second)) {
      return nullptr;
    }
  }
  return current;
}

std::optional<ScannedFiles> ScanCache::find_result(FileSystem& fs, const std::string& key) {
  std::shared_ptr<const PackedScanRecord> record;
  {
    const std::lock_guard lock(m_results_mutex);
    auto* found = m_results.find(key);
    if (found == nullptr) {
      return std::nullopt;
    }
    record = *found;
  }
  // Indexes into the record's observed paths of directories that changed stat but still
  // hold, with their new stat.
  struct Refreshed {
    size_t index;
    FileStat stat;
    std::shared_ptr<const DirListing> listing;
  };
  std::vector<Refreshed> refreshed;
  const bool holds = record->for_each_observed(
      [&](size_t i, const std::string& path, const std::optional<FileStat>& seen) {
        const std::optional<FileStat> now = fs.stat(path);
        if (now == seen) {
          return true;
        }
        if (!same_directory(seen, now)) {
          return false;
        }
        const auto looked = record->lookups_in(path);
        if (!looked) {
          return true; // no name was looked up here: being the same directory is all that counts
        }
        auto current = recheck_lookups(fs, path, *now, *looked);
        if (!current) {
          return false;
        }
        refreshed.push_back(Refreshed{i, *now, std::move(current)});
        return true;
      });
  if (!holds) {
    return std::nullopt;
  }
  ++m_result_hits;
  if (refreshed.empty()) {
    return record->result();
  }
  ++m_records_refreshed;
  ScanRecord updated = record->unpack();
  for (Refreshed& r : refreshed) {
    updated.observed[r.index].second = r.stat;
    if (r.listing) {
      updated.lookups[updated.observed[r.index].first].listing = std::move(r.listing);
    }
  }
  ScannedFiles out = updated.result;
  auto packed = std::make_shared<const PackedScanRecord>(updated, m_runs);
  {
    // Replace only the record that was checked: a concurrent scan may have stored a newer one.
    const std::lock_guard lock(m_results_mutex);
    auto* slot = m_results.find(key);
    if (slot != nullptr && *slot == record) {
      const size_t bytes = packed->bytes() + key.capacity();
      m_results.put(key, std::move(packed), bytes);
    }
  }
  return out;
}

void ScanCache::store_result(const std::string& key, const ScanRecord& record) {
  if (record.result.stats.size() != record.result.files.size()) {
    return; // not a finished scan's record
  }
  auto value = std::make_shared<const PackedScanRecord>(record, m_runs);
  const size_t bytes = value->bytes() + key.capacity();
  const std::lock_guard lock(m_results_mutex);
  m_results.put(key, std::move(value), bytes);
}

size_t ScanCache::record_count() const {
  const std::lock_guard lock(m_results_mutex);
  return m_results.size();
}

size_t ScanCache::record_bytes() const {
  const std::lock_guard lock(m_results_mutex);
  return m_results.bytes();
}

ScanCacheStats ScanCache::stats() const {
  ScanCacheStats s;
  s.directive_hits = m_directive_hits.load();
  s.digest_hits = m_digest_hits.load();
  s.lexed = m_lexed.load();
  s.listing_hits = m_listing_hits.load();
  s.listings_read = m_listings_read.load();
  s.result_hits = m_result_hits.load();
  s.dirs_rechecked = m_dirs_rechecked.load();
  s.records_refreshed = m_records_refreshed.load();
  return s;
}

void ScanCache::clear() {
  for (auto& s : m_files) {
    const std::lock_guard lock(s.mutex);
    s.map.clear();
  }
  for (auto& s : m_by_size) {
    const std::lock_guard lock(s.mutex);
    s.map.clear();
  }
  for (auto& s : m_listings) {
    const std::lock_guard lock(s.mutex);
    s.map.clear();
  }
  {
    const std::lock_guard lock(m_results_mutex);
    m_results.clear();
  }
}

} // namespace ccrex::depscan
