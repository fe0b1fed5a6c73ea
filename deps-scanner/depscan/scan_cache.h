#pragma once

// Caches shared by every scan in a process.
//
// - Directives (and the macro definitions computed includes need) per file: an entry per path
// remembers the file's stat; while stat (dev, ino,
//   size, mtime, ctime) is unchanged the file is not read again. Otherwise the file is read
//   and its directives are looked up by content (a fast hash, confirmed by comparing the
//   bytes), so identical content at many paths (copies, checkouts) is lexed once. Hashes are
//   computed only when needed: files are grouped by size first, and a file whose size no
//   other file has cannot share content with any, so it is not hashed until a second file
//   of that size shows up.
// - Directory listings per directory, validated by the directory's own stat: adding or
//   removing an entry changes the directory's mtime/ctime, which drops the listing. A
//   listing answers negative lookups ("not in this search directory") without a stat.
// - Whole scans (ScanRecord), packed (packed_scan_record.h) and bounded in bytes: past the
//   bound the least recently used record goes first, and its compile scans again from the
//   two caches above. The records share their runs of observed paths and looked-up names
//   through one RunPool (run_pool.h), so records that saw the same directories hold one
//   copy of them; each record is still charged to the bound as if it shared nothing, so the
//   bound holds whatever is shared.
//
// Thread safety: ScanCache is thread-safe. Each map is split into shards chosen by key hash,
// each with its own mutex, so concurrent scans rarely contend; values are immutable and
// handed out as shared_ptr<const ...>. The per-scan memo that sits in front of it
// (ScanSession in scanner.cpp) belongs to one thread only.

#include "depscan/directive_lexer.h"
#include "depscan/file_system.h"
#include "depscan/run_pool.h"
#include "util/byte_lru.h"
#include "util/result.h"

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ccrex::depscan {

// What the cache keeps per file content: its directives and macro definitions.
using DirectiveList = LexedFile;

// Hashes std::string and std::string_view alike, so that a map keyed by std::string can be
// searched with a string_view (with std::equal_to<> as its key equality).
struct StringViewHash {
  using is_transparent = void; // NOLINT(readability-identifier-naming): the standard name
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// The entries of one directory: name -> kind (nullopt when a stat is needed to know it).
struct DirListing {
  FileStat stat;
  std::unordered_map<std::string, std::optional<FileType>, StringViewHash, std::equal_to<>> entries;
  // Whether an entry's name ends in ".gch" or ".pch" (a precompiled header, file or
  // directory): without one, no header of this directory has a precompiled form.
  bool has_pch = false;
};

// The name a scan records as looked up in a listing when it relied on the listing having no
// precompiled header at all (DirListing::has_pch false). It cannot be an entry's name.
inline constexpr std::string_view k_no_pch_lookup = "/pch";

// What a scan found that decides whether the compile may run elsewhere or be served from a
// cache, each as "file:line: detail" of its first occurrence, or "" when there is none.
// Only files the preprocessor reads count for the first three (a plain assembly file's
// text is not preprocessed).
struct ScanFacts {
  std::string date_time;         // __DATE__ or __TIME__ used
  std::string timestamp;         // __TIMESTAMP__ used (the source's mtime)
  std::string pragma_dependency; // #pragma GCC dependency (compares mtimes, may warn)
  // A precompiled header the compiler may read instead of a header (a .gch or .pch next to
  // a header candidate, or #pragma GCC pch_preprocess): its path.
  std::string pch;
  // An assembler .include or .incbin whose file cannot be named from the text.
  std::string asm_unresolved;
  // A path spelled with ".." after a directory whose textual removal names another
  // directory than the kernel reaches (".." after a symlink): the path, and the one the
  // text would give.
  std::string dotdot_symlink;

  bool operator==(const ScanFacts&) const = default;
};

// The files of a scan, each with the stat it was scanned (or last validated) with.
struct ScannedFiles {
  std::vector<std::string> files;
  std::vector<FileStat> stats; // parallel to `files`
  ScanFacts facts;
};

// A finished scan and everything it learnt from the disk:
// - `observed`: every path it stat'ed, with the answer;
// - `lookups`: for each directory whose listing it consulted, that listing and the names
//   looked up in it.
// The scan is a function of those answers (file contents are validated by stat), so the
// record stays valid while every non-directory path stats the same, every directory is the
// same directory (device, inode) and each looked-up name gets the same answer from the
// directory's current listing. A directory's own mtime/ctime do not matter: adding an
// unrelated file (an object file next to the source) leaves the record valid.
struct ScanRecord {
  ScannedFiles result;
  std::vector<std::pair<std::string, std::optional<FileStat>>> observed;
  struct DirLookups {
    std::shared_ptr<const DirListing> listing; // the listing the scan consulted
    std::vector<std::string> names;            // each name looked up in it, once
  };
  std::unordered_map<std::string, DirLookups> lookups; // by absolute directory path
};

// Counters for tests and the benchmark. All monotonic.
struct ScanCacheStats {
  int64_t directive_hits = 0;    // stat matched: no read
  int64_t digest_hits = 0;       // read and hashed, but lexed before under another stat/path
  int64_t lexed = 0;             // read, hashed and lexed
  int64_t listing_hits = 0;      // directory stat matched
  int64_t listings_read = 0;     // directory listed
  int64_t result_hits = 0;       // a whole scan answered from a ScanRecord
  int64_t dirs_rechecked = 0;    // a record's directory changed stat; its lookups were checked
  int64_t records_refreshed = 0; // a record stored again with its rechecked directories
};

class PackedScanRecord;

class ScanCache {
public:
  // What the whole-scan records may hold in all, by default: about a thousand records of
  // sources that include the standard library (one per compile line the agent has seen).
  static constexpr size_t k_default_record_bytes = size_t{24} << 20;

  explicit ScanCache(size_t max_record_bytes = k_default_record_bytes)
      : m_results(max_record_bytes) {}
  ScanCache(const ScanCache&) = delete;
  ScanCache& operator=(const ScanCache&) = delete;

  // Return the directives of the regular file at `path`, whose current stat is `st`.
  // Fails when the file cannot be read.
  util::Result<std::shared_ptr<const DirectiveList>>
  directives(FileSystem& fs, const std::string& path, const FileStat& st);

  // Return whether directives of the file at `path` are cached (under any stat).
  bool knows_file(const std::string& path) const;

  // Return the listing of the directory at `path`, whose current stat is `st`; nullptr
  // when it cannot be listed.
  std::shared_ptr<const DirListing>
  listing(FileSystem& fs, const std::string& path, const FileStat& st);

  // Return the files of a previous scan with the same `key` (a fingerprint of the search
  // configuration) if its record is still valid (see ScanRecord); nullopt otherwise. Costs
  // one stat per observed path, plus one listing (through this cache) per directory whose
  // stat changed and in which the scan looked up names. A record that held only because of
  // such rechecks is stored again with the new directory stats, so the next check is back
  // to stats only; a changed directory without lookups needs neither. The returned stats
  // are the ones this check observed.
  std::optional<ScannedFiles> find_result(FileSystem& fs, const std::string& key);
  // Remember a finished scan under `key` (the least recently used records are dropped
  // past the byte bound).
  void store_result(const std::string& key, const ScanRecord& record);

  // Whole-scan records held, and the bytes they are charged (each as if it shared no run).
  size_t record_count() const;
  size_t record_bytes() const;
  // The runs the records share, and the memory they really take (the records' own bytes
  // not counted).
  size_t shared_run_count() const { return m_runs->size(); }
  size_t shared_run_bytes() const { return m_runs->bytes(); }

  ScanCacheStats stats() const;
  // Forget everything (for benchmarks measuring a cold cache in one process).
  void clear();

private:
  static constexpr size_t k_shards = 32;

  struct FileEntry {
    FileStat stat;
    std::shared_ptr<const DirectiveList> directives;
  };
  template <typename V>
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, V> map;
  };
  template <typename V>
  using Shards = std::array<Shard<V>, k_shards>;

  template <typename V>
  static Shard<V>& shard_for(Shards<V>& shards, const std::string& key);
  template <typename V>
  static const Shard<V>& shard_for(const Shards<V>& shards, const std::string& key);

  Shards<FileEntry> m_files; // by path
  // Files seen with a given size. `sample` hashes the first and last bytes; `hash` (of all
  // bytes) is filled once another file of that size and sample needs comparing.
  struct SizeEntry {
    std::string path;
    FileStat stat;
    uint64_t sample = 0;
    std::optional<uint64_t> hash;
    std::shared_ptr<const DirectiveList> directives;
  };
  std::shared_ptr<const DirectiveList> find_same_content(FileSystem& fs,
                                                         std::vector<SizeEntry>& bucket,
                                                         std::string_view content,
                                                         uint64_t sample,
                                                         std::optional<uint64_t>& hash);
  struct SizeShard {
    std::mutex mutex;
    std::unordered_map<size_t, std::vector<SizeEntry>> map;
  };

  std::array<SizeShard, k_shards> m_by_size;            // by size (size % k_shards)
  Shards<std::shared_ptr<const DirListing>> m_listings; // by directory path
  // The runs the records share (each record holds the pool too).
  std::shared_ptr<RunPool> m_runs = std::make_shared<RunPool>();
  mutable std::mutex m_results_mutex;
  // By configuration fingerprint; guarded by m_results_mutex.
  util::ByteLru<std::string, std::shared_ptr<const PackedScanRecord>> m_results;

  std::shared_ptr<const DirListing> recheck_lookups(FileSystem& fs,
                                                    const std::string& dir,
                                                    const FileStat& now,
                                                    const ScanRecord::DirLookups& seen);

  std::atomic<int64_t> m_directive_hits{0};
  std::atomic<int64_t> m_digest_hits{0};
  std::atomic<int64_t> m_lexed{0};
  std::atomic<int64_t> m_listing_hits{0};
  std::atomic<int64_t> m_listings_read{0};
  std::atomic<int64_t> m_result_hits{0};
  std::atomic<int64_t> m_dirs_rechecked{0};
  std::atomic<int64_t> m_records_refreshed{0};
};

} // namespace ccrex::depscan
