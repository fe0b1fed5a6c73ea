#pragma once

// The file-system seam of the scanner. Everything the scanner learns about the disk goes
// through FileSystem, so tests run against MemoryFileSystem and can count accesses.
//
// Thread safety: RealFileSystem is stateless and thread-safe. MemoryFileSystem is safe for
// concurrent readers; mutate it only while no scan runs.

#include "util/result.h"

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ccrex::depscan {

// The scanner reads no file larger than this (a real header is far smaller; a larger one
// sends the compile to the compiler's -M).
constexpr size_t k_max_source_bytes = size_t{256} << 20;

enum class FileType : uint8_t { regular, directory, other };

// What stat(2) says about a path (symlinks followed). The identity fields are what caches
// validate against: any change of content changes size, mtime or ctime.
struct FileStat {
  uint64_t dev = 0;
  uint64_t ino = 0;
  int64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  FileType type = FileType::other;

  bool operator==(const FileStat&) const = default;
};

// One directory entry. `type` is nullopt when the kind is not known without a stat (a
// symlink, or a file system that does not report d_type).
struct DirEntry {
  std::string name;
  std::optional<FileType> type;
};

class FileSystem {
public:
  virtual ~FileSystem() = default;

  // Return the stat of `path` following symlinks, or nullopt if it does not exist or
  // cannot be reached.
  virtual std::optional<FileStat> stat(const std::string& path) = 0;
  // Like stat(), for a path that is likely to be read next with read_into(): an
  // implementation may open the file now and keep it open for that read, so that the path
  // is resolved once. Default: stat().
  virtual std::optional<FileStat> stat_for_read(const std::string& path) { return stat(path); }
  // Return the bytes of the file at `path`.
  virtual util::Result<std::string> read_file(const std::string& path) = 0;
  // Read the file at `path` into the front of `buffer` and return the byte count; `buffer`
  // may be longer than that afterwards (it is reused across calls to avoid allocating and
  // zero-filling). `size_hint` is the size stat reported.
  virtual util::Result<size_t>
  read_into(const std::string& path, int64_t size_hint, std::string& buffer) {
    (void)size_hint;
    CCREX_ASSIGN_OR_RETURN(std::string content, read_file(path));
    buffer = std::move(content);
    return buffer.size();
  }
  // Return the entries of the directory `path` (without "." and "..").
  virtual util::Result<std::vector<DirEntry>> list_dir(const std::string& path) = 0;
  // Return `path` with every symlink resolved (realpath(3)).
  virtual util::Result<std::string> real_path(const std::string& path) = 0;
};

// The real disk. stat_for_read() opens a regular file and keeps it open (one per thread)
// until the next stat_for_read() on that thread or the read_into() of that path, whichever
// comes first; the read then uses the open file, whose fstat is the stat returned.
class RealFileSystem final : public FileSystem {
public:
  std::optional<FileStat> stat(const std::string& path) override;
  std::optional<FileStat> stat_for_read(const std::string& path) override;
  util::Result<std::string> read_file(const std::string& path) override;
  util::Result<size_t>
  read_into(const std::string& path, int64_t size_hint, std::string& buffer) override;
  util::Result<std::vector<DirEntry>> list_dir(const std::string& path) override;
  util::Result<std::string> real_path(const std::string& path) override;
};

// An in-memory tree of absolute paths with files, directories and symlinks, for tests.
// Every mutation bumps the touched node's mtime (and its parent directory's), like a disk.
// Counters record how often the scanner read files and listed directories.
class MemoryFileSystem final : public FileSystem {
public:
  // Create (or overwrite) a file, creating parent directories.
  void add_file(const std::string& path, std::string content);
  // Create a directory and its parents.
  void add_dir(const std::string& path);
  // Create a symlink at `path` pointing to `target` (absolute, or relative to its dir).
  void add_symlink(const std::string& path, const std::string& target);
  // Remove a file, symlink or (recursively) directory.
  void remove(const std::string& path);
  // Make `path` unreadable (read_file fails) while it still exists.
  void set_unreadable(const std::string& path);

  std::optional<FileStat> stat(const std::string& path) override;
  util::Result<std::string> read_file(const std::string& path) override;
  util::Result<std::vector<DirEntry>> list_dir(const std::string& path) override;
  util::Result<std::string> real_path(const std::string& path) override;

  int reads() const { return m_reads.load(); }
  int listings() const { return m_listings.load(); }
  int stats() const { return m_stats.load(); }

private:
  struct Node {
    FileType type = FileType::directory;
    std::string content;
    std::string link_target; // non-empty for symlinks
    bool unreadable = false;
    uint64_t ino = 0;
    int64_t mtime_ns = 0;
  };

  // Resolve `path` (absolute) through symlinks into a canonical key, or nullopt.
  std::optional<std::string> resolve(const std::string& path, int depth = 0) const;
  Node& make_node(const std::string& path, FileType type);
  void touch_parent(const std::string& path);

  std::map<std::string, Node> m_nodes; // canonical absolute path -> node ("/" is the root)
  uint64_t m_next_ino = 1;
  int64_t m_clock = 1;
  std::atomic<int> m_reads{0};
  std::atomic<int> m_listings{0};
  std::atomic<int> m_stats{0};
};

} // namespace ccrex::depscan
