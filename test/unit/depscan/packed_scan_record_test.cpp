// The packed form of whole-scan records, and the byte bound on the cache that holds them.

#include "depscan/packed_scan_record.h"
#include "depscan/scan_cache.h"
#include "depscan/scanner.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace ccrex::depscan {
namespace {

FileStat stat_of(uint64_t ino, int64_t mtime, FileType type = FileType::regular) {
  FileStat st;
  st.dev = 2049;
  st.ino = ino;
  st.size = static_cast<int64_t>(ino * 10);
  st.mtime_ns = mtime;
  st.ctime_ns = mtime - 5; // ctime before mtime: the delta is negative
  st.type = type;
  return st;
}

ScanRecord sample_record() {
  ScanRecord r;
  r.observed = {{"/usr/include/c++/12/vector", stat_of(7, 1'700'000'000'000'000'123)},
                {"/w/a.c", stat_of(1, 5)},
                {"/usr/include/c++/12/bits/stl_vector.h", stat_of(9, 1'700'000'000'000'000'999)},
                {"/w/include", stat_of(3, 6, FileType::directory)},
                {"/w/include/missing.h", std::nullopt},
                {"/usr/include/c++/12/bits/stl_algo.h", stat_of(8, 17)}};
  r.result.files = {"a.c", "/usr/include/c++/12/vector", "/usr/include/c++/12/bits/stl_algo.h"};
  // The first is not an observed path; the third's stat differs from the observed one.
  r.result.stats = {stat_of(1, 5), stat_of(7, 1'700'000'000'000'000'123), stat_of(8, 18)};
  r.result.facts.date_time = "a.c:3: __DATE__";
  r.result.facts.pch = "/w/include/x.h.gch";
  auto listing = std::make_shared<DirListing>();
  listing->entries.emplace("b.h", FileType::regular);
  r.lookups.emplace("/w/include",
                    ScanRecord::DirLookups{listing, {"vector", "bits/stl_vector.h", ""}});
  return r;
}

TEST(PackedScanRecord, UnpacksToTheSameRecordWithObservedInPathOrder) {
  const ScanRecord r = sample_record();
  const PackedScanRecord packed(r);
  const ScanRecord back = packed.unpack();
  auto expected = r.observed;
  std::sort(expected.begin(), expected.end(), [](const auto& a, const auto& b) {
    return a.first < b.first;
  });
  EXPECT_EQ(back.observed, expected);
  EXPECT_EQ(back.result.files, r.result.files);
  EXPECT_EQ(back.result.stats, r.result.stats);
  EXPECT_EQ(back.result.facts, r.result.facts);
  ASSERT_EQ(back.lookups.size(), 1U);
  const auto& seen = back.lookups.at("/w/include");
  EXPECT_EQ(seen.listing, r.lookups.at("/w/include").listing); // shared, not copied
  EXPECT_EQ(seen.names, (std::vector<std::string>{"", "bits/stl_vector.h", "vector"})); // sorted
  EXPECT_FALSE(packed.lookups_in("/w").has_value());
}

TEST(PackedScanRecord, VisitsObservedPathsInOrderAndStopsWhenAsked) {
  const PackedScanRecord packed(sample_record());
  std::vector<std::string> paths;
  EXPECT_TRUE(packed.for_each_observed([&](size_t i, const std::string& p, const auto&) {
    EXPECT_EQ(i, paths.size());
    paths.push_back(p);
    return true;
  }));
  EXPECT_TRUE(std::is_sorted(paths.begin(), paths.end()));
  EXPECT_EQ(paths.size(), packed.observed_count());
  size_t visited = 0;
  EXPECT_FALSE(packed.for_each_observed(
      [&](size_t, const std::string&, const auto&) { return ++visited < 2; }));
  EXPECT_EQ(visited, 2U);
}

TEST(PackedScanRecord, IsMuchSmallerThanTheRecord) {
  ScanRecord r;
  size_t plain = 0;
  for (int i = 0; i < 500; ++i) {
    const std::string path = "/usr/include/c++/12/bits/header_number_" + std::to_string(i) + ".h";
    r.observed.emplace_back(path, stat_of(1000 + i, 1'700'000'000'000'000'000 + i));
    r.result.files.push_back(path);
    r.result.stats.push_back(*r.observed.back().second);
    // Two strings with heap buffers and two stats, as the record held them.
    plain += 2 * (sizeof(std::string) + path.capacity() + 1) + sizeof(FileStat)
             + sizeof(std::optional<FileStat>);
  }
  const PackedScanRecord packed(r);
  EXPECT_LT(packed.bytes() * 5, plain);
  EXPECT_EQ(packed.result().files, r.result.files);
}

TEST(PackedScanRecord, HeadersInstalledTogetherCostAFewBytesOfStatEach) {
  // One package's headers: one device, one mtime (the package's), one install time, close
  // inode numbers. Each stat costs about as much as its size, not five full integers.
  ScanRecord r;
  size_t plain = 0;
  for (int i = 0; i < 500; ++i) {
    const std::string path = "/usr/include/c++/12/bits/header_number_" + std::to_string(i) + ".h";
    FileStat st = stat_of(3'000'000 + 2 * i, 1'700'000'000'123'456'789);
    st.ctime_ns = 1'712'345'678'987'654'321;
    r.observed.emplace_back(path, st);
    r.result.files.push_back(path);
    r.result.stats.push_back(st);
    plain += 2 * (sizeof(std::string) + path.capacity() + 1) + sizeof(FileStat)
             + sizeof(std::optional<FileStat>);
  }
  const PackedScanRecord packed(r);
  EXPECT_LT(packed.bytes() * 14, plain) << packed.bytes() << " of " << plain;
  auto expected = r.observed;
  std::sort(expected.begin(), expected.end(), [](const auto& x, const auto& y) {
    return x.first < y.first;
  });
  const ScanRecord back = packed.unpack();
  EXPECT_TRUE(back.observed == expected);
  EXPECT_TRUE(back.result.stats == r.result.stats);
}

class NoBuiltinDirs final : public BuiltinProber {
public:
  ScanResultOr<std::vector<std::string>>
  builtin_dirs(const std::string&, Language, const std::vector<std::string>&) override {
    return std::vector<std::string>{};
  }
};

// A cache whose whole-scan records may hold about two of the sources below.
class BoundedRecordsTest : public ::testing::Test {
protected:
  BoundedRecordsTest() {
    for (int i = 0; i < 6; ++i) {
      std::string text;
      for (int h = 0; h < 30; ++h) {
        text += "#include \"header_with_a_long_name_" + std::to_string(h) + ".h\"\n";
      }
      fs.add_file("/w/s" + std::to_string(i) + ".c", text);
    }
    for (int h = 0; h < 30; ++h) {
      fs.add_file("/w/header_with_a_long_name_" + std::to_string(h) + ".h", "");
    }
    ScanCache probe;
    scan(probe, 0);
    one_record = probe.record_bytes();
  }
  void scan(ScanCache& cache, int source) {
    Scanner scanner(fs, cache, prober);
    auto r = scanner.scan({"cc", {"-c", "s" + std::to_string(source) + ".c"}, "/w", {}});
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->files.size(), 31U);
  }
  MemoryFileSystem fs;
  NoBuiltinDirs prober;
  size_t one_record = 0;
};

TEST_F(BoundedRecordsTest, BoundHoldsAndTheLeastRecentlyUsedGoesFirst) {
  ASSERT_GT(one_record, 0U);
  ScanCache cache(one_record * 2 + one_record / 2);
  for (int i = 0; i < 6; ++i) {
    scan(cache, i);
    EXPECT_LE(cache.record_bytes(), one_record * 2 + one_record / 2);
  }
  EXPECT_EQ(cache.record_count(), 2U);
  const int64_t before = cache.stats().result_hits;
  scan(cache, 5); // kept
  scan(cache, 4); // kept
  EXPECT_EQ(cache.stats().result_hits, before + 2);
  scan(cache, 0); // dropped long ago: scanned again (and now kept, dropping 5)
  EXPECT_EQ(cache.stats().result_hits, before + 2);
  scan(cache, 4);
  EXPECT_EQ(cache.stats().result_hits, before + 3);
  scan(cache, 5);
  EXPECT_EQ(cache.stats().result_hits, before + 3);
}

TEST_F(BoundedRecordsTest, RecordInUseSurvivesAStreamOfNewOnes) {
  ScanCache cache(one_record * 2 + one_record / 2);
  scan(cache, 0);
  for (int i = 1; i < 6; ++i) {
    const int64_t before = cache.stats().result_hits;
    scan(cache, 0); // the warm source, used between every new one
    EXPECT_EQ(cache.stats().result_hits, before + 1) << i;
    scan(cache, i);
  }
  EXPECT_LE(cache.record_bytes(), one_record * 2 + one_record / 2);
}

TEST_F(BoundedRecordsTest, ChangedHeaderStillInvalidatesAPackedRecord) {
  ScanCache cache;
  scan(cache, 0);
  fs.add_file("/w/header_with_a_long_name_7.h", "int changed;\n");
  const int64_t before = cache.stats().result_hits;
  scan(cache, 0);
  EXPECT_EQ(cache.stats().result_hits, before);
  scan(cache, 0);
  EXPECT_EQ(cache.stats().result_hits, before + 1);
}

} // namespace
} // namespace ccrex::depscan
