#include "depscan/scanner.h"

#include "util/file.h"
#include "util/strings.h"

#include <algorithm>
#include <array>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <unordered_set>

namespace ccrex::depscan {
namespace {

// Where a file was found; decides where #include_next continues.
constexpr int k_no_search_dir = -2; // the main file, or an absolute name
constexpr int k_includer_dir = -1;  // next to the includer (or the cwd, for -include)

// GCC's limit on nested #include depth.
constexpr int k_max_depth = 200;

template <typename V>
using StringMap = std::unordered_map<std::string, V, StringViewHash, std::equal_to<>>;
using StringSet = std::unordered_set<std::string, StringViewHash, std::equal_to<>>;

// A listing consulted by a scan and the names looked up in it.
struct ListingMemo {
  std::shared_ptr<const DirListing> listing;
  StringSet names;
};

struct SearchDir {
  std::string spelled;
  std::string abs;
  FileStat stat;
  std::string prefix;          // `spelled` as a prefix of the files found in it ("d/")
  ListingMemo* memo = nullptr; // set on first use, by ScanSession::listing_of
};

struct Found {
  std::string spelled;
  std::string abs;
  FileStat stat;
  int dir_index = k_no_search_dir;
};

// A file the scan found, kept (at a stable address) for the rest of the scan together with
// what has been done with it: every later include that resolves the same way reuses it.
struct FoundEntry {
  Found file;
  bool emitted = false; // emit() has seen file.spelled
  bool visited = false; // visit() went past the depth check and registered its VisitKey
};

// Return the directory part of `spelled` as gcc prefixes it to quoted names: everything up
// to and including the last '/', or "" for a bare file name.
std::string_view dir_prefix(std::string_view spelled) {
  const size_t slash = spelled.rfind('/');
  return slash == std::string_view::npos ? std::string_view{} : spelled.substr(0, slash + 1);
}

bool has_dot_component(std::string_view name) {
  size_t start = 0;
  for (;;) {
    const size_t slash = name.find('/', start);
    const std::string_view part = name.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part.empty() || part == "." || part == "..") {
      return true;
    }
    if (slash == std::string_view::npos) {
      return false;
    }
    start = slash + 1;
  }
}

// What makes two visits of a file equivalent: the file's identity, where it was found
// (which decides #include_next) and the identity of the directory its quoted includes start
// from. Built without formatting numbers: there is one per directive that resolves.
struct VisitKey {
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint64_t dir_dev = 0;
  uint64_t dir_ino = 0;
  int dir_index = 0;
  bool has_dir = false;

  bool operator==(const VisitKey&) const = default;
};

struct VisitKeyHash {
  size_t operator()(const VisitKey& k) const {
    uint64_t h = k.ino * 0x9e3779b97f4a7c15ULL;
    h ^= (k.dev + static_cast<uint64_t>(k.dir_index) * 0xbf58476d1ce4e5b9ULL) + (h << 6) + (h >> 2);
    h ^=
        (k.dir_ino * 0x94d049bb133111ebULL + k.dir_dev + (k.has_dir ? 1 : 0)) + (h << 6) + (h >> 2);
    return static_cast<size_t>(h);
  }
};

// One scan: a memo of stats and listings in front of the shared cache, the search chain,
// and the output being built. Single-threaded.
class ScanSession {
public:
  // `keep_record` false: record() will not be called, so the names looked up in each
  // listing need not be collected.
  ScanSession(FileSystem& fs, ScanCache& cache, const SearchConfig& config, bool keep_record)
      : m_fs(fs),
        m_cache(cache),
        m_config(config),
        m_keep_record(keep_record) {}

  ScanResultOr<ScannedFiles> run();
  // What the scan learnt from the disk (for ScanCache::store_result), with `result` left
  // for the caller to fill.
  ScanRecord record() const;

private:
  std::string absolute(std::string_view spelled) const {
    return !spelled.empty() && spelled[0] == '/' ? std::string(spelled)
                                                 : util::join_path(m_config.cwd, spelled);
  }
  const std::optional<FileStat>& stat_of(const std::string& abs);
  const std::optional<FileStat>& file_stat_of(const std::string& abs);
  ListingMemo& listing_of(const std::string& abs_dir);
  ListingMemo& listing_of(SearchDir& dir);
  void build_chain();
  std::vector<SearchDir> valid_dirs(const std::vector<std::string>& spelled);
  bool may_exist(ListingMemo& dir_memo, const std::string& abs_dir, std::string_view name);
  std::optional<Found> try_dir(std::string_view spelled_prefix,
                               ListingMemo& dir_memo,
                               const std::string& abs_dir,
                               std::string_view name,
                               int dir_index);
  FoundEntry*
  search(std::string_view name, std::optional<std::string_view> includer_prefix, size_t start);
  std::optional<Found> search_uncached(std::string_view name,
                                       std::optional<std::string_view> includer_prefix,
                                       size_t start);
  size_t resolve(const Directive& d, const Found& includer, std::array<FoundEntry*, 2>& out);
  ScanResultOr<bool> visit(FoundEntry& entry, int depth);
  void emit(const std::string& spelled, const FileStat& stat);

  FileSystem& m_fs;
  ScanCache& m_cache;
  const SearchConfig& m_config;
  const bool m_keep_record;
  std::vector<SearchDir> m_chain; // quote dirs, then bracket, system, built-in, after
  size_t m_bracket_start = 0;
  StringMap<std::optional<FileStat>> m_stats;
  StringMap<ListingMemo> m_listings; // node-based: a ListingMemo never moves
  // search() answers by (includer prefix, name, start index): most headers are included
  // from many files. nullptr when nothing was found.
  StringMap<FoundEntry*> m_lookups;
  std::deque<FoundEntry> m_found; // every FoundEntry of the scan (stable addresses)
  std::string m_key;              // search()'s key, rebuilt in place for every lookup
  std::string m_path;             // may_exist()'s subdirectory path, likewise
  std::unordered_set<VisitKey, VisitKeyHash> m_visited;
  StringSet m_emitted;
  ScannedFiles m_files;
};

const std::optional<FileStat>& ScanSession::stat_of(const std::string& abs) {
  const auto it = m_stats.find(abs);
  if (it != m_stats.end()) {
    return it->second;
  }
  return m_stats.emplace(abs, m_fs.stat(abs)).first->second;
}

// Like stat_of, for a path that names a file the scan reads next unless the cache already
// knows it: then the file system may keep it open from the stat to the read.
const std::optional<FileStat>& ScanSession::file_stat_of(const std::string& abs) {
  const auto it = m_stats.find(abs);
  if (it != m_stats.end()) {
    return it->second;
  }
  auto st = m_cache.knows_file(abs) ? m_fs.stat(abs) : m_fs.stat_for_read(abs);
  return m_stats.emplace(abs, st).first->second;
}

ListingMemo& ScanSession::listing_of(const std::string& abs_dir) {
  const auto it = m_listings.find(abs_dir);
  if (it != m_listings.end()) {
    return it->second;
  }
  ListingMemo memo;
  const auto& st = stat_of(abs_dir);
  if (st && st->type == FileType::directory) {
    memo.listing = m_cache.listing(m_fs, abs_dir, *st);
  }
  return m_listings.emplace(abs_dir, std::move(memo)).first->second;
}

// A search directory remembers its memo, so that a lookup in it hashes no path.
ListingMemo& ScanSession::listing_of(SearchDir& dir) {
  if (dir.memo == nullptr) {
    dir.memo = &listing_of(dir.abs);
  }
  return *dir.memo;
}

ScanRecord ScanSession::record() const {
  ScanRecord r;
  r.observed.assign(m_stats.begin(), m_stats.end());
  for (const auto& [dir, memo] : m_listings) {
    if (memo.listing && !memo.names.empty()) {
      r.lookups.emplace(
          dir, ScanRecord::DirLookups{memo.listing, {memo.names.begin(), memo.names.end()}});
    }
  }
  return r;
}

std::vector<SearchDir> ScanSession::valid_dirs(const std::vector<std::string>& spelled) {
  std::vector<SearchDir> out;
  for (const std::string& s : spelled) {
    SearchDir d{s, absolute(s), {}, s == "/" ? "/" : s + "/", nullptr};
    const auto& st = stat_of(d.abs);
    if (st && st->type == FileType::directory) {
      d.stat = *st;
      out.push_back(std::move(d));
    }
  }
  return out;
}

bool same_dir(const SearchDir& a, const SearchDir& b) {
  return a.stat.dev == b.stat.dev && a.stat.ino == b.stat.ino;
}

bool contains_dir(const std::vector<SearchDir>& dirs, const SearchDir& d, size_t limit) {
  return std::any_of(dirs.begin(),
                     dirs.begin() + static_cast<ptrdiff_t>(limit),
                     [&](const SearchDir& e) { return same_dir(e, d); });
}

// Apply gcc's duplicate rules (libcpp incpath.c): a missing or non-directory entry is dropped;
// a repeat within a chain is dropped; a -I or -iquote directory that is also a system
// directory is dropped; the last entry of a chain equal to the head of the next is dropped.
std::vector<SearchDir>
dedupe(std::vector<SearchDir> dirs, const std::vector<SearchDir>* system, const SearchDir* join) {
  std::vector<SearchDir> out;
  for (size_t i = 0; i < dirs.size(); ++i) {
    const SearchDir& d = dirs[i];
    if ((system != nullptr && contains_dir(*system, d, system->size()))
        || contains_dir(out, d, out.size())
        || (i + 1 == dirs.size() && join != nullptr && same_dir(d, *join))) {
      continue;
    }
    out.push_back(d);
  }
  return out;
}

void ScanSession::build_chain() {
  std::vector<std::string> sys = m_config.system_dirs;
  if (!m_config.nostdinc) {
    for (const std::string& d : m_config.builtin_dirs) {
      const auto& cxx_only = m_config.builtin_cxx_only;
      if (!m_config.nostdincxx
          || std::find(cxx_only.begin(), cxx_only.end(), d) == cxx_only.end()) {
        sys.push_back(d);
      }
    }
  }
  sys.insert(sys.end(), m_config.after_dirs.begin(), m_config.after_dirs.end());
  const std::vector<SearchDir> system = dedupe(valid_dirs(sys), nullptr, nullptr);
  const std::vector<SearchDir> bracket = dedupe(
      valid_dirs(m_config.bracket_dirs), &system, system.empty() ? nullptr : &system.front());
  const SearchDir* quote_join = !bracket.empty()  ? &bracket.front()
                                : !system.empty() ? &system.front()
                                                  : nullptr;
  const std::vector<SearchDir> quote = dedupe(valid_dirs(m_config.quote_dirs), &system, quote_join);
  m_chain = quote;
  m_bracket_start = m_chain.size();
  m_chain.insert(m_chain.end(), bracket.begin(), bracket.end());
  m_chain.insert(m_chain.end(), system.begin(), system.end());
}

// Return false only when the listings prove `name` is not a file below `abs_dir`, whose
// memo is `dir_memo`.
bool ScanSession::may_exist(ListingMemo& dir_memo,
                            const std::string& abs_dir,
                            std::string_view name) {
  if (has_dot_component(name)) {
    return true; // ".." is resolved physically by the kernel: ask stat directly
  }
  ListingMemo* memo = &dir_memo;
  size_t start = 0;
  for (;;) {
    const size_t slash = name.find('/', start);
    const std::string_view part = name.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (!memo->listing) {
      return true; // cannot list: let stat decide
    }
    const auto& entries = memo->listing->entries;
    const auto it = entries.find(part);
    if (m_keep_record) {
      memo->names.insert(std::string(part));
    }
    if (it == entries.end()) {
      return false;
    }
    if (slash == std::string_view::npos) {
      return it->second != FileType::directory;
    }
    if (it->second && *it->second != FileType::directory) {
      return false;
    }
    if (start == 0) {
      m_path = abs_dir;
    }
    m_path.push_back('/');
    m_path.append(part);
    memo = &listing_of(m_path);
    start = slash + 1;
  }
}

std::optional<Found> ScanSession::try_dir(std::string_view spelled_prefix,
                                          ListingMemo& dir_memo,
                                          const std::string& abs_dir,
                                          std::string_view name,
                                          int dir_index) {
  if (!may_exist(dir_memo, abs_dir, name)) {
    return std::nullopt;
  }
  Found f;
  f.abs = util::join_path(abs_dir, name);
  const auto& st = file_stat_of(f.abs);
  if (!st || st->type == FileType::directory) {
    return std::nullopt;
  }
  f.spelled.reserve(spelled_prefix.size() + name.size());
  f.spelled.append(spelled_prefix).append(name);
  f.stat = *st;
  f.dir_index = dir_index;
  return f;
}

// Search `name` in the includer's directory (when `includer_prefix` is given), then in the
// chain from index `start`. Return the scan's entry for the file found, or nullptr.
FoundEntry* ScanSession::search(std::string_view name,
                                std::optional<std::string_view> includer_prefix,
                                size_t start) {
  m_key.clear();
  if (includer_prefix) {
    m_key.push_back('q');
    m_key.append(*includer_prefix);
  }
  m_key.push_back('\0');
  m_key.append(name);
  m_key.push_back('\0');
  m_key.append(reinterpret_cast<const char*>(&start), sizeof(start)); // part of a memo key only
  const auto it = m_lookups.find(std::string_view(m_key));
  if (it != m_lookups.end()) {
    return it->second;
  }
  FoundEntry* entry = nullptr;
  if (auto found = search_uncached(name, includer_prefix, start)) { // leaves m_key alone
    entry = &m_found.emplace_back(FoundEntry{std::move(*found)});
  }
  m_lookups.emplace(m_key, entry);
  return entry;
}

std::optional<Found> ScanSession::search_uncached(std::string_view name,
                                                  std::optional<std::string_view> includer_prefix,
                                                  size_t start) {
  if (!name.empty() && name[0] == '/') {
    std::string path(name);
    const auto& st = file_stat_of(path);
    if (!st || st->type == FileType::directory) {
      return std::nullopt;
    }
    return Found{path, path, *st, k_no_search_dir};
  }
  if (includer_prefix) {
    const std::string_view prefix = *includer_prefix;
    // The prefix ends in '/'; the directory is named without it, as a search directory is,
    // so both share one stat and one listing.
    std::string abs_dir = absolute(prefix.empty() ? std::string_view(".") : prefix);
    while (abs_dir.size() > 1 && abs_dir.back() == '/') {
      abs_dir.pop_back();
    }
    if (auto f = try_dir(prefix, listing_of(abs_dir), abs_dir, name, k_includer_dir)) {
      return f;
    }
  }
  for (size_t i = start; i < m_chain.size(); ++i) {
    SearchDir& d = m_chain[i];
    if (auto f = try_dir(d.prefix, listing_of(d), d.abs, name, static_cast<int>(i))) {
      return f;
    }
  }
  return std::nullopt;
}

// Fill `out` with the entries `d` resolves to from `includer` (at most two) and return how
// many there are.
size_t
ScanSession::resolve(const Directive& d, const Found& includer, std::array<FoundEntry*, 2>& out) {
  const bool next =
      d.kind == DirectiveKind::include_next || d.kind == DirectiveKind::has_include_next;
  const std::string_view prefix = dir_prefix(includer.spelled);
  const auto plain = [&]() {
    return d.angled ? search(d.name, std::nullopt, m_bracket_start) : search(d.name, prefix, 0);
  };
  size_t n = 0;
  const auto add = [&](FoundEntry* e) {
    if (e != nullptr) {
      out[n++] = e;
    }
  };
  if (!next || includer.dir_index == k_no_search_dir) {
    add(plain());
  } else if (includer.dir_index == k_includer_dir) {
    // GCC continues at the start of the quote chain; Clang treats it as a plain include.
    add(search(d.name, std::nullopt, 0));
    add(plain());
  } else {
    add(search(d.name, std::nullopt, static_cast<size_t>(includer.dir_index) + 1));
  }
  return n;
}

void ScanSession::emit(const std::string& spelled, const FileStat& stat) {
  if (m_emitted.insert(spelled).second) {
    m_files.files.push_back(spelled);
    m_files.stats.push_back(stat);
  }
}

ScanResultOr<bool> ScanSession::visit(FoundEntry& entry, int depth) {
  const Found& file = entry.file;
  if (!entry.emitted) {
    entry.emitted = true;
    emit(file.spelled, file.stat);
  }
  // An entry's VisitKey never changes: once registered, every later visit stops here.
  if (depth > k_max_depth || entry.visited) {
    return true;
  }
  entry.visited = true;
  // The includer's directory, spelled like the search directory or listing it was found
  // through (no trailing "/."), so its stat is usually memoized already.
  std::string_view dir = dir_prefix(file.spelled);
  if (dir.size() > 1) {
    dir.remove_suffix(1);
  }
  const auto& dir_stat = stat_of(absolute(dir.empty() ? std::string_view(".") : dir));
  VisitKey key{file.stat.dev, file.stat.ino, 0, 0, file.dir_index, dir_stat.has_value()};
  if (dir_stat) {
    key.dir_dev = dir_stat->dev;
    key.dir_ino = dir_stat->ino;
  }
  if (!m_visited.insert(key).second) {
    return true;
  }
  auto directives = m_cache.directives(m_fs, file.abs, file.stat);
  if (!directives) {
    return ScanFailure{FailureReason::unreadable_file, directives.error().message()};
  }
  const std::shared_ptr<const DirectiveList> list = std::move(*directives);
  std::array<FoundEntry*, 2> found{};
  for (const Directive& d : *list) {
    if (d.computed) {
      return ScanFailure{FailureReason::computed_include,
                         file.spelled + ":" + std::to_string(d.line) + ": "
                             + std::string(directive_kind_name(d.kind)) + " " + d.name};
    }
    const size_t n = resolve(d, file, found);
    for (size_t i = 0; i < n; ++i) {
      CCREX_TRY(visit(*found[i], depth + 1));
    }
  }
  return true;
}

ScanResultOr<ScannedFiles> ScanSession::run() {
  build_chain();
  Found source;
  source.spelled = m_config.source;
  source.abs = absolute(m_config.source);
  const auto& st = stat_of(source.abs);
  if (!st || st->type != FileType::regular) {
    return ScanFailure{FailureReason::unreadable_file, "no such source file: " + m_config.source};
  }
  source.stat = *st;
  FoundEntry& main_file = m_found.emplace_back(FoundEntry{std::move(source)});
  main_file.emitted = true;
  emit(main_file.file.spelled, main_file.file.stat);
  if (m_config.implicit_predef && !m_config.nostdinc) {
    if (FoundEntry* f = search("stdc-predef.h", std::nullopt, m_bracket_start)) {
      CCREX_TRY(visit(*f, 1));
    }
  }
  for (const std::string& name : m_config.forced_includes) {
    // Like #include "name" written in a file in the cwd, spelled with a "./" prefix by gcc.
    if (FoundEntry* f = search(name, std::string_view("./"), 0)) {
      CCREX_TRY(visit(*f, 1));
    }
  }
  CCREX_TRY(visit(main_file, 0));
  return std::move(m_files);
}

} // namespace

ScanResultOr<ScanResult> Scanner::scan(const ScanRequest& request) {
  ScanResult result;
  CCREX_ASSIGN_OR_RETURN(result.config,
                         extract_search_config(request.args, request.cwd, request.env));
  CCREX_TRY(fill_builtin_dirs(result.config, request.compiler, m_prober));
  CCREX_ASSIGN_OR_RETURN(ScannedFiles scanned, scan_config(result.config));
  result.files = std::move(scanned.files);
  result.stats = std::move(scanned.stats);
  return result;
}

namespace {

// Return a key that differs whenever two configurations could scan differently.
std::string fingerprint(const SearchConfig& c) {
  std::string key;
  const auto add = [&key](std::string_view tag, const std::vector<std::string>& list) {
    key.append(tag);
    for (const std::string& s : list) {
      key.append(std::to_string(s.size())).push_back(':');
      key.append(s);
    }
  };
  add("S", {c.cwd, c.source});
  add("Q", c.quote_dirs);
  add("I", c.bracket_dirs);
  add("Y", c.system_dirs);
  add("A", c.after_dirs);
  add("F", c.forced_includes);
  add("B", c.builtin_dirs);
  add("X", c.builtin_cxx_only);
  key.push_back(c.nostdinc ? '1' : '0');
  key.push_back(c.nostdincxx ? '1' : '0');
  key.push_back(c.implicit_predef ? '1' : '0');
  return key;
}

} // namespace

ScanResultOr<ScannedFiles> Scanner::scan_config(const SearchConfig& config) {
  const std::string key = fingerprint(config);
  if (auto found = m_cache.find_result(m_fs, key)) {
    return std::move(*found);
  }
  auto session = std::make_unique<ScanSession>(m_fs, m_cache, config, !m_one_shot);
  auto scanned = session->run();
  if (m_one_shot) {
    static_cast<void>(session.release()); // freed by the process exit, see set_one_shot
    return scanned;
  }
  if (scanned) {
    ScanRecord record = session->record();
    record.result = *scanned;
    m_cache.store_result(key, std::move(record));
  }
  return scanned;
}

} // namespace ccrex::depscan
