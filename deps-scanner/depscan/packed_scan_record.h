#pragma once

// PackedScanRecord: a ScanRecord as the scan cache keeps it, in a few byte strings.
//
// A record lists every path its scan stat'ed, hundreds for a source that includes the
// standard library, nearly all below the same few directories. Held as separate strings
// with their stats (and the result's files again beside them) a record cost about 200 KiB,
// and an agent keeps one per compile it has seen. Packed, the observed paths are sorted and
// each is stored as the length it shares with the previous one plus the rest; stats are
// variable-length integers (change times relative to each other); a result file that is
// also an observed path with the same stat is stored as that path's index; the names looked
// up in a directory are sorted and stored one after the other. A stat is stored as its differences
// from the previous path's (neighbours in path order mostly share device, mtime and install
// time). Several times smaller (the unit test checks at least five times for a typical list
// of standard headers, and ten for one installed at once).
//
// The observed paths and the looked-up names are cut into runs, each stored once in a
// RunPool shared by the records of one cache (run_pool.h): most records of one project see
// the same standard-library directories with the same stats and look up the same names in
// them, so they hold the same runs. A run is a stretch of paths of one directory, ending
// where the directory changes or where a path's hash says so (about one path in 32): the
// cut points depend on the paths alone, so a header more or less in one record changes
// only the run it falls in, and every other run is still shared. Each run starts afresh
// (its first path whole, its first stat absolute) so that it reads the same in any record.
// The result stays in the record's own buffer: its files are mostly indexes of observed
// paths.
//
// Reading it back costs a few string operations per path, small beside the stat(2) that a
// validity check makes of each one anyway. A check walks the observed paths in place
// (for_each_observed); only a record that needs updating is unpacked whole.
//
// Thread safety: immutable after construction; any number of readers. Records sharing a
// pool may be built and destroyed on any threads (the pool locks).

#include "depscan/run_pool.h"
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
  // Pack `record`, its runs held in `pool` (a pool of its own when null).
  explicit PackedScanRecord(const ScanRecord& record, std::shared_ptr<RunPool> pool = nullptr);
  ~PackedScanRecord();
  PackedScanRecord(const PackedScanRecord&) = delete;
  PackedScanRecord& operator=(const PackedScanRecord&) = delete;

  // The record as it was given, except that `observed` comes in path order and the names
  // looked up in each directory in their own order.
  ScanRecord unpack() const;

  // The files of the scan (ScanRecord::result).
  ScannedFiles result() const;

  // Call `visit(index, path, stat)` for each observed path in path order (index counts from
  // 0, as in unpack().observed) until it returns false. Returns whether every path was
  // visited.
  template <typename Visit>
  bool for_each_observed(Visit&& visit) const {
    size_t index = 0;
    std::string path;
    std::optional<FileStat> st;
    for (size_t r = 0; r < m_observed_runs; ++r) {
      const std::string_view run = m_runs[r]->bytes();
      size_t pos = 0;
      FileStat base;
      path.clear();
      while (pos < run.size()) {
        read_observed(run, pos, path, st, base);
        if (!visit(index++, std::as_const(path), std::as_const(st))) {
          return false;
        }
      }
    }
    return true;
  }

  // The names looked up in directory `dir` and the listing they were answered from;
  // nullopt when the scan looked up nothing there.
  std::optional<ScanRecord::DirLookups> lookups_in(std::string_view dir) const;

  // Bytes this record holds alone: its result, its references to runs and to listings.
  size_t own_bytes() const;
  // own_bytes() plus what its runs would take from the pool if it were their only user: an
  // upper bound of what keeping the record costs, however many runs it shares.
  size_t bytes() const;

  size_t observed_count() const { return m_observed; }
  size_t run_count() const { return m_runs.size(); }

private:
  // Decode the observed entry at `pos` of `run` (after the one in `path`/`st`, `base` the
  // last stat decoded) and advance `pos`.
  static void read_observed(std::string_view run,
                            size_t& pos,
                            std::string& path,
                            std::optional<FileStat>& st,
                            FileStat& base);

  struct Lookup {
    const RunPool::Run* dir;
    std::shared_ptr<const DirListing> listing;
    uint32_t first_run; // the runs of its names: m_runs[first_run, first_run + runs)
    uint32_t runs;
  };

  std::shared_ptr<RunPool> m_pool;
  // The observed runs (the first m_observed_runs), then per lookup its directory and the
  // runs of its names.
  std::vector<const RunPool::Run*> m_runs;
  size_t m_observed_runs = 0;
  size_t m_observed = 0;
  std::string m_result;
  std::vector<Lookup> m_lookups;
};

} // namespace ccrex::depscan
