#pragma once

// DependencyMemo: what the compiler's -M listed for a compile the scanner cannot answer (a
// computed #include it cannot resolve, trigraphs, ...), kept so that a repeat with nothing relevant
// changed is answered without running the preprocessor again. ccache's direct mode does this for
// every compile; here the scanner answers the rest.
//
// An answer is kept as a depscan::ScanRecord in the scanner's ScanCache and checked the
// same way as a scan's record:
// - every listed file and the compiler driver stat the same (content validated by stat);
// - every name the preprocessor could have looked up gets the same answer from each
//   search directory's current listing. The names are the literal #include and
//   __has_include operands of the listed files, and each listed file's path relative to
//   every search directory holding it (which covers a computed #include: its operand is
//   unknown, its result is not). The search directories are the command's, the
//   compiler's built-in ones, the working directory and the directory of every listed
//   file (quoted includes look next to their includer first). A directory of a
//   multi-component name ("sys/x.h") is followed into and checked the same way.
//   So a header created earlier in the search path, or one a __has_include tests for,
//   invalidates the answer; an object file written next to the source does not.
// Nothing is stored when the answer could be racy: a listed file changed within the racy
// window before -M started, a directory's looked-up names answered differently before and
// after the run, or the list cannot be watched (a computed __has_include, trigraphs, a
// sysroot).
//
// Thread safety: every member may be called concurrently (the ScanCache is thread-safe).

#include "depscan/file_system.h"
#include "depscan/scan_cache.h"
#include "depscan/search_config.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace ccrex::agent {

class DependencyMemo {
public:
  DependencyMemo(depscan::FileSystem& fs,
                 depscan::ScanCache& cache,
                 int64_t racy_window_ns = 2'000'000'000)
      : m_fs(fs),
        m_cache(cache),
        m_racy_window_ns(racy_window_ns) {}

  // What is known just before -M runs: when it started, and the listings of the
  // directories the configuration names (to tell a racing change from an old one).
  struct Snapshot {
    int64_t started_ns = 0;
    std::unordered_map<std::string, std::shared_ptr<const depscan::DirListing>> listings;
  };

  // The key of a -M run: its command (compiler first), working directory and environment.
  static std::string key_of(const std::vector<std::string>& m_command,
                            const std::string& cwd,
                            const std::vector<std::string>& env);

  // The files (spelled as -M listed them), their stats and scan facts remembered under
  // `key`, if everything they depended on is unchanged.
  std::optional<depscan::ScannedFiles> find(const std::string& key);

  // Take the snapshot for a -M run of a compile with `config` (built-ins filled in).
  Snapshot snapshot(const depscan::SearchConfig& config);

  // Remember `listed` (files spelled as -M listed them, with their facts; stats are
  // filled here) under `key`. Returns the stats of the listed files when stored, nullopt
  // when the answer could not be trusted later (see the file comment).
  std::optional<std::vector<depscan::FileStat>> store(const std::string& key,
                                                      const Snapshot& before,
                                                      const depscan::SearchConfig& config,
                                                      const std::string& compiler,
                                                      depscan::ScannedFiles listed);

private:
  depscan::FileSystem& m_fs;
  depscan::ScanCache& m_cache;
  int64_t m_racy_window_ns;
};

} // namespace ccrex::agent
