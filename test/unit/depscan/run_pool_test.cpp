// Runs shared between whole-scan records: one copy per distinct run, freed with its last
// user, and records that still see every change inside a shared run.

#include "depscan/packed_scan_record.h"
#include "depscan/run_pool.h"
#include "depscan/scan_cache.h"
#include "depscan/scanner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>

namespace ccrex::depscan {
namespace {

FileStat installed_stat(uint64_t ino) {
  FileStat st;
  st.dev = 2049;
  st.ino = ino;
  st.size = static_cast<int64_t>(1000 + ino % 977);
  st.mtime_ns = 1'700'000'000'123'456'789;
  st.ctime_ns = 1'712'345'678'987'654'321;
  return st;
}

// What a source of a project observes of the standard library: headers in a few
// directories, two search directories that lack most names, and its own files.
ScanRecord project_record(int source, int skip = -1) {
  ScanRecord r;
  const char* dirs[] = {"/usr/include/c++/12",
                        "/usr/include/c++/12/bits",
                        "/usr/include/c++/12/ext",
                        "/usr/include/x86_64-linux-gnu/c++/12/bits",
                        "/usr/include"};
  int n = 0;
  for (const char* dir : dirs) {
    for (int i = 0; i < 80; ++i, ++n) {
      if (n == skip) {
        continue;
      }
      const std::string path = std::string(dir) + "/header_" + std::to_string(i) + ".h";
      r.observed.emplace_back(path, installed_stat(5'000'000 + n));
      r.result.files.push_back(path);
      r.result.stats.push_back(installed_stat(5'000'000 + n));
    }
  }
  const std::string own = "/w/src/unit_" + std::to_string(source) + ".cpp";
  FileStat st = installed_stat(77 + source);
  st.mtime_ns = 1'733'000'000'000'000'000 + source;
  r.observed.emplace_back(own, st);
  r.result.files.insert(r.result.files.begin(), own);
  r.result.stats.insert(r.result.stats.begin(), st);
  r.observed.emplace_back("/w/src/missing.h", std::nullopt);
  auto listing = std::make_shared<DirListing>();
  for (const char* dir : {"/w/include", "/usr/local/include"}) {
    ScanRecord::DirLookups seen{listing, {}};
    for (int i = 0; i < 150; ++i) {
      seen.names.push_back("header_" + std::to_string(i) + ".h");
    }
    r.lookups.emplace(dir, std::move(seen));
  }
  return r;
}

std::vector<std::pair<std::string, std::optional<FileStat>>> in_path_order(ScanRecord r) {
  std::sort(r.observed.begin(), r.observed.end(), [](const auto& a, const auto& b) {
    return a.first < b.first;
  });
  return r.observed;
}

TEST(RunPool, SameBytesAreStoredOnceAndFreedWithTheirLastUser) {
  RunPool pool;
  std::vector<const RunPool::Run*> a;
  std::vector<const RunPool::Run*> b;
  pool.acquire(std::vector<std::string>{"first run", "second run"}, a);
  pool.acquire(std::vector<std::string>{"second run", "third run"}, b);
  EXPECT_EQ(pool.size(), 3U);
  EXPECT_EQ(a[1], b[0]);
  EXPECT_EQ(b[0]->bytes(), "second run");
  pool.release(a);
  EXPECT_EQ(pool.size(), 2U); // "second run" is still used by b
  EXPECT_EQ(b[0]->bytes(), "second run");
  pool.release(b);
  EXPECT_EQ(pool.size(), 0U);
}

TEST(RunPool, ManyRecordsOverTheSameRunsCostLittleMoreThanOne) {
  auto pool = std::make_shared<RunPool>();
  const PackedScanRecord alone(project_record(0));
  std::vector<std::unique_ptr<PackedScanRecord>> records;
  size_t own = 0;
  for (int i = 0; i < 100; ++i) {
    records.push_back(std::make_unique<PackedScanRecord>(project_record(i), pool));
    own += records.back()->own_bytes();
  }
  // Each record adds its own small part (mostly its result: an index per file; its run
  // references; its source's run); without sharing, a hundred records would cost a hundred
  // times one.
  EXPECT_LT(pool->bytes() + own, 12 * alone.bytes()) << pool->bytes() << " + " << own;
  for (int i : {0, 57, 99}) {
    const ScanRecord back = records[i]->unpack();
    EXPECT_EQ(back.observed, in_path_order(project_record(i))) << i;
    EXPECT_EQ(back.result.files, project_record(i).result.files) << i;
    EXPECT_EQ(back.lookups.at("/w/include").names.size(), 150U);
  }
}

TEST(RunPool, OneHeaderMoreOrLessChangesOnlyTheRunItFallsIn) {
  auto pool = std::make_shared<RunPool>();
  const PackedScanRecord full(project_record(0), pool);
  const size_t runs = pool->size();
  ASSERT_GT(runs, 10U);
  for (int skip = 0; skip < 400; skip += 7) { // every directory, cut points among them
    const PackedScanRecord without(project_record(0, skip), pool);
    EXPECT_LE(pool->size(), runs + 1) << skip;
  }
  EXPECT_EQ(pool->size(), runs); // each one's own run went with it
}

TEST(RunPool, RecordsReleaseTheirRunsWhenDestroyed) {
  auto pool = std::make_shared<RunPool>();
  auto first = std::make_unique<PackedScanRecord>(project_record(1), pool);
  const size_t one = pool->size();
  auto second = std::make_unique<PackedScanRecord>(project_record(2), pool);
  EXPECT_LE(pool->size(), one + 2); // only the other source's run is new
  first.reset();
  EXPECT_GE(pool->size(), one - 1);
  EXPECT_EQ(second->unpack().observed, in_path_order(project_record(2)));
  second.reset();
  EXPECT_EQ(pool->size(), 0U);
}

class NoBuiltinsForRuns final : public BuiltinProber {
public:
  ScanResultOr<std::vector<std::string>>
  builtin_dirs(const std::string&, Language, const std::vector<std::string>&) override {
    return std::vector<std::string>{};
  }
};

// Sources that all include the same headers of a system directory.
class SharedRunsTest : public ::testing::Test {
protected:
  SharedRunsTest() {
    std::string text;
    for (int h = 0; h < 60; ++h) {
      const std::string name = "std_header_" + std::to_string(h) + ".h";
      fs.add_file("/sys/include/" + name, "int v" + std::to_string(h) + ";\n");
      text += "#include <" + name + ">\n";
    }
    for (int i = 0; i < 8; ++i) {
      fs.add_file("/w/s" + std::to_string(i) + ".c", text);
    }
  }
  // Scan source `i`; return whether its whole-scan record answered.
  bool scan_hits(ScanCache& cache, int i) {
    const int64_t before = cache.stats().result_hits;
    Scanner scanner(fs, cache, prober);
    auto r = scanner.scan(
        {"cc", {"-c", "s" + std::to_string(i) + ".c", "-isystem", "/sys/include"}, "/w", {}});
    EXPECT_TRUE(r.has_value());
    EXPECT_EQ(r->files.size(), 61U);
    return cache.stats().result_hits == before + 1;
  }
  MemoryFileSystem fs;
  NoBuiltinsForRuns prober;
};

TEST_F(SharedRunsTest, RecordsShareTheirRunsInTheCache) {
  ScanCache cache;
  EXPECT_FALSE(scan_hits(cache, 0));
  const size_t one = cache.shared_run_bytes();
  for (int i = 1; i < 8; ++i) {
    EXPECT_FALSE(scan_hits(cache, i));
  }
  EXPECT_EQ(cache.record_count(), 8U);
  // Charged as if each held its runs alone; really stored once.
  EXPECT_LT(cache.shared_run_bytes(), 2 * one);
  EXPECT_GT(cache.record_bytes(), 4 * cache.shared_run_bytes());
  for (int i = 0; i < 8; ++i) {
    EXPECT_TRUE(scan_hits(cache, i)) << i;
  }
}

TEST_F(SharedRunsTest, ChangedStatInsideASharedRunInvalidatesEveryRecord) {
  ScanCache cache;
  for (int i = 0; i < 4; ++i) {
    EXPECT_FALSE(scan_hits(cache, i));
  }
  fs.add_file("/sys/include/std_header_31.h", "int changed;\n");
  for (int i = 0; i < 4; ++i) {
    EXPECT_FALSE(scan_hits(cache, i)) << i;
  }
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(scan_hits(cache, i)) << i;
  }
}

TEST_F(SharedRunsTest, DroppedRecordsFreeTheRunsNoOtherRecordUses) {
  ScanCache alone;
  EXPECT_FALSE(scan_hits(alone, 0));
  // A bound that holds one record: each new source drops the one before.
  ScanCache cache(alone.record_bytes() + alone.record_bytes() / 2);
  for (int i = 0; i < 8; ++i) {
    EXPECT_FALSE(scan_hits(cache, i));
    EXPECT_EQ(cache.record_count(), 1U);
    // The dropped record's own runs (its source) went with it: the pool does not grow.
    EXPECT_LE(cache.shared_run_count(), alone.shared_run_count()) << i;
    EXPECT_LE(cache.shared_run_bytes(), alone.shared_run_bytes()) << i;
  }
  cache.clear();
  EXPECT_EQ(cache.shared_run_count(), 0U);
}

} // namespace
} // namespace ccrex::depscan
