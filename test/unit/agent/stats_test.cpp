// Counters shared by several agents through one cache directory: every agent's compiles
// count once, any agent shows the total, and zeroing through one zeroes them all.
#include "agent/stats.h"
#include "util/file.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <thread>
#include <vector>

namespace ccrex::agent {
namespace {

TEST(Stats, TwoAgentsOnOneDirectoryAddUp) {
  util::TempDir dir;
  const std::string path = util::join_path(dir.path(), "stats");
  Stats first(path);
  Stats second(path); // another agent process on the same cache directory
  first.add("hit_local");
  second.add("hit_local", 2);
  second.add("miss_executed");
  first.add("miss_executed");
  const std::map<std::string, int64_t> want{{"hit_local", 3}, {"miss_executed", 2}};
  EXPECT_EQ(first.snapshot(), want);
  EXPECT_EQ(second.snapshot(), want);
  // A third agent started later sees the same total.
  EXPECT_EQ(Stats(path).snapshot(), want);
}

TEST(Stats, ConcurrentUpdatesLoseNothing) {
  util::TempDir dir;
  const std::string path = util::join_path(dir.path(), "stats");
  std::vector<std::unique_ptr<Stats>> agents;
  for (int i = 0; i < 4; ++i) {
    agents.push_back(std::make_unique<Stats>(path));
  }
  std::vector<std::thread> threads;
  for (auto& a : agents) {
    threads.emplace_back([&a] {
      for (int i = 0; i < 50; ++i) {
        a->add("hit_local");
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(Stats(path).snapshot().at("hit_local"), 200);
}

TEST(Stats, ZeroThroughOneAgentZeroesAll) {
  util::TempDir dir;
  const std::string path = util::join_path(dir.path(), "stats");
  Stats first(path);
  Stats second(path);
  first.add("hit_local", 5);
  second.add("local_linking", 2);
  second.zero();
  EXPECT_TRUE(first.snapshot().empty());
  first.add("hit_local");
  EXPECT_EQ(second.snapshot(), (std::map<std::string, int64_t>{{"hit_local", 1}}));
}

TEST(Stats, UpdatesWriteOverTheFileInPlace) {
  util::TempDir dir;
  const std::string path = util::join_path(dir.path(), "stats");
  const auto inode = [&path] {
    struct stat st {};
    EXPECT_EQ(::stat(path.c_str(), &st), 0);
    return st.st_ino;
  };
  Stats stats(path);
  stats.add("hit_local", 9);
  const auto first = inode();
  stats.add("hit_local");        // "9" becomes "10": longer
  stats.add("compile_error");    // a line before it
  stats.add("miss_executed", 3); // and one after it
  EXPECT_EQ(inode(), first) << "an update made a new file";
  EXPECT_EQ(util::read_file(path).value_or(""), "compile_error 1\nhit_local 10\nmiss_executed 3\n");
  // zero() shortens the text: a new, empty file, and counting starts again.
  stats.zero();
  stats.add("hit_local");
  EXPECT_EQ(util::read_file(path).value_or(""), "hit_local 1\n");
}

TEST(Stats, UnreadableLinesAreIgnored) {
  EXPECT_EQ(Stats::parse("hit_local 4\ngarbage\n 7\nmiss_executed x\nhit_local 1\n"),
            (std::map<std::string, int64_t>{{"hit_local", 5}}));
}

TEST(Stats, CountsWaitInMemoryWhileTheFileCannotBeWritten) {
  util::TempDir dir;
  const std::string path = util::join_path(dir.path(), "stats");
  Stats stats(path);
  // A directory where the file belongs: no rename can replace it, even for root.
  ASSERT_TRUE(util::make_dirs(path));
  stats.add("hit_local", 2);
  EXPECT_EQ(stats.snapshot().at("hit_local"), 2);
  ASSERT_EQ(::rmdir(path.c_str()), 0);
  stats.add("hit_local");
  EXPECT_EQ(Stats(path).snapshot().at("hit_local"), 3);
}

TEST(Stats, TheDirectoryIsMadeOnFirstUseAndAgainWhenRemoved) {
  util::TempDir dir;
  const std::string cache = util::join_path(dir.path(), "cache/sub");
  const std::string path = util::join_path(cache, "stats");
  Stats stats(path);
  stats.add("hit_local");
  EXPECT_EQ(Stats(path).snapshot().at("hit_local"), 1);
  ASSERT_EQ(::unlink(path.c_str()), 0);
  ASSERT_EQ(::rmdir(cache.c_str()), 0);
  stats.add("hit_local"); // what the removed file held is gone with it
  struct stat st {};
  EXPECT_TRUE(::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode));
  EXPECT_EQ(Stats(path).snapshot(), (std::map<std::string, int64_t>{{"hit_local", 1}}));
}

TEST(Stats, TornOrGarbledFileIsCountedOver) {
  util::TempDir dir;
  const std::string path = util::join_path(dir.path(), "stats");
  // A file cut in the middle of a line: what can be read counts, the rest is written over.
  ASSERT_TRUE(util::write_file_atomic(path, "hit_local 12\nmiss_exec"));
  Stats stats(path);
  stats.add("miss_executed");
  EXPECT_EQ(util::read_file(path).value_or(""), "hit_local 12\nmiss_executed 1\n");
  // More text that is not counters than the counters take: a new file without it.
  ASSERT_TRUE(util::write_file_atomic(path, "hit_local 2\n" + std::string(200, 'x') + "\n"));
  stats.add("hit_local");
  EXPECT_EQ(util::read_file(path).value_or(""), "hit_local 3\n");
  EXPECT_EQ(stats.snapshot(), (std::map<std::string, int64_t>{{"hit_local", 3}}));
}

TEST(Stats, AnUpdateWaitingForTheLockWritesTheFileZeroLeft) {
  util::TempDir dir;
  const std::string path = util::join_path(dir.path(), "stats");
  ASSERT_TRUE(util::write_file_atomic(path, "hit_local 7\n"));
  // Another agent holds the lock of the current file ...
  const int old_fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(old_fd, 0);
  ASSERT_EQ(::flock(old_fd, LOCK_EX), 0);
  Stats stats(path);
  std::thread waiting([&stats] { stats.add("miss_executed"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // ... and zeroes the counters: an empty file renamed over the one being waited for.
  ASSERT_TRUE(util::write_file_atomic(path, ""));
  ::close(old_fd);
  waiting.join();
  EXPECT_EQ(util::read_file(path).value_or(""), "miss_executed 1\n");
}

TEST(Stats, WhatIsNotARegularFileIsReplaced) {
  util::TempDir dir;
  const std::string path = util::join_path(dir.path(), "stats");
  Stats stats(path);
  const auto is_regular_file = [&path] {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
  };
  // A FIFO with no writer: opening or reading it must not hang the compile.
  ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
  stats.add("hit_local");
  ASSERT_TRUE(is_regular_file());
  EXPECT_EQ(util::read_file(path).value_or(""), "hit_local 1\n");
  // A symlink (here to nothing) is not followed.
  ASSERT_EQ(::unlink(path.c_str()), 0);
  ASSERT_EQ(::symlink("nowhere", path.c_str()), 0);
  stats.add("hit_local");
  ASSERT_TRUE(is_regular_file());
  EXPECT_EQ(util::read_file(path).value_or(""), "hit_local 1\n");
  EXPECT_FALSE(util::path_exists(util::join_path(dir.path(), "nowhere")));
}

} // namespace
} // namespace ccrex::agent

namespace ccrex::agent {
namespace {

TEST(StatsFormat, SharesInCcachesShape) {
  const std::map<std::string, int64_t> c = {{"hit_local", 6},
                                            {"hit_remote", 2},
                                            {"miss_executed", 2},
                                            {"local_no_compile", 3},
                                            {"fallback_remote_unavailable", 1}};
  const std::string text = Stats::format(c, {"/cache", 3 << 20, int64_t{1} << 30});
  EXPECT_NE(text.find("Cacheable calls:                   10 / 14 (71.43%)\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("  Hits:                            8 / 10 (80.00%)\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("  Misses:                          2 / 10 (20.00%)\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("Run locally (unsupported):         3 / 14 (21.43%)\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("  no_compile:" + std::string(21, ' ') + " 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Fell back to local compile:        1 / 14 (7.14%)\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("Cache directory:                   /cache\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  Store size:                      3.0 MiB / 1.0 GiB (0.29%)\n"),
            std::string::npos)
      << text;
}

TEST(StatsFormat, NothingCountedYet) {
  const std::string text = Stats::format({});
  EXPECT_NE(text.find("Cacheable calls:                   0\n"), std::string::npos) << text;
  EXPECT_EQ(text.find('%'), std::string::npos) << text;
  EXPECT_EQ(text.find("Store size"), std::string::npos) << text;
}

TEST(StatsFormat, RawListsEveryCoreCounterEvenAtZero) {
  const std::string raw = Stats::format_raw({{"local_no_compile", 2}});
  for (const char* name : {"hit_local",
                           "hit_remote",
                           "miss_executed",
                           "miss_cache_only",
                           "compile_error",
                           "cancelled",
                           "depend_compiler"}) {
    EXPECT_NE(raw.find(std::string(name) + "\t0\n"), std::string::npos) << name << "\n" << raw;
  }
  EXPECT_NE(raw.find("local_no_compile\t2\n"), std::string::npos) << raw;
}

TEST(StatsFormat, StoreShowsItsCompressionRatio) {
  StoreSummary store{"/cache", 1 << 20, int64_t{1} << 30, 4 << 20, 1};
  const std::string text = Stats::format({}, store);
  EXPECT_NE(text.find("  Store size:                      1.0 MiB / 1.0 GiB (0.10%)\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  Uncompressed:                    4.0 MiB\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  Compression ratio:               4.00 x (75.0% saved)\n"),
            std::string::npos)
      << text;
  const std::string raw = Stats::format_raw({}, store);
  EXPECT_NE(raw.find("store_bytes_on_disk\t1048576\n"), std::string::npos) << raw;
  EXPECT_NE(raw.find("store_bytes_uncompressed\t4194304\n"), std::string::npos) << raw;
  const std::string x = Stats::format_compression(store);
  EXPECT_NE(x.find("Compression ratio:                 4.00 x (75.0% saved)\n"), std::string::npos)
      << x;
  EXPECT_NE(x.find("zstd level 1"), std::string::npos) << x;
  store.compression = 0;
  EXPECT_NE(Stats::format_compression(store).find("compression off"), std::string::npos);
  // Unknown store: no figures at all.
  EXPECT_EQ(Stats::format_raw({}).find("store_bytes"), std::string::npos);
  EXPECT_NE(Stats::format_compression({}).find("not available"), std::string::npos);
}

} // namespace
} // namespace ccrex::agent
