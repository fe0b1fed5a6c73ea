#pragma once

// Running a compiler to ask it about itself (`--version`, `-dumpmachine`, `-E -v`), behind
// an injectable function so tests can count or fake the probes.
// Thread safety: the default runner is thread-safe (one subprocess per call).

#include "util/result.h"

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace ccrex::toolchain {

struct ProbeOutput {
  // Exit status of the probed compiler.
  int exit_code = 0;
  // Everything it wrote to stdout and stderr.
  std::string stdout_data;
  std::string stderr_data;
};

// Run `argv` (compiler first) and return its output; fail only when it cannot be started.
using ProbeRunner = std::function<util::Result<ProbeOutput>(const std::vector<std::string>& argv)>;

// Return a runner that uses util::run_subprocess with this process's environment minus the
// variables that change a compiler's search paths or output (CPATH, C_INCLUDE_PATH,
// GCC_EXEC_PREFIX, ...), with LC_ALL=C, stdin from /dev/null and a 60 s timeout.
ProbeRunner default_probe_runner();

// Identity of a file on disk as stat(2) sees it through symlinks; a changed binary gets a
// different stamp.
struct FileStamp {
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  int64_t mtime_ns = 0;

  bool operator==(const FileStamp&) const = default;
};

// Return the stamp of `path` (following symlinks), or an io_error.
util::Result<FileStamp> stamp_file(const std::string& path);

} // namespace ccrex::toolchain
