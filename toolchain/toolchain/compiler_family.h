#pragma once

// Which compiler a path names: gcc or clang, and whether it is a C++ driver (g++, clang++,
// c++), which changes how .c files are compiled.

#include "toolchain/probe.h"

#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace ccrex::toolchain {

enum class CompilerFamily { unknown, gcc, clang };

// Return "gcc", "clang" or "unknown".
std::string_view family_name(CompilerFamily family);

struct CompilerInfo {
  // The compiler family; unknown when neither gcc nor clang.
  CompilerFamily family = CompilerFamily::unknown;
  // True for g++, clang++ and c++: .c, .h and .i inputs are compiled as C++.
  bool cxx_driver = false;

  bool operator==(const CompilerInfo&) const = default;
};

struct NameClassification {
  // What the name says; unknown when it says nothing (or is ambiguous).
  CompilerInfo info;
  // True for cc and c++ (optionally target-prefixed or versioned): could be either family.
  bool ambiguous = false;
};

// Classify a compiler by the last component of `path`: "gcc", "g++-12",
// "x86_64-linux-gnu-gcc-12", "clang-14", "clang++" are unambiguous; "cc" and "c++" are
// ambiguous; anything else ("icc", "clang-tidy", "ccache") is unknown. Pure function.
NameClassification classify_compiler_name(std::string_view path);

// Return the family announced by `--version` output ("clang version" or the Free Software
// Foundation notice of gcc), or unknown.
CompilerFamily family_from_version_output(std::string_view output);

// Detects and caches compiler families. For an ambiguous or unknown name it follows the
// symlink chain one link at a time, then the real path, and finally runs `--version`.
// The cache is keyed by path and the FileStamp of the file it resolves to.
//
// Thread safety: detect() may be called from any thread.
class CompilerDetector {
public:
  explicit CompilerDetector(ProbeRunner runner = default_probe_runner());

  // Return what `path` (an absolute or cwd-relative path to an executable) is. A missing
  // file or a failing probe gives family unknown; the cxx_driver bit comes from the name
  // as given (a c++ symlink to clang is still a C++ driver).
  CompilerInfo detect(const std::string& path);

private:
  CompilerInfo detect_uncached(const std::string& path);

  ProbeRunner m_runner;
  std::mutex m_mutex;
  std::map<std::string, std::pair<FileStamp, CompilerInfo>> m_cache; // guarded by m_mutex
};

} // namespace ccrex::toolchain
