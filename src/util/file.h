#pragma once

// File helpers with Result errors instead of exceptions. All paths are plain strings.
// Every function is thread-safe with respect to other threads using different paths.

#include "util/result.h"

#include <sys/types.h>

#include <string>
#include <string_view>

namespace ccrex::util {

// Return the whole content of the file at `path`.
Result<std::string> read_file(const std::string& path);

// Return the content of `path` when it is a regular file of at most `max_bytes` bytes.
// Anything else is an error: failed_precondition for a device, FIFO, socket or directory
// (opened without blocking, so a FIFO with no writer does not hang the caller, and never
// read, so /dev/zero cannot fill memory), resource_exhausted for a larger file (also one
// that grows past the limit while it is read).
Result<std::string> read_regular_file(const std::string& path, size_t max_bytes);

// Write `data` to `path` atomically: a temporary file in the same directory is written,
// flushed and renamed over `path`, so readers see either the old or the new content and a
// crash never leaves a torn file. `mode` is applied to the new file (umask ignored).
// With `sync` the data is fsync'ed before the rename.
Status write_file_atomic(const std::string& path,
                         std::string_view data,
                         mode_t mode = 0644,
                         bool sync = false);

// Create the new file `path` (it must not exist: O_EXCL) holding `data` with `mode`. On
// failure nothing is left at `path`. The building block of write_file_atomic, for callers
// that rename several such files into place together.
Status write_new_file(const std::string& path,
                      std::string_view data,
                      mode_t mode = 0644,
                      bool sync = false);

// Copy `from` into `to` atomically (temp file + rename), keeping `mode`.
Status copy_file_atomic(const std::string& from, const std::string& to, mode_t mode);

// Create `path` and its parents (like mkdir -p). Existing directories are fine.
Status make_dirs(const std::string& path, mode_t mode = 0755);

// Remove `path` recursively. A missing path is not an error.
Status remove_all(const std::string& path);

// Return a name for a temporary sibling of `path` that no other thread or process uses.
std::string temp_sibling(const std::string& path);

// Return the parent directory of `path` ("." if none).
std::string dirname(std::string_view path);
// Return the last component of `path`.
std::string_view basename(std::string_view path);
// Join two path pieces with exactly one '/'.
std::string join_path(std::string_view a, std::string_view b);
// Return `path` with "." components removed, "a/.." pairs folded lexically and duplicate
// slashes collapsed. Leading ".." of a relative path are kept. Does not touch the disk.
std::string normalize_path(std::string_view path);
// Return `target` relative to the directory `base` ("." when they are the same), both
// absolute and normal. Lexical only: does not touch the disk.
std::string relative_path(std::string_view target, std::string_view base);
// Return whether `path` is a normal relative path with no ".." component that escapes.
bool is_safe_relative_path(std::string_view path);

// Return whether something exists at `path` (without following a final symlink).
bool path_exists(const std::string& path);

// Owns a fresh directory under $TMPDIR (or /tmp) and removes it recursively on destruction.
class TempDir {
public:
  // Create a directory named `prefix`XXXXXX. Throws std::runtime_error when impossible
  // (used in tests and start-up only).
  explicit TempDir(std::string_view prefix = "ccrex-");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return m_path; }
  // Keep the directory after destruction (for debugging failed tests).
  void keep() { m_keep = true; }

private:
  std::string m_path;
  bool m_keep = false;
};

} // namespace ccrex::util
