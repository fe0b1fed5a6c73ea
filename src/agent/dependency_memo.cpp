#include "agent/dependency_memo.h"

#include "depscan/directive_lexer.h"
#include "util/file.h"
#include "util/strings.h"

#include <time.h>

#include <unordered_set>

namespace ccrex::agent {
namespace {

int64_t now_ns() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

std::string absolute(const std::string& cwd, std::string_view path) {
  return util::normalize_path(path.front() == '/' ? std::string(path) : util::join_path(cwd, path));
}

// The directories `config` names for the preprocessor to search, absolute and each once:
// the working directory, the source's directory, then the command's and the built-in
// ones. nullopt when one is spelled relative to a sysroot ("=dir").
std::optional<std::vector<std::string>> configured_dirs(const depscan::SearchConfig& config) {
  std::vector<std::string> dirs;
  std::unordered_set<std::string> seen;
  bool sysroot_relative = false;
  const auto add = [&](const std::string& d) {
    if (d.empty()) {
      return;
    }
    if (d.front() == '=') {
      sysroot_relative = true;
      return;
    }
    std::string abs = absolute(config.cwd, d);
    if (seen.insert(abs).second) {
      dirs.push_back(std::move(abs));
    }
  };
  add(config.cwd);
  if (!config.source.empty()) {
    add(util::dirname(absolute(config.cwd, config.source)));
  }
  for (const auto* list : {&config.quote_dirs,
                           &config.bracket_dirs,
                           &config.system_dirs,
                           &config.builtin_dirs,
                           &config.builtin_cxx_only,
                           &config.after_dirs}) {
    for (const std::string& d : *list) {
      add(d);
    }
  }
  if (sysroot_relative) {
    return std::nullopt;
  }
  return dirs;
}

// Builds the ScanRecord of a -M answer: what was stat'ed and which names were looked up in
// which directory listing.
class RecordBuilder {
public:
  RecordBuilder(depscan::FileSystem& fs, depscan::ScanCache& cache) : m_fs(fs), m_cache(cache) {}

  // Stat `path` once and record the answer.
  std::optional<depscan::FileStat> observe(const std::string& path) {
    const auto it = m_observed_index.find(path);
    if (it != m_observed_index.end()) {
      return m_record.observed[it->second].second;
    }
    auto st = m_fs.stat(path);
    m_observed_index.emplace(path, m_record.observed.size());
    m_record.observed.emplace_back(path, st);
    return st;
  }

  // The current listing of `dir` (observed), or nullptr when it is not a listable directory.
  std::shared_ptr<const depscan::DirListing> listing_of(const std::string& dir) {
    const auto it = m_listings.find(dir);
    if (it != m_listings.end()) {
      return it->second;
    }
    std::shared_ptr<const depscan::DirListing> listing;
    const auto st = observe(dir);
    if (st && st->type == depscan::FileType::directory) {
      listing = m_cache.listing(m_fs, dir, *st);
    }
    m_listings.emplace(dir, listing);
    return listing;
  }

  // Record that `name` is looked up in `dir` (whose listing is known).
  void note_lookup(const std::string& dir, std::string_view name) {
    std::string tag = dir;
    tag.push_back('\0');
    tag.append(name);
    if (!m_noted.insert(std::move(tag)).second) {
      return;
    }
    auto& lookups = m_record.lookups[dir];
    lookups.listing = m_listings.at(dir);
    lookups.names.emplace_back(name);
  }

  // Look `name` up from the directory `dir` component by component, as the preprocessor
  // would, recording every answer it depends on.
  void follow(std::string dir, std::string_view name) {
    const auto parts = util::split(name, '/');
    for (size_t i = 0; i < parts.size(); ++i) {
      const std::string_view part = parts[i];
      if (part.empty() || part == ".") {
        continue;
      }
      if (part == "..") {
        dir = util::dirname(dir);
        continue;
      }
      const auto listing = listing_of(dir);
      if (!listing) {
        return; // missing (or not a directory): its observed stat covers it
      }
      note_lookup(dir, part);
      const auto entry = listing->entries.find(part);
      if (entry == listing->entries.end() || i + 1 == parts.size()) {
        return;
      }
      if (entry->second && *entry->second != depscan::FileType::directory) {
        return;
      }
      dir = util::join_path(dir, part);
    }
  }

  // Record that the directory `dir` holds no precompiled header, if it does not.
  void note_no_pch(const std::string& dir) {
    const auto listing = listing_of(dir);
    if (listing && !listing->has_pch) {
      note_lookup(dir, depscan::k_no_pch_lookup);
    }
  }

  depscan::ScanRecord& record() { return m_record; }
  const std::unordered_map<std::string, std::shared_ptr<const depscan::DirListing>>&
  listings() const {
    return m_listings;
  }

private:
  depscan::FileSystem& m_fs;
  depscan::ScanCache& m_cache;
  depscan::ScanRecord m_record;
  std::unordered_map<std::string, size_t> m_observed_index;
  std::unordered_map<std::string, std::shared_ptr<const depscan::DirListing>> m_listings;
  std::unordered_set<std::string> m_noted;
};

// Whether `name` gets the same answer from both listings.
bool same_answer(const depscan::DirListing& a,
                 const depscan::DirListing& b,
                 const std::string& name) {
  if (name == depscan::k_no_pch_lookup) {
    return a.has_pch == b.has_pch;
  }
  const auto x = a.entries.find(name);
  const auto y = b.entries.find(name);
  const bool in_a = x != a.entries.end();
  const bool in_b = y != b.entries.end();
  return in_a == in_b && (!in_a || x->second == y->second);
}

} // namespace

std::string DependencyMemo::key_of(const std::vector<std::string>& m_command,
                                   const std::string& cwd,
                                   const std::vector<std::string>& env) {
  // A prefix no scan fingerprint starts with, then each string with its length.
  std::string key("\x01M");
  const auto add = [&key](const std::string& s) {
    key.append(std::to_string(s.size())).push_back(':');
    key.append(s);
  };
  for (const std::string& a : m_command) {
    add(a);
  }
  key.push_back('|');
  add(cwd);
  for (const std::string& e : env) {
    add(e);
  }
  return key;
}

std::optional<depscan::ScannedFiles> DependencyMemo::find(const std::string& key) {
  return m_cache.find_result(m_fs, key);
}

DependencyMemo::Snapshot DependencyMemo::snapshot(const depscan::SearchConfig& config) {
  Snapshot s;
  s.started_ns = now_ns();
  if (const auto dirs = configured_dirs(config)) {
    for (const std::string& dir : *dirs) {
      const auto st = m_fs.stat(dir);
      if (st && st->type == depscan::FileType::directory) {
        if (auto listing = m_cache.listing(m_fs, dir, *st)) {
          s.listings.emplace(dir, std::move(listing));
        }
      }
    }
  }
  return s;
}

std::optional<std::vector<depscan::FileStat>>
DependencyMemo::store(const std::string& key,
                      const Snapshot& before,
                      const depscan::SearchConfig& config,
                      const std::string& compiler,
                      depscan::ScannedFiles listed) {
  if (!config.sysroot.empty()) {
    return std::nullopt;
  }
  auto dirs = configured_dirs(config);
  if (!dirs) {
    return std::nullopt;
  }
  const int64_t settled = before.started_ns - m_racy_window_ns;
  const auto settled_before_run = [settled](const depscan::FileStat& st) {
    return st.mtime_ns < settled && st.ctime_ns < settled;
  };
  RecordBuilder b(m_fs, m_cache);
  const auto driver = b.observe(compiler);
  if (!driver || !settled_before_run(*driver)) {
    return std::nullopt;
  }

  // The listed files, and the names their directives look up.
  std::vector<std::string> abs_files;
  std::vector<std::string> names;
  std::unordered_set<std::string> seen_dirs(dirs->begin(), dirs->end());
  listed.stats.clear();
  for (const std::string& f : listed.files) {
    std::string abs = absolute(config.cwd, f);
    const auto st = b.observe(abs);
    if (!st || st->type != depscan::FileType::regular || !settled_before_run(*st)) {
      return std::nullopt;
    }
    listed.stats.push_back(*st);
    auto directives = m_cache.directives(m_fs, abs, *st);
    if (!directives) {
      return std::nullopt;
    }
    for (const depscan::Directive& d : (*directives)->directives) {
      if (d.kind == depscan::DirectiveKind::trigraph) {
        return std::nullopt; // directives spelled with trigraphs are not all lexed
      }
      if (!depscan::is_include_kind(d.kind)) {
        continue;
      }
      if (d.computed) {
        const bool has_include = d.kind == depscan::DirectiveKind::has_include
                                 || d.kind == depscan::DirectiveKind::has_include_next;
        if (has_include) {
          return std::nullopt; // a name that is nowhere to be watched
        }
        continue; // its result is listed, and covered below
      }
      if (!d.name.empty() && d.name.front() != '/') {
        names.push_back(d.name);
      }
    }
    std::string dir = util::dirname(abs);
    if (seen_dirs.insert(dir).second) {
      dirs->push_back(std::move(dir));
    }
    abs_files.push_back(std::move(abs));
  }
  // Each listed file as a name relative to every search directory that holds it.
  for (const std::string& abs : abs_files) {
    for (const std::string& dir : *dirs) {
      if (abs.size() > dir.size() + 1 && abs.compare(0, dir.size(), dir) == 0
          && (dir == "/" || abs[dir.size()] == '/')) {
        names.push_back(abs.substr(dir == "/" ? 1 : dir.size() + 1));
      }
    }
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  for (const std::string& dir : *dirs) {
    b.note_no_pch(dir);
    for (const std::string& name : names) {
      b.follow(dir, name);
    }
  }

  // A directory whose looked-up names could have changed while -M ran makes the answer
  // untrustworthy: compare with the snapshot, or require an old directory.
  for (const auto& [dir, lookups] : b.record().lookups) {
    const auto snap = before.listings.find(dir);
    if (snap != before.listings.end()) {
      for (const std::string& name : lookups.names) {
        if (!same_answer(*snap->second, *lookups.listing, name)) {
          return std::nullopt;
        }
      }
      continue;
    }
    if (!settled_before_run(lookups.listing->stat)) {
      return std::nullopt;
    }
  }
  std::vector<depscan::FileStat> stats = listed.stats;
  b.record().result = std::move(listed);
  m_cache.store_result(key, b.record());
  return stats;
}

} // namespace ccrex::agent
