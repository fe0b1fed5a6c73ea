#include "depscan/scanner.h"

#include "depscan/macro_definitions.h"
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
  bool no_pch_recorded = false; // `names` holds k_no_pch_lookup
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

// Return whether `path` has a ".." that removes the component before it ("a/../b"), which
// the kernel resolves after following `a` when it is a symlink, while a textual removal
// does not. Leading ".." of a relative path remove nothing of the path itself.
bool cancels_component(std::string_view path) {
  if (path.find("..") == std::string_view::npos) {
    return false;
  }
  int depth = 0;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    slash = slash == std::string_view::npos ? path.size() : slash;
    const std::string_view part = path.substr(start, slash - start);
    if (part == "..") {
      if (depth > 0) {
        return true;
      }
    } else if (!part.empty() && part != ".") {
      ++depth;
    }
    start = slash + 1;
  }
  return false;
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
  bool assembler = false; // visited as a file the assembler reads (.include), not the cpp

  bool operator==(const VisitKey&) const = default;
};

struct VisitKeyHash {
  size_t operator()(const VisitKey& k) const {
    uint64_t h = k.ino * 0x9e3779b97f4a7c15ULL;
    h ^= (k.dev + static_cast<uint64_t>(k.dir_index) * 0xbf58476d1ce4e5b9ULL) + (h << 6) + (h >> 2);
    h ^= (k.dir_ino * 0x94d049bb133111ebULL + k.dir_dev + (k.has_dir ? 1 : 0)
          + (k.assembler ? 2 : 0))
         + (h << 6) + (h >> 2);
    return static_cast<size_t>(h);
  }
};

// A computed include (`#include NAME`) seen during the walk, resolved once the walk has
// collected the definitions NAME may have (ScanSession::resolve_computed).
struct PendingInclude {
  Directive directive;
  Found includer;
  int depth = 0;
  size_t applied = 0;         // candidates of the macro already resolved for this include
  size_t aliases_applied = 0; // names the macro stands for, already made pending includes
};

// The header names one macro may stand for, collected from the command line and from the
// files visited so far (`files_checked` of ScanSession::m_defining_files).
struct MacroCandidates {
  std::vector<HeaderMacro> candidates; // distinct header names, in discovery order
  std::vector<std::string> aliases;    // distinct names it is defined as, likewise
  size_t files_checked = 0;
  uint32_t hash = 0;
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
  ScanResultOr<bool> visit(FoundEntry& entry, int depth, bool assembler);
  ScanFailure computed_failure(const Directive& d, const Found& file, std::string_view why) const;
  ScanResultOr<bool> defer_computed(const Directive& d, const Found& file, int depth);
  void add_pending(PendingInclude p);
  ScanResultOr<MacroCandidates*> candidates_of(const PendingInclude& p);
  ScanResultOr<bool> resolve_computed();
  ScanResultOr<bool> check_angled_candidates();
  ScanResultOr<bool> visit_marker(const Directive& d, const Found& file, int depth, bool assembler);
  ScanResultOr<bool> resolve_asm(const Directive& d, const Found& file, int depth);
  void check_pch(ListingMemo& dir_memo, const std::string& abs_dir, std::string_view name);
  void check_pch_path(const std::string& header);
  void check_dotdot(std::string_view spelled);
  void note(std::string& fact, const Found& file, const Directive& d, std::string_view what);
  void emit(const std::string& spelled, const FileStat& stat);

  FileSystem& m_fs;
  ScanCache& m_cache;
  const SearchConfig& m_config;
  const bool m_keep_record;
  std::vector<SearchDir> m_chain; // quote dirs, then bracket, system, built-in, after
  size_t m_bracket_start = 0;
  std::vector<SearchDir> m_asm_dirs;    // the assembler's own -I directories
  StringMap<FoundEntry*> m_asm_entries; // files named by .include, by absolute path
  StringSet m_dotdot_checked;           // directories check_dotdot() has looked at
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
  // Computed includes: the command line's definitions, every file visited with the
  // preprocessor that defines object-like macros (with where it was found), the includes
  // waiting for resolve_computed() and what each macro name may stand for.
  MacroDefinitions m_command_line_macros;
  std::vector<std::pair<std::shared_ptr<const DirectiveList>, const Found*>> m_defining_files;
  std::vector<PendingInclude> m_pending;
  StringSet m_pending_keys; // includer, line and macro of each pending include
  StringMap<MacroCandidates> m_candidates;
  std::vector<std::pair<std::string, size_t>> m_angled; // <...> candidates, by pending index
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
  m_asm_dirs = valid_dirs(m_config.asm_include_dirs);
}

// Record in `fact` (unless it already holds one) where `file` says `what`.
void ScanSession::note(std::string& fact,
                       const Found& file,
                       const Directive& d,
                       std::string_view what) {
  if (fact.empty()) {
    fact = file.spelled + ":" + std::to_string(d.line) + ": " + std::string(what);
  }
}

// Record a precompiled header that the compiler may read instead of `name` in the search
// directory `abs_dir` (whose memo is `dir_memo`): gcc tries `name`.gch (a file or a
// directory of them) in each directory before the header itself, and clang's -include
// tries `name`.pch and `name`.gch. The directory's listing answers; the names looked up
// are recorded, so a precompiled header appearing later invalidates a stored scan.
void ScanSession::check_pch(ListingMemo& dir_memo,
                            const std::string& abs_dir,
                            std::string_view name) {
  if (!m_files.facts.pch.empty()) {
    return;
  }
  ListingMemo* memo = &dir_memo;
  std::string sub_dir;
  size_t start = 0;
  while (memo->listing && !has_dot_component(name)) {
    const auto& entries = memo->listing->entries;
    const size_t slash = name.find('/', start);
    if (slash == std::string_view::npos) {
      if (!memo->listing->has_pch) {
        if (m_keep_record && !memo->no_pch_recorded) {
          memo->names.emplace(k_no_pch_lookup);
          memo->no_pch_recorded = true;
        }
        return;
      }
      for (const char* ext : {".gch", ".pch"}) {
        std::string candidate = std::string(name.substr(start)) + ext;
        const bool present = entries.find(candidate) != entries.end();
        if (m_keep_record) {
          memo->names.insert(std::move(candidate));
        }
        if (present) {
          m_files.facts.pch = util::normalize_path(util::join_path(abs_dir, name)) + ext;
          return;
        }
      }
      return;
    }
    const std::string_view part = name.substr(start, slash - start);
    const auto it = entries.find(part);
    if (m_keep_record) {
      memo->names.insert(std::string(part));
    }
    if (it == entries.end() || (it->second && *it->second != FileType::directory)) {
      return; // no such subdirectory: no precompiled header in it either
    }
    sub_dir = util::join_path(start == 0 ? abs_dir : sub_dir, part);
    memo = &listing_of(sub_dir);
    start = slash + 1;
  }
  check_pch_path(util::join_path(abs_dir, name)); // nothing to list: ask stat
}

// Like check_pch() for a header named by its path, without a listing.
void ScanSession::check_pch_path(const std::string& header) {
  for (const char* ext : {".gch", ".pch"}) {
    if (m_files.facts.pch.empty() && stat_of(header + ext)) {
      m_files.facts.pch = util::normalize_path(header) + ext;
    }
  }
}

// Record a found file whose spelling goes through ".." after a directory when the kernel's
// answer (which follows a symlink before applying "..") is not the directory a textual
// removal of the pair names: ccrex maps input paths textually, and the remote side has no
// such symlink. One check (two stats) per distinct directory.
void ScanSession::check_dotdot(std::string_view spelled) {
  if (!m_files.facts.dotdot_symlink.empty() || spelled.find("..") == std::string_view::npos) {
    return;
  }
  std::string_view dir = dir_prefix(spelled);
  if (dir.size() > 1) {
    dir.remove_suffix(1);
  }
  if (!cancels_component(dir) || m_dotdot_checked.contains(dir)) {
    return;
  }
  m_dotdot_checked.emplace(dir);
  const std::string kernel = absolute(dir);
  const std::string textual = util::normalize_path(kernel);
  const auto& a = stat_of(kernel);
  const auto& b = stat_of(textual);
  if (!a || !b || a->dev != b->dev || a->ino != b->ino) {
    m_files.facts.dotdot_symlink =
        std::string(spelled) + " (the directory " + textual + " when \"..\" is removed textually)";
  }
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
  check_dotdot(f.spelled);
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
    check_pch_path(path);
    const auto& st = file_stat_of(path);
    if (!st || st->type == FileType::directory) {
      return std::nullopt;
    }
    check_dotdot(path);
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
    ListingMemo& memo = listing_of(abs_dir);
    check_pch(memo, abs_dir, name);
    if (auto f = try_dir(prefix, memo, abs_dir, name, k_includer_dir)) {
      return f;
    }
  }
  for (size_t i = start; i < m_chain.size(); ++i) {
    SearchDir& d = m_chain[i];
    ListingMemo& memo = listing_of(d);
    check_pch(memo, d.abs, name);
    if (auto f = try_dir(d.prefix, memo, d.abs, name, static_cast<int>(i))) {
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

ScanResultOr<bool> ScanSession::visit(FoundEntry& entry, int depth, bool assembler) {
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
  VisitKey key{file.stat.dev, file.stat.ino, 0, 0, file.dir_index, dir_stat.has_value(), assembler};
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
  const MacroDefinitions& macros = list->macros;
  if (!assembler
      && (!macros.header.empty() || !macros.alias.empty() || !macros.other.empty()
          || !macros.inert.empty())) {
    m_defining_files.emplace_back(list, &file);
  }
  std::array<FoundEntry*, 2> found{};
  for (const Directive& d : list->directives) {
    if (!is_include_kind(d.kind)) {
      CCREX_TRY(visit_marker(d, file, depth, assembler));
      continue;
    }
    if (assembler) {
      continue; // no preprocessor: '#' starts a comment
    }
    if (d.computed) {
      CCREX_TRY(defer_computed(d, file, depth));
      continue;
    }
    const size_t n = resolve(d, file, found);
    for (size_t i = 0; i < n; ++i) {
      CCREX_TRY(visit(*found[i], depth + 1, false));
    }
  }
  return true;
}

ScanFailure
ScanSession::computed_failure(const Directive& d, const Found& file, std::string_view why) const {
  std::string detail = file.spelled + ":" + std::to_string(d.line) + ": "
                       + std::string(directive_kind_name(d.kind)) + " " + d.name;
  if (!why.empty()) {
    detail.append(" (").append(why).append(")");
  }
  return ScanFailure{FailureReason::computed_include, std::move(detail)};
}

// A computed include of `file`: an object-like macro name is resolved after the walk, once
// every definition the scan can reach is known; any other operand is a failure.
ScanResultOr<bool> ScanSession::defer_computed(const Directive& d, const Found& file, int depth) {
  if (!is_identifier(d.name)) {
    return computed_failure(d, file, "");
  }
  if (may_be_predefined(d.name)) {
    return computed_failure(d, file, "the compiler may predefine it");
  }
  add_pending(PendingInclude{d, file, depth});
  return true;
}

// Queue `p` unless the same include already waits for the same macro (a macro defined as
// another, in a cycle, comes back to a name it has seen).
void ScanSession::add_pending(PendingInclude p) {
  std::string key = p.includer.abs;
  key.append(1, '\0').append(std::to_string(p.directive.line)).append(1, '\0');
  key.append(p.directive.name);
  if (m_pending_keys.insert(std::move(key)).second) {
    m_pending.push_back(std::move(p));
  }
}

// Bring the candidates of the macro `p` names up to date with the files visited so far.
// Fails when a definition of it is not a single header name.
ScanResultOr<MacroCandidates*> ScanSession::candidates_of(const PendingInclude& p) {
  const std::string& name = p.directive.name;
  const auto add = [](MacroCandidates& mc, const HeaderMacro& m) {
    const bool seen = std::any_of(mc.candidates.begin(), mc.candidates.end(), [&](const auto& c) {
      return c.header == m.header && c.angled == m.angled;
    });
    if (!seen) {
      mc.candidates.push_back(m);
    }
  };
  const auto add_aliases = [&name](MacroCandidates& mc, const std::vector<AliasMacro>& aliases) {
    for (const AliasMacro& a : aliases) {
      if (a.macro == name
          && std::find(mc.aliases.begin(), mc.aliases.end(), a.target) == mc.aliases.end()) {
        mc.aliases.push_back(a.target);
      }
    }
  };
  auto it = m_candidates.find(name);
  if (it == m_candidates.end()) {
    MacroCandidates mc;
    mc.hash = macro_name_hash(name);
    if (defines_other(m_command_line_macros, mc.hash)) {
      return computed_failure(p.directive, p.includer, "-D" + name + " is not a header name");
    }
    for (const HeaderMacro& m : m_command_line_macros.header) {
      if (m.macro == name) {
        add(mc, m);
      }
    }
    add_aliases(mc, m_command_line_macros.alias);
    it = m_candidates.emplace(name, std::move(mc)).first;
  }
  MacroCandidates& mc = it->second;
  for (; mc.files_checked < m_defining_files.size(); ++mc.files_checked) {
    const auto& [lexed, found] = m_defining_files[mc.files_checked];
    if (defines_other(lexed->macros, mc.hash)) {
      return computed_failure(
          p.directive, p.includer, found->spelled + " may define it as something else");
    }
    for (const HeaderMacro& m : lexed->macros.header) {
      if (m.macro == name) {
        add(mc, m);
      }
    }
    add_aliases(mc, lexed->macros.alias);
  }
  return &mc;
}

// Resolve the computed includes of the walk until nothing changes: each candidate of each
// include is resolved as if written literally in its place, and the files found are visited
// (which may define more candidates and hold more computed includes). A name defined
// nowhere adds nothing: the compiler would report an error if it reached that include.
ScanResultOr<bool> ScanSession::resolve_computed() {
  std::array<FoundEntry*, 2> found{};
  bool progress = !m_pending.empty();
  while (progress) {
    progress = false;
    for (size_t i = 0; i < m_pending.size(); ++i) {
      CCREX_ASSIGN_OR_RETURN(MacroCandidates * mc, candidates_of(m_pending[i]));
      while (m_pending[i].applied < mc->candidates.size()) {
        const HeaderMacro candidate = mc->candidates[m_pending[i].applied++];
        // Copies: visiting may add pending includes (and move this one).
        Directive literal = m_pending[i].directive;
        const Found includer = m_pending[i].includer;
        const int depth = m_pending[i].depth;
        literal.computed = false;
        literal.name = candidate.header;
        literal.angled = candidate.angled;
        if (candidate.angled) {
          m_angled.emplace_back(candidate.header, i);
        }
        const size_t n = resolve(literal, includer, found);
        for (size_t k = 0; k < n; ++k) {
          CCREX_TRY(visit(*found[k], depth + 1, false));
        }
        progress = true;
      }
      // `#define NAME OTHER`: the include stands for what OTHER stands for, as if it said
      // `#include OTHER` (the compiler expands OTHER in turn).
      while (m_pending[i].aliases_applied < mc->aliases.size()) {
        PendingInclude next = m_pending[i];
        m_pending[i].aliases_applied++;
        const std::string& target = mc->aliases[next.aliases_applied];
        if (may_be_predefined(target)) {
          return computed_failure(next.directive,
                                  next.includer,
                                  "defined as " + target + ", which the compiler may predefine");
        }
        next.directive.name = target;
        next.applied = 0;
        next.aliases_applied = 0;
        add_pending(std::move(next)); // may move m_pending
        progress = true;
      }
    }
  }
  return check_angled_candidates();
}

// The compiler expands macros inside an <...> body taken from a macro: each identifier in
// one (sys, foo and h in <sys/foo.h>) must be a name that no file of the scan, no -D and
// not the compiler itself may define, else the file it names could be another.
ScanResultOr<bool> ScanSession::check_angled_candidates() {
  for (const auto& [header, index] : m_angled) {
    for (const std::string_view ident : identifiers_in(header)) {
      const uint32_t hash = macro_name_hash(ident);
      std::string why;
      if (may_be_predefined(ident)) {
        why = "the compiler may predefine " + std::string(ident);
      } else if (defines_object_like(m_command_line_macros, ident, hash)) {
        why = "-D defines " + std::string(ident);
      } else {
        for (const auto& [lexed, file] : m_defining_files) {
          if (defines_object_like(lexed->macros, ident, hash)) {
            why = file->spelled + " may define " + std::string(ident);
            break;
          }
        }
      }
      if (!why.empty()) {
        return computed_failure(
            m_pending[index].directive, m_pending[index].includer, "<" + header + ">: " + why);
      }
    }
  }
  return true;
}

// Handle a marker of `file` (content_markers.h). `assembler`: the file is read by the
// assembler alone, which neither expands macros nor reads C comments as comments.
ScanResultOr<bool>
ScanSession::visit_marker(const Directive& d, const Found& file, int depth, bool assembler) {
  switch (d.kind) {
  case DirectiveKind::time_macro:
    if (!assembler) {
      note(d.name == "__TIMESTAMP__" ? m_files.facts.timestamp : m_files.facts.date_time,
           file,
           d,
           d.name);
    }
    break;
  case DirectiveKind::pragma_dependency:
    if (!assembler) {
      note(m_files.facts.pragma_dependency, file, d, "#pragma GCC dependency " + d.name);
    }
    break;
  case DirectiveKind::pragma_pch:
    if (!assembler) {
      note(m_files.facts.pch, file, d, "#pragma GCC pch_preprocess " + d.name);
    }
    break;
  case DirectiveKind::trigraph:
    if (!assembler && m_config.trigraphs) {
      return ScanFailure{FailureReason::trigraphs,
                         file.spelled + ":" + std::to_string(d.line) + ": trigraph " + d.name};
    }
    break;
  case DirectiveKind::asm_include:
  case DirectiveKind::asm_incbin:
    if (assembler || !d.in_comment) {
      return resolve_asm(d, file, depth);
    }
    break;
  default:
    break;
  }
  return true;
}

// An assembler .include or .incbin: GNU as opens the name as given (relative to the
// working directory, not to the current file), then in each -I directory (gcc passes its
// own -I options on, after "."); clang's integrated assembler also tries the -iquote and
// -isystem directories. Every existing candidate in all of them becomes an input, so the
// remote side finds whichever one the assembler picks. .include'd files are read the same
// way, without the preprocessor.
ScanResultOr<bool> ScanSession::resolve_asm(const Directive& d, const Found& file, int depth) {
  const bool include = d.kind == DirectiveKind::asm_include;
  if (d.computed) {
    note(m_files.facts.asm_unresolved,
         file,
         d,
         std::string(include ? ".include " : ".incbin ")
             + (d.name.empty() ? "without a quoted file name" : d.name));
    return true;
  }
  const auto candidate = [&](std::string spelled, std::string abs) -> ScanResultOr<bool> {
    const auto& st = stat_of(abs);
    if (!st || st->type != FileType::regular) {
      return true;
    }
    check_dotdot(spelled);
    if (!include) {
      emit(spelled, *st);
      return true;
    }
    FoundEntry*& slot = m_asm_entries[abs];
    if (slot == nullptr) {
      slot = &m_found.emplace_back(
          FoundEntry{Found{std::move(spelled), std::move(abs), *st, k_no_search_dir}});
    }
    return visit(*slot, depth + 1, true);
  };
  if (d.name.front() == '/') {
    return candidate(d.name, d.name);
  }
  CCREX_TRY(candidate(d.name, absolute(d.name)));
  for (const std::vector<SearchDir>* dirs : {&m_chain, &m_asm_dirs}) {
    for (const SearchDir& dir : *dirs) {
      CCREX_TRY(candidate(dir.prefix + d.name, util::join_path(dir.abs, d.name)));
    }
  }
  return true;
}

ScanResultOr<ScannedFiles> ScanSession::run() {
  build_chain();
  for (const std::string& spec : m_config.defines) {
    add_command_line_define(spec, m_command_line_macros);
  }
  finish_macro_definitions(m_command_line_macros);
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
  check_dotdot(main_file.file.spelled);
  // Plain assembly is never preprocessed: no predefined header, no -include.
  const bool plain_assembly = m_config.language == Language::assembler;
  if (m_config.implicit_predef && !m_config.nostdinc && !plain_assembly) {
    if (FoundEntry* f = search("stdc-predef.h", std::nullopt, m_bracket_start)) {
      CCREX_TRY(visit(*f, 1, false));
    }
  }
  for (const std::string& name : m_config.forced_includes) {
    if (plain_assembly) {
      break;
    }
    // Like #include "name" written in a file in the cwd, spelled with a "./" prefix by gcc.
    if (FoundEntry* f = search(name, std::string_view("./"), 0)) {
      CCREX_TRY(visit(*f, 1, false));
    }
  }
  CCREX_TRY(visit(main_file, 0, plain_assembly));
  CCREX_TRY(resolve_computed());
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
  result.facts = std::move(scanned.facts);
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
  add("S", {c.cwd, c.source, std::string(language_name(c.language))});
  add("Q", c.quote_dirs);
  add("I", c.bracket_dirs);
  add("Y", c.system_dirs);
  add("A", c.after_dirs);
  add("F", c.forced_includes);
  add("D", c.defines);
  add("B", c.builtin_dirs);
  add("X", c.builtin_cxx_only);
  add("W", c.asm_include_dirs);
  key.push_back(c.nostdinc ? '1' : '0');
  key.push_back(c.nostdincxx ? '1' : '0');
  key.push_back(c.implicit_predef ? '1' : '0');
  key.push_back(c.trigraphs ? '1' : '0');
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
    m_cache.store_result(key, record);
  }
  return scanned;
}

} // namespace ccrex::depscan
