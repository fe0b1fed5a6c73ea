// Counters shared by several agents through one cache directory: every agent's compiles
// count once, any agent shows the total, and zeroing through one zeroes them all.
#include "agent/stats.h"
#include "util/file.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

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

} // namespace
} // namespace ccrex::agent
