#pragma once

// DependencyFinder: the files a compile reads (source, forced includes, headers). Uses the
// built-in scanner (deps-scanner/) and falls back to the compiler's own `-M` when the
// scanner says it cannot answer soundly, or when configured to.
//
// Thread safety: find() may be called concurrently; the scanner's caches are shared.

#include "depscan/builtin_probe.h"
#include "depscan/file_system.h"
#include "depscan/scan_cache.h"
#include "toolchain/command_parser.h"
#include "util/result.h"

#include <string>
#include <vector>

namespace ccrex::agent {

struct Dependencies {
  // Every file the compile may read, spelled as the compiler would (relative to the cwd
  // or absolute), source first.
  std::vector<std::string> files;
  // The stat each file had when the scanner read or validated it, parallel to `files`
  // (empty when -M produced the list). Lets the digest cache answer without a stat.
  std::vector<depscan::FileStat> stats;
  // True when the compiler's -M produced the list.
  bool from_compiler = false;
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

private:
  util::Result<Dependencies> run_compiler_m(const toolchain::ParsedCommand& cmd,
                                            const std::string& compiler,
                                            const std::string& cwd,
                                            const std::vector<std::string>& env);

  depscan::RealFileSystem m_fs;
  depscan::ScanCache m_cache;
  depscan::CompilerProber m_prober;
};

// Return the arguments (compiler first) that make the compiler print `cmd`'s make-rule
// dependencies on stdout: the preprocessor and compiler options of `cmd`, -M, the source.
std::vector<std::string> dependency_command(const toolchain::ParsedCommand& cmd,
                                            const std::string& compiler);

} // namespace ccrex::agent
