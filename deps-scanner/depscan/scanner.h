#pragma once

// The scan entry point: from a compile command to the files the preprocessor may read.
//
//   RealFileSystem fs;
//   ScanCache cache;
//   CompilerProber prober;
//   Scanner scanner(fs, cache, prober);
//   auto result = scanner.scan({"/usr/bin/g++", {"-Iinc", "-c", "a.cc"}, cwd, env});
//   if (!result) fall_back_to_compiler_M(result.error());
//
// Conditionals are not evaluated, so the answer is a superset of what the compiler reads.
// A computed include (`#include NAME`, `__has_include(NAME)`) is resolved once the walk has
// seen every definition of NAME it can reach (files and -D, any branch): if each is one
// literal header name, all of them are resolved as if written in its place, and the files
// they find are walked in turn until nothing changes; a name defined nowhere adds nothing
// (the compiler would fail there). Any other definition, or an operand that is not one
// name, makes the scan give up with computed_include (macro_definitions.h).
// Includes that resolve to no file are skipped (in a live branch the compiler would fail
// anyway). Assembly sources are scanned too: .s files for the assembler's .include and
// .incbin only, .S files like C plus those (which also count in asm() strings of C files). Files
// are reported spelled like the compiler spells them (directory + "/" + name, lexically); cycles
// are cut by file identity (device and inode), not by spelling.
//
// Thread safety: a Scanner may be used from many threads at once if its FileSystem and
// BuiltinProber are thread-safe (the real ones are). Each call keeps its own memo of stats
// and listings; the ScanCache is shared.

#include "depscan/builtin_probe.h"
#include "depscan/file_system.h"
#include "depscan/scan_cache.h"
#include "depscan/search_config.h"

#include <string>
#include <vector>

namespace ccrex::depscan {

struct ScanRequest {
  // The compiler (path or name), used to learn its built-in directories.
  std::string compiler;
  // Compile arguments without the compiler itself.
  std::vector<std::string> args;
  // Absolute working directory of the compile.
  std::string cwd;
  // Environment as "NAME=value" (CPATH, C_INCLUDE_PATH, CPLUS_INCLUDE_PATH, ...).
  std::vector<std::string> env;
};

struct ScanResult {
  // The source first, then -include/-imacros files and headers in discovery order, each
  // spelled once (as the compiler would: relative paths stay relative to the cwd).
  std::vector<std::string> files;
  // Parallel to `files`: the stat each file had when this scan read or validated it (a warm
  // scan answered from the cache reports the stats of its validation). They are what this
  // scan observed, not a later promise: a caller that uses them instead of stat'ing again
  // accepts the same window as the scanner, a file changing between the scan and its own
  // read. Content digests taken later must still be verified against the bytes read.
  std::vector<FileStat> stats;
  // What decides whether the compile may run elsewhere or be served from a cache (time
  // macros, precompiled headers, ...); the caller decides what to do about each.
  ScanFacts facts;
  // The configuration the scan used (with built-in directories filled in).
  SearchConfig config;
};

class Scanner {
public:
  Scanner(FileSystem& fs, ScanCache& cache, BuiltinProber& prober)
      : m_fs(fs),
        m_cache(cache),
        m_prober(prober) {}

  // Extract the configuration from `request`, probe built-ins and scan.
  ScanResultOr<ScanResult> scan(const ScanRequest& request);

  // For a process that scans once and then exits (the CLI): skip building the record that
  // lets a later scan with the same configuration be answered from the cache, and leave the
  // scan's working memory (memo tables of thousands of small nodes) to the process exit
  // instead of freeing it piece by piece. Off by default; never for a long-lived process.
  void set_one_shot(bool one_shot) { m_one_shot = one_shot; }

  // Scan with an already extracted configuration whose built-in directories are filled in.
  // Returns the files as ScanResult::files and their stats as ScanResult::stats.
  ScanResultOr<ScannedFiles> scan_config(const SearchConfig& config);

private:
  FileSystem& m_fs;
  ScanCache& m_cache;
  BuiltinProber& m_prober;
  bool m_one_shot = false;
};

} // namespace ccrex::depscan
