#pragma once

// PackedScanRecord: a ScanRecord as the scan cache keeps it, in one byte buffer.
//
// A record lists every path its scan stat'ed, hundreds for a source that includes the
// standard library, nearly all below the same few directories. Held as separate strings
// with their stats (and the result's files again beside them) a record cost about 200 KiB,
// and an agent keeps one per compile it has seen. Packed, the observed paths are sorted and
// each is stored as the length it shares with the previous one plus the rest; stats are
// variable-length integers (change times relative to each other); a result file that is
// also an observed path with the same stat is stored as that path's index; the names looked
// up in each directory are one string per directory. A stat is stored as its differences
// from the previous path's (neighbours in path order mostly share device, mtime and install
// time). Several times smaller (the unit test checks at least five times for a typical list
// of standard headers, and ten for one installed at once).
//
// Reading it back costs a few string operations per path, small beside the stat(2) that a
// validity check makes of each one anyway. A check walks the observed paths in place
// (for_each_observed); only a record that needs updating is unpacked whole.
//
// Thread safety: immutable after construction; any number of readers.

#include "depscan/scan_cache.h"

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ccrex::depscan {

class PackedScanRecord {
public:
  explicit PackedScanRecord(const ScanRecord& record);

  // The record as it was given, except that `observed` comes in path order.
  ScanRecord unpack() const;

  // The files of the scan (ScanRecord::result).
  ScannedFiles result() const;

  // Call `visit(index, path, stat)` for each observed path in path order (index counts from
  // 0, as in unpack().observed) until it returns false. Returns whether every path was
  // visited.
  template <typename Visit>
  bool for_each_observed(Visit&& visit) const {
    size_t pos = 0;
    std::string path;
    std::optional<FileStat> st;
    FileStat base;
    for (size_t i = 0; i < m_observed; ++i) {
      read_observed(pos, path, st, base);
      if (!visit(i, std::as_const(path), std::as_const(st))) {
        return false;
      }
    }
    return true;
  }

  // The names looked up in directory `dir` and the listing they were answered from;
  // nullopt when the scan looked up nothing there.
  std::optional<ScanRecord::DirLookups> lookups_in(std::string_view dir) const;

  // Bytes this record holds in memory (the listings it shares with the cache not counted).
  size_t bytes() const;

  size_t observed_count() const { return m_observed; }

private:
  // Decode the observed entry at `pos` (after the one in `path`/`st`, `base` the last stat
  // decoded) and advance `pos`.
  void
  read_observed(size_t& pos, std::string& path, std::optional<FileStat>& st, FileStat& base) const;
  static std::optional<FileStat>
  get_observed_stat(const std::string& in, size_t& pos, FileStat& base);

  struct Lookup {
    std::string dir;
    std::shared_ptr<const DirListing> listing;
    std::string names; // each as a length and its bytes
  };

  std::string m_data; // observed entries, then the result
  size_t m_observed = 0;
  size_t m_result_at = 0; // offset of the result in m_data
  std::vector<Lookup> m_lookups;
};

} // namespace ccrex::depscan
