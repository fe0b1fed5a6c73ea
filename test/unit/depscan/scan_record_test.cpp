// Reuse of whole scans (ScanRecord): what keeps a record valid, what must invalidate it,
// and the stats a scan reports for its files.

#include "depscan/scan_cache.h"
#include "depscan/scanner.h"

#include <gtest/gtest.h>

namespace ccrex::depscan {
namespace {

class RecordTestProber final : public BuiltinProber {
public:
  ScanResultOr<std::vector<std::string>>
  builtin_dirs(const std::string&, Language, const std::vector<std::string>&) override {
    return std::vector<std::string>{};
  }
};

using Files = std::vector<std::string>;

class ScanRecordTest : public ::testing::Test {
protected:
  ScanResult scan(const std::vector<std::string>& args) {
    Scanner scanner(fs, cache, prober);
    auto r = scanner.scan({"cc", args, "/w", {}});
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().to_string());
    return r ? std::move(*r) : ScanResult{};
  }
  int64_t hits() const { return cache.stats().result_hits; }

  MemoryFileSystem fs;
  ScanCache cache;
  RecordTestProber prober;
};

TEST_F(ScanRecordTest, StatsAreParallelToFilesColdAndWarm) {
  fs.add_file("/w/a.c", "#include \"b.h\"\n#include <c.h>\n");
  fs.add_file("/w/b.h", "int b;\n");
  fs.add_file("/w/i/c.h", "int c;;\n");
  for (int round = 0; round < 2; ++round) {
    const ScanResult r = scan({"-Ii", "a.c"});
    ASSERT_EQ(r.files, (Files{"a.c", "b.h", "i/c.h"}));
    ASSERT_EQ(r.stats.size(), r.files.size());
    for (size_t i = 0; i < r.files.size(); ++i) {
      EXPECT_EQ(r.stats[i], *fs.stat("/w/" + r.files[i])) << r.files[i];
    }
  }
  EXPECT_EQ(hits(), 1);
}

TEST_F(ScanRecordTest, UnrelatedNewFileNextToTheSourceKeepsTheRecord) {
  fs.add_file("/w/a.c", "#include \"b.h\"\n#include <c.h>\n#include <missing.h>\n");
  fs.add_file("/w/b.h", "");
  fs.add_file("/w/i/c.h", "");
  const std::vector<std::string> args{"-Ii", "-Ij", "a.c"};
  fs.add_dir("/w/j");
  const Files expected{"a.c", "b.h", "i/c.h"};
  EXPECT_EQ(scan(args).files, expected);

  // A pure hit: stats only.
  int stats = fs.stats();
  int listings = fs.listings();
  EXPECT_EQ(scan(args).files, expected);
  EXPECT_EQ(hits(), 1);
  const int hit_stats = fs.stats() - stats;
  EXPECT_EQ(fs.listings(), listings);

  // The compile writes its object next to the source: /w changes stat.
  fs.add_file("/w/a.o", "object");
  stats = fs.stats();
  listings = fs.listings();
  EXPECT_EQ(scan(args).files, expected);
  EXPECT_EQ(hits(), 2);
  EXPECT_EQ(cache.stats().dirs_rechecked, 1);
  EXPECT_EQ(cache.stats().records_refreshed, 1);
  EXPECT_EQ(fs.listings() - listings, 1); // /w listed again, once
  EXPECT_EQ(fs.stats() - stats, hit_stats);

  // The refreshed record is stored: the next check is stats only again.
  stats = fs.stats();
  listings = fs.listings();
  EXPECT_EQ(scan(args).files, expected);
  EXPECT_EQ(hits(), 3);
  EXPECT_EQ(cache.stats().dirs_rechecked, 1);
  EXPECT_EQ(fs.listings(), listings);
  EXPECT_EQ(fs.stats() - stats, hit_stats);

  // Unrelated files in a search directory (listed for a failed lookup) are fine too.
  fs.add_file("/w/j/unrelated.h", "");
  fs.add_file("/w/i/other.h", "");
  EXPECT_EQ(scan(args).files, expected);
  EXPECT_EQ(hits(), 4);
  EXPECT_EQ(cache.stats().dirs_rechecked, 3);
}

TEST_F(ScanRecordTest, ChangedDirectoryWithoutLookupsNeedsNoRecheck) {
  // Angle includes do not search the includer's directory: /w is only stat'ed.
  fs.add_file("/w/a.c", "#include <c.h>\n");
  fs.add_file("/w/i/c.h", "");
  const std::vector<std::string> args{"-Ii", "a.c"};
  const Files expected{"a.c", "i/c.h"};
  EXPECT_EQ(scan(args).files, expected);
  int stats = fs.stats();
  EXPECT_EQ(scan(args).files, expected);
  const int hit_stats = fs.stats() - stats;
  for (int round = 0; round < 3; ++round) {
    fs.add_file("/w/a" + std::to_string(round) + ".o", "object");
    stats = fs.stats();
    const int listings = fs.listings();
    EXPECT_EQ(scan(args).files, expected);
    EXPECT_EQ(fs.stats() - stats, hit_stats);
    EXPECT_EQ(fs.listings(), listings);
  }
  EXPECT_EQ(hits(), 4);
  EXPECT_EQ(cache.stats().dirs_rechecked, 0);
  EXPECT_EQ(cache.stats().records_refreshed, 0); // nothing to store again either
  // A replaced search directory is another scan.
  fs.remove("/w/i/c.h");
  fs.remove("/w/i");
  fs.add_file("/w/i/c.h", "");
  EXPECT_EQ(scan(args).files, expected);
  EXPECT_EQ(hits(), 4);
}

TEST_F(ScanRecordTest, NewHeaderShadowingALaterSearchDirIsSeen) {
  fs.add_file("/w/a.c", "#include <x.h>\n");
  fs.add_file("/w/late/x.h", "");
  fs.add_dir("/w/early");
  const std::vector<std::string> args{"-Iearly", "-Ilate", "a.c"};
  EXPECT_EQ(scan(args).files, (Files{"a.c", "late/x.h"}));
  EXPECT_EQ(scan(args).files, (Files{"a.c", "late/x.h"}));
  EXPECT_EQ(hits(), 1);
  fs.add_file("/w/early/x.h", "");
  const ScanResult r = scan(args);
  EXPECT_EQ(r.files, (Files{"a.c", "early/x.h"}));
  EXPECT_EQ(r.stats.back(), *fs.stat("/w/early/x.h"));
  EXPECT_EQ(hits(), 1);
}

TEST_F(ScanRecordTest, NewHeaderNextToTheIncluderShadowsTheChain) {
  fs.add_file("/w/a.c", "#include \"x.h\"\n");
  fs.add_file("/w/i/x.h", "");
  const std::vector<std::string> args{"-Ii", "a.c"};
  EXPECT_EQ(scan(args).files, (Files{"a.c", "i/x.h"}));
  fs.add_file("/w/x.h", "");
  EXPECT_EQ(scan(args).files, (Files{"a.c", "x.h"}));
  EXPECT_EQ(hits(), 0);
}

TEST_F(ScanRecordTest, NewSubdirectoryShadowingALaterOneIsSeen) {
  fs.add_file("/w/a.c", "#include <sys/t.h>\n");
  fs.add_file("/w/late/sys/t.h", "");
  fs.add_dir("/w/early");
  const std::vector<std::string> args{"-Iearly", "-Ilate", "a.c"};
  EXPECT_EQ(scan(args).files, (Files{"a.c", "late/sys/t.h"}));
  // A new early/sys changes the answer for "sys" (scanned again, same files); a t.h in it
  // changes the files.
  fs.add_dir("/w/early/sys");
  EXPECT_EQ(scan(args).files, (Files{"a.c", "late/sys/t.h"}));
  EXPECT_EQ(hits(), 0);
  fs.add_file("/w/early/sys/t.h", "");
  EXPECT_EQ(scan(args).files, (Files{"a.c", "early/sys/t.h"}));
  EXPECT_EQ(hits(), 0);
}

TEST_F(ScanRecordTest, RemovedHeaderIsSeen) {
  fs.add_file("/w/a.c", "#include <x.h>\n");
  fs.add_file("/w/early/x.h", "");
  fs.add_file("/w/late/x.h", "");
  const std::vector<std::string> args{"-Iearly", "-Ilate", "a.c"};
  EXPECT_EQ(scan(args).files, (Files{"a.c", "early/x.h"}));
  fs.remove("/w/early/x.h");
  EXPECT_EQ(scan(args).files, (Files{"a.c", "late/x.h"}));
  fs.remove("/w/late/x.h");
  EXPECT_EQ(scan(args).files, (Files{"a.c"}));
  EXPECT_EQ(hits(), 0);
}

TEST_F(ScanRecordTest, ModifiedHeaderIsSeen) {
  fs.add_file("/w/a.c", "#include \"b.h\"\n");
  fs.add_file("/w/b.h", "");
  fs.add_file("/w/c.h", "");
  EXPECT_EQ(scan({"a.c"}).files, (Files{"a.c", "b.h"}));
  fs.add_file("/w/b.h", "#include \"c.h\"\n");
  const ScanResult r = scan({"a.c"});
  EXPECT_EQ(r.files, (Files{"a.c", "b.h", "c.h"}));
  EXPECT_EQ(r.stats[1], *fs.stat("/w/b.h"));
  EXPECT_EQ(hits(), 0);
}

TEST_F(ScanRecordTest, SearchDirReplacedByAFileIsSeen) {
  fs.add_file("/w/a.c", "#include <x.h>\n");
  fs.add_file("/w/i/x.h", "");
  const std::vector<std::string> args{"-Ii", "a.c"};
  EXPECT_EQ(scan(args).files, (Files{"a.c", "i/x.h"}));
  fs.remove("/w/i");
  fs.add_file("/w/i", "not a directory");
  EXPECT_EQ(scan(args).files, (Files{"a.c"}));
  EXPECT_EQ(hits(), 0);
}

TEST_F(ScanRecordTest, SubdirectoryReplacedByAFileIsSeen) {
  fs.add_file("/w/a.c", "#include <sys/t.h>\n");
  fs.add_file("/w/early/sys/t.h", "");
  fs.add_file("/w/late/sys/t.h", "");
  const std::vector<std::string> args{"-Iearly", "-Ilate", "a.c"};
  EXPECT_EQ(scan(args).files, (Files{"a.c", "early/sys/t.h"}));
  fs.remove("/w/early/sys");
  fs.add_file("/w/early/sys", "");
  EXPECT_EQ(scan(args).files, (Files{"a.c", "late/sys/t.h"}));
  EXPECT_EQ(hits(), 0);
}

TEST_F(ScanRecordTest, HeaderReplacedByADirectoryIsSeen) {
  fs.add_file("/w/a.c", "#include <x.h>\n");
  fs.add_file("/w/early/x.h", "");
  fs.add_file("/w/late/x.h", "");
  const std::vector<std::string> args{"-Iearly", "-Ilate", "a.c"};
  EXPECT_EQ(scan(args).files, (Files{"a.c", "early/x.h"}));
  fs.remove("/w/early/x.h");
  fs.add_dir("/w/early/x.h");
  EXPECT_EQ(scan(args).files, (Files{"a.c", "late/x.h"}));
  EXPECT_EQ(hits(), 0);
}

TEST_F(ScanRecordTest, SymlinkRetargetedIsSeen) {
  fs.add_file("/w/a.c", "#include <x.h>\n");
  fs.add_file("/w/one.h", "");
  fs.add_file("/w/two.h", "#include \"a.c\"\n");
  fs.add_symlink("/w/i/x.h", "/w/one.h");
  const std::vector<std::string> args{"-Ii", "a.c"};
  EXPECT_EQ(scan(args).files, (Files{"a.c", "i/x.h"}));
  fs.remove("/w/i/x.h");
  fs.add_symlink("/w/i/x.h", "/w/two.h");
  const ScanResult r = scan(args);
  EXPECT_EQ(r.files, (Files{"a.c", "i/x.h"}));
  EXPECT_EQ(r.stats[1], *fs.stat("/w/two.h"));
  EXPECT_EQ(hits(), 0);
}

TEST_F(ScanRecordTest, MissingSearchDirAppearingIsSeen) {
  fs.add_file("/w/a.c", "#include <x.h>\n");
  fs.add_file("/w/late/x.h", "");
  const std::vector<std::string> args{"-Iearly", "-Ilate", "a.c"};
  EXPECT_EQ(scan(args).files, (Files{"a.c", "late/x.h"}));
  fs.add_file("/w/early/x.h", "");
  EXPECT_EQ(scan(args).files, (Files{"a.c", "early/x.h"}));
  EXPECT_EQ(hits(), 0);
}

} // namespace
} // namespace ccrex::depscan
