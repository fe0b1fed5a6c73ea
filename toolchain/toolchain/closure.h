#pragma once

// The closure of a compiler: every file a compile with `-c` needs from the system, each at
// the absolute path where the programs look for it, so that a root holding only these
// files (plus the compile's own inputs) runs the compile as this host does.
//
// It holds the driver, the programs it runs for `-c` (gcc's `cc1`/`cc1plus` and `as`, found
// with `-print-prog-name=`; clang runs itself and assembles internally, `as` is added for
// `-fno-integrated-as`), gcc's `specs` file when it has one, for clang the `crtbegin.o` by
// which it recognises the GCC installation whose C++ headers it uses (for `-c` only its
// presence matters), the shared libraries and the ELF interpreter of each of these programs, and
// the compiler's own built-in include directories (those below its installation, such as
// `/usr/include/c++/12` or clang's resource directory). The system-wide directories `/usr/include`,
// `/usr/include/<triplet>` and `/usr/local/include` are not part of it: they belong to the system,
// not to the compiler, and hold far more than one compile reads; the headers a compile reads from
// them are its inputs.
//
// Libraries come from the loader itself: each program's PT_INTERP is read from its ELF
// header and that interpreter is run with `--list`. The loader applies its own rules
// (RUNPATH and `$ORIGIN`, hardware-capability subdirectories, its cache and default
// directories), which a reimplementation would only approximate; it loads the libraries but
// never runs the program. A program without PT_INTERP (static) needs no library.
//
// Symbolic links are kept where a path ends in one (`/usr/bin/clang -> ../lib/llvm-14/bin/
// clang`, `libLLVM-14.so.1 -> ...`) as relative links, with the file they lead to added at
// the link's lexical target: a driver finds its installation from the path it runs at, so
// clang must run at its real place. Symbolic links on the way to a path (Debian's
// `/lib -> usr/lib`) are not kept: the closure has real directories there, so the loader
// finds libraries where it looks without its cache.

#include "toolchain/probe.h"
#include "toolchain/toolchain_id.h"
#include "util/result.h"

#include <string>
#include <string_view>
#include <vector>

namespace ccrex::toolchain {

struct ClosureEntry {
  enum class Kind { file, symlink, directory };
  // Absolute, normalised path inside the root.
  std::string path;
  Kind kind = Kind::file;
  // For a file: the local path whose content goes there (a regular file once symbolic
  // links in it are followed).
  std::string source;
  // For a symlink: its target, relative to the link's directory.
  std::string target;
  // For a file: whether it is executable.
  bool executable = false;

  bool operator==(const ClosureEntry&) const = default;
};

struct Closure {
  // Every entry once, sorted by path.
  std::vector<ClosureEntry> entries;
};

// The PATH under which the closure looks for programs the driver finds by name (`as`); the
// action builder gives compiles the same one.
inline constexpr std::string_view k_closure_path = "/usr/local/bin:/usr/bin:/bin";

// Compute the closure of the compiler `id` (probed as `id.compiler_path`). `runner` runs the
// driver's `-print-prog-name=` probes and the loader's `--list`. Fails when a program is
// not an ELF file of this machine, a library is not found, or a file cannot be read.
util::Result<Closure> compute_closure(const ToolchainId& id, const ProbeRunner& runner);

// Return whether `dir` is a system-wide include directory (`/usr/include`,
// `/usr/include/<triplet>`, `/usr/local/include`) rather than the compiler's own.
bool is_system_include_dir(std::string_view dir);

// Return the ELF interpreter (PT_INTERP) of the file at `path`, "" when it has none (a
// static program or a library). Fails when the file is not a 64-bit ELF file of the
// machine this program was built for.
util::Result<std::string> elf_interpreter(const std::string& path);

} // namespace ccrex::toolchain
