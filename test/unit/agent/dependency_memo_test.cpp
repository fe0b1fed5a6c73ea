#include "agent/dependency_memo.h"
#include "util/file.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>

namespace ccrex::agent {
namespace {

// A project on disk: src.c includes a computed header found in inc2 (after inc1).
class DependencyMemoTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_EQ(::mkdir((root() + "/inc1").c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((root() + "/inc2").c_str(), 0755), 0);
    write("inc2/user.h", "#define U 1\n");
    write("src.c", "#include USER_H\nint f(void) { return U; }\n");
    write("cc", "a compiler driver");
    m_config.cwd = root();
    m_config.source = "src.c";
    m_config.bracket_dirs = {"inc1", "inc2"};
  }

  const std::string& root() const { return m_dir.path(); }
  void write(const std::string& rel, const std::string& text) {
    std::ofstream(root() + "/" + rel) << text;
  }
  // What -M would have listed, stored under "key"; the stats when it was stored.
  std::optional<std::vector<depscan::FileStat>> store(DependencyMemo& memo) {
    const auto before = memo.snapshot(m_config);
    depscan::ScannedFiles listed;
    listed.files = {"src.c", "inc2/user.h"};
    return memo.store("key", before, m_config, root() + "/cc", listed);
  }

  util::TempDir m_dir;
  depscan::RealFileSystem m_fs;
  depscan::ScanCache m_cache;
  depscan::SearchConfig m_config;
};

TEST_F(DependencyMemoTest, AnUnchangedRepeatIsAnsweredWithTheListedFilesAndTheirStats) {
  DependencyMemo memo(m_fs, m_cache, 0);
  const auto stored = store(memo);
  ASSERT_TRUE(stored);
  const auto found = memo.find("key");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->files, (std::vector<std::string>{"src.c", "inc2/user.h"}));
  EXPECT_EQ(found->stats, *stored);
  EXPECT_FALSE(memo.find("other key"));
}

TEST_F(DependencyMemoTest, FilesChangedJustBeforeTheRunAreNotTrusted) {
  DependencyMemo memo(m_fs, m_cache, int64_t{60} * 1'000'000'000);
  EXPECT_FALSE(store(memo));
  EXPECT_FALSE(memo.find("key"));
}

TEST_F(DependencyMemoTest, AnEditedListedFileOrCompilerInvalidatesIt) {
  DependencyMemo memo(m_fs, m_cache, 0);
  ASSERT_TRUE(store(memo));
  write("inc2/user.h", "#define U 22\n");
  EXPECT_FALSE(memo.find("key"));
  ASSERT_TRUE(store(memo));
  write("cc", "another compiler driver");
  EXPECT_FALSE(memo.find("key"));
}

TEST_F(DependencyMemoTest, AHeaderCreatedEarlierInTheSearchPathInvalidatesIt) {
  DependencyMemo memo(m_fs, m_cache, 0);
  ASSERT_TRUE(store(memo));
  write("inc1/user.h", "#define U 3\n");
  EXPECT_FALSE(memo.find("key"));
}

TEST_F(DependencyMemoTest, UnrelatedFilesInSearchedDirectoriesLeaveItValid) {
  DependencyMemo memo(m_fs, m_cache, 0);
  ASSERT_TRUE(store(memo));
  write("src.o", "an object");
  write("inc1/other.h", "");
  EXPECT_TRUE(memo.find("key"));
}

TEST_F(DependencyMemoTest, AHeaderTestedByHasIncludeIsWatched) {
  write("src.c", "#if __has_include(\"opt.h\")\n#include \"opt.h\"\n#endif\n#include USER_H\n");
  DependencyMemo memo(m_fs, m_cache, 0);
  ASSERT_TRUE(store(memo));
  write("opt.h", "#define OPT 1\n");
  EXPECT_FALSE(memo.find("key"));
}

TEST_F(DependencyMemoTest, ListsThatCannotBeWatchedAreNotStored) {
  write("src.c", "#if __has_include(OPT_H)\n#endif\n#include USER_H\n");
  DependencyMemo memo(m_fs, m_cache, 0);
  EXPECT_FALSE(store(memo));
  write("src.c",
        "?"
        "?=include USER_H\n"); // a trigraph
  EXPECT_FALSE(store(memo));
}

TEST_F(DependencyMemoTest, KeysDifferForEveryPartOfTheRun) {
  const auto key = DependencyMemo::key_of({"gcc", "-M", "a.c"}, "/w", {"A=1"});
  EXPECT_EQ(key, DependencyMemo::key_of({"gcc", "-M", "a.c"}, "/w", {"A=1"}));
  EXPECT_NE(key, DependencyMemo::key_of({"gcc", "-M", "b.c"}, "/w", {"A=1"}));
  EXPECT_NE(key, DependencyMemo::key_of({"gcc", "-M", "a.c"}, "/v", {"A=1"}));
  EXPECT_NE(key, DependencyMemo::key_of({"gcc", "-M", "a.c"}, "/w", {"A=2"}));
  EXPECT_NE(key, DependencyMemo::key_of({"gcc", "-M", "a.c", "/w"}, "", {"A=1"}));
}

} // namespace
} // namespace ccrex::agent
