#pragma once

// DependencyFinder: the files a compile reads (source, forced includes, headers, files the
// assembler reads). Uses the built-in scanner (deps-scanner/) and falls back to the
// compiler's own `-M` when the scanner says it cannot answer soundly, or when configured to.
//
// Some compiles must run locally whatever their inputs: the dependency stage then fails
// with an error made by local_compile_error(), whose message names the counter
// ("local_time_macros: ..."); local_counter() reads it back. The reasons:
//   local_precompiled_header  a .gch/.pch the compiler may read instead of a header, or
//                             #pragma GCC pch_preprocess: gcc's choice depends on the PCH's
//                             validity, which only the compiler can judge.
//   local_time_macros         __TIMESTAMP__, or __DATE__/__TIME__ unless SOURCE_DATE_EPOCH
//                             pins them: the object depends on when (or on the mtime).
//   local_pragma_dependency   #pragma GCC dependency: the compiler compares mtimes, which an
//                             action does not carry.
//   local_asm_include         an assembler .include/.incbin whose file the text does not name
//                             (or any, when the dependencies came from -M).
//   local_symlink_dotdot      a path with ".." after a symlink: the kernel and a textual
//                             mapping of the path disagree.
//   local_dotdot_directory    a path with ".." after a directory of the project that holds
//                             no input: the input root would not have it. The project root
//                             is taken from CCREX_PROJECT_ROOT or the enclosing git work
//                             tree (a root set only in a configuration file is not seen).
//
// Thread safety: find() may be called concurrently; the scanner's caches are shared.

#include "agent/dependency_memo.h"
#include "depscan/builtin_probe.h"
#include "depscan/file_system.h"
#include "depscan/scan_cache.h"
#include "toolchain/command_parser.h"
#include "util/result.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ccrex::agent {

struct Dependencies {
  // Every file the compile may read, spelled as the compiler would (relative to the cwd
  // or absolute), source first.
  std::vector<std::string> files;
  // The stat each file had when the scanner read or validated it, parallel to `files`
  // (empty when -M produced a list that could not be memoised). Lets the digest cache
  // answer without a stat.
  std::vector<depscan::FileStat> stats;
  // True when the compiler's -M produced the list.
  bool from_compiler = false;
  // True when that list was remembered from an earlier -M run (DependencyMemo) instead of
  // running the preprocessor again.
  bool remembered = false;
  // Why the scanner was not used ("" when it was).
  std::string scanner_gave_up;
};

class DependencyFinder {
public:
  DependencyFinder();
  ~DependencyFinder();
  DependencyFinder(const DependencyFinder&) = delete;
  DependencyFinder& operator=(const DependencyFinder&) = delete;

  // Find the dependencies of `cmd`, run with `compiler` (resolved path) in `cwd` with `env`.
  // `use_scanner` false forces the compiler's -M.
  util::Result<Dependencies> find(const toolchain::ParsedCommand& cmd,
                                  const std::string& compiler,
                                  const std::string& cwd,
                                  const std::vector<std::string>& env,
                                  bool use_scanner);

  // The scanner's source of built-in include directories (shared_probes.h feeds it).
  depscan::CompilerProber& builtin_prober() { return m_prober; }

private:
  util::Result<Dependencies> run_compiler_m(const toolchain::ParsedCommand& cmd,
                                            const std::string& compiler,
                                            const std::string& cwd,
                                            const std::vector<std::string>& env);
  // The scanner's facts for a list of files that came from -M (read through the scanner's
  // cache); the assembler's directives are not resolved there.
  util::Result<depscan::ScanFacts> facts_of_listed(const std::vector<std::string>& files,
                                                   const toolchain::ParsedCommand& cmd,
                                                   const std::string& cwd,
                                                   const std::vector<std::string>& env);

  depscan::RealFileSystem m_fs;
  depscan::ScanCache m_cache;
  depscan::CompilerProber m_prober;
  DependencyMemo m_memo{m_fs, m_cache};
};

// Fail with local_dotdot_directory when a file of `files` (spelled relative to `cwd`)
// goes through ".." after a directory of the project that the input root will not hold.
util::Status check_dotdot_directories(const std::vector<std::string>& files,
                                      const std::string& cwd,
                                      const std::vector<std::string>& env);

// Return the error that sends a compile to run locally, counted as `counter`
// ("local_time_macros"), with a human-readable `detail`.
util::Error local_compile_error(std::string_view counter, const std::string& detail);

// Return the counter named by an error message made by local_compile_error(), or nullopt
// for any other message.
std::optional<std::string> local_counter(std::string_view message);

// Return the error that sends a compile with these scan facts to run locally (see the
// reasons above), or nullopt when it may run anywhere. SOURCE_DATE_EPOCH in `env` pins
// __DATE__ and __TIME__ for gcc only: clang honours it from version 16, and ccrex does not
// know the version.
std::optional<util::Error> local_reason(const depscan::ScanFacts& facts,
                                        const std::vector<std::string>& env,
                                        toolchain::CompilerFamily family);

// Return the arguments (compiler first) that make the compiler print `cmd`'s make-rule
// dependencies on stdout: the preprocessor and compiler options of `cmd`, -M, the source.
std::vector<std::string> dependency_command(const toolchain::ParsedCommand& cmd,
                                            const std::string& compiler);

} // namespace ccrex::agent
