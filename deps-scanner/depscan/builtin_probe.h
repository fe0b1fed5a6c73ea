#pragma once

// Learns a compiler's built-in include directories by running it once:
// `<compiler> [probe args] -x <lang> -E -v /dev/null`, whose stderr lists them between
// "#include <...> search starts here:" and "End of search list.". Results are cached per
// (compiler path, language, probe args) for the life of the prober; a caller that has run
// that very command itself can hand its output over instead (remember()).
//
// Thread safety: CompilerProber is thread-safe; concurrent first probes of the same key may
// both run the compiler, and the first answer stored wins.

#include "depscan/search_config.h"

#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace ccrex::depscan {

// Parse the "#include <...> search starts here:" block of `cc -E -v` output. Framework
// directory annotations (" (framework directory)") are dropped. Returns the directories in
// order, or nullopt when the block is missing.
std::optional<std::vector<std::string>> parse_search_list(std::string_view verbose_output);

class BuiltinProber {
public:
  virtual ~BuiltinProber() = default;
  // Return the built-in directories of `compiler` for `language` with `probe_args`.
  virtual ScanResultOr<std::vector<std::string>>
  builtin_dirs(const std::string& compiler,
               Language language,
               const std::vector<std::string>& probe_args) = 0;
};

// Runs the real compiler, with CPATH and the *_INCLUDE_PATH variables removed from its
// environment so that only built-in directories are listed. With a `cache_dir`, answers are
// also kept on disk, one small file per key and compiler binary identity (resolved path,
// size, mtime, inode), so a new compiler installed at the same path is probed again. The
// file is named by a hash of both and holds them in full, so a name collision is a miss.
class CompilerProber final : public BuiltinProber {
public:
  explicit CompilerProber(std::string cache_dir = {}) : m_cache_dir(std::move(cache_dir)) {}

  ScanResultOr<std::vector<std::string>>
  builtin_dirs(const std::string& compiler,
               Language language,
               const std::vector<std::string>& probe_args) override;

  // Take `verbose_output`, the stderr of `<compiler> [probe_args] -x <language> -E -v
  // /dev/null` run by someone else, as this prober's answer for that key, so that the
  // compiler is not run again for it. The caller vouches that the run's environment lists
  // the directories the compile will search. Returns false, keeping nothing, when the output
  // has no search list; an answer already held is kept.
  bool remember(const std::string& compiler,
                Language language,
                const std::vector<std::string>& probe_args,
                std::string_view verbose_output);

  // Number of compiler runs so far (for tests).
  int runs() const;

private:
  static std::string
  memory_key(const std::string& compiler, Language language, const std::vector<std::string>& args);
  std::string
  disk_key(const std::string& compiler, const std::string& key, std::string& full_key) const;

  std::string m_cache_dir;
  mutable std::mutex m_mutex;
  std::map<std::string, std::vector<std::string>> m_cache;
  int m_runs = 0;
};

// Fill `config.builtin_dirs` (and `builtin_cxx_only` when -nostdinc++ needs it) from
// `prober`, then apply -nostdinc / -nostdinc++. Does nothing to the built-ins for -nostdinc.
ScanResultOr<bool>
fill_builtin_dirs(SearchConfig& config, const std::string& compiler, BuiltinProber& prober);

} // namespace ccrex::depscan
