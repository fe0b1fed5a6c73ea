#pragma once

// Compiler identity: what makes two compilers produce the same object from the same inputs.
// It is the SHA-256 of the compiler binary (resolved through symlinks), its version line,
// its target and the built-in include directories of the compile's language (C or C++: a
// compiler keeps one search list for each), combined into one key that goes into the
// action key. Never assumed from the path. One compiler run, `-x <language> -E -v
// /dev/null`, tells all three for gcc and clang (`--version` and `-dumpmachine` are asked
// only of a compiler whose output lacks them), and a C project never starts the C++ front
// end to learn a list it does not use.

#include "toolchain/compiler_family.h"
#include "toolchain/language.h"
#include "toolchain/probe.h"
#include "util/result.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace ccrex::toolchain {

struct ToolchainId {
  // The path it was looked up by.
  std::string compiler_path;
  // The binary after resolving symlinks (what was hashed).
  std::string resolved_path;
  // gcc or clang according to `--version` (unknown for anything else).
  CompilerFamily family = CompilerFamily::unknown;
  // Lowercase hex SHA-256 of the resolved binary.
  std::string binary_sha256;
  // The version line of `-v` ("gcc version 12.2.0 (Debian 12.2.0-14)", "Debian clang
  // version 14.0.6"); failing that, the first line of `--version` without the program name
  // gcc puts first.
  std::string version;
  // The "Target:" of `-v`, which is what `-dumpmachine` prints ("x86_64-linux-gnu"): the
  // platform-ish part of the identity.
  std::string target;
  // Language::c or Language::cxx: whose built-in include directories these are.
  Language language = Language::c;
  // The `#include <...>` search list printed by `-x <language> -E -v`, in search order,
  // exactly as the compiler printed it (framework-directory notes removed).
  std::vector<std::string> builtin_include_dirs;
  // Lowercase hex SHA-256 of description(): the string to put into action keys.
  std::string key;

  // Return a canonical multi-line text of every identity field (path names excluded, so
  // the same compiler installed elsewhere has the same key).
  std::string description() const;
};

// The search list a compile in `language` uses: Language::cxx for C++ and Objective-C++
// (sources and preprocessed), Language::c for everything else (C, Objective-C, assembler).
Language include_language(Language language);

// Parse the stderr of `<compiler> -E -v` and return the directories between
// "#include <...> search starts here:" and "End of search list.".
std::vector<std::string> parse_include_search_list(std::string_view verbose_output);

// Compute identities, caching them per path and FileStamp: a repeated lookup of an
// unchanged compiler costs one stat(2); a replaced binary is probed again.
//
// Thread safety: get() may be called from any thread. Concurrent lookups of the same
// compiler wait for a single probe; different compilers are probed in parallel.
class ToolchainIdCache {
public:
  explicit ToolchainIdCache(ProbeRunner runner = default_probe_runner());

  // Return the identity of the compiler at `compiler_path` (absolute or cwd-relative,
  // already resolved through PATH) for compiles in `language` (see include_language()).
  // Fails when the file is missing or a probe fails; failures are not cached.
  util::Result<std::shared_ptr<const ToolchainId>> get(const std::string& compiler_path,
                                                       Language language);

private:
  struct Slot {
    std::mutex mutex;
    std::shared_ptr<const ToolchainId> id; // guarded by mutex
  };
  struct Key {
    std::string path;
    FileStamp stamp;
    Language language;
    bool operator<(const Key& other) const;
  };

  util::Result<std::shared_ptr<const ToolchainId>> compute(const std::string& compiler_path,
                                                           Language language);

  ProbeRunner m_runner;
  std::mutex m_mutex;
  std::map<Key, std::shared_ptr<Slot>> m_slots; // guarded by m_mutex
};

} // namespace ccrex::toolchain
