#include "util/file.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <string>

namespace ccrex::util {
namespace {

TEST(File, AtomicWriteReplacesAndSetsMode) {
  TempDir dir;
  const std::string path = dir.path() + "/out.o";
  ASSERT_TRUE(write_file_atomic(path, "old"));
  ASSERT_TRUE(write_file_atomic(path, "new content", 0755));
  EXPECT_EQ(*read_file(path), "new content");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755U);
}

TEST(File, AtomicWriteIntoMissingDirectoryFailsCleanly) {
  TempDir dir;
  const auto st = write_file_atomic(dir.path() + "/no/such/dir/file", "x");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), ErrorCode::not_found);
}

TEST(File, NewFileRefusesToReplaceAndKeepsTheOldContent) {
  TempDir dir;
  const std::string path = dir.path() + "/out.o";
  ASSERT_TRUE(write_new_file(path, "first", 0640));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640U);
  const auto again = write_new_file(path, "second");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::already_exists);
  EXPECT_EQ(*read_file(path), "first");
}

TEST(File, ReadRegularFileKeepsToItsLimit) {
  TempDir dir;
  const std::string path = dir.path() + "/args.rsp";
  ASSERT_TRUE(write_file_atomic(path, "-c x.c"));
  EXPECT_EQ(*read_regular_file(path, 6), "-c x.c");
  EXPECT_EQ(read_regular_file(path, 5).error().code(), ErrorCode::resource_exhausted);
  EXPECT_EQ(read_regular_file(path + ".missing", 5).error().code(), ErrorCode::not_found);
}

TEST(File, ReadRegularFileRefusesDevicesDirectoriesAndFifos) {
  TempDir dir;
  // /dev/zero never ends and a FIFO without a writer would block a plain open(): both must
  // come back at once with an error.
  EXPECT_EQ(read_regular_file("/dev/zero", 1 << 20).error().code(), ErrorCode::failed_precondition);
  EXPECT_EQ(read_regular_file(dir.path(), 1 << 20).error().code(), ErrorCode::failed_precondition);
  const std::string fifo = dir.path() + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(read_regular_file(fifo, 1 << 20).error().code(), ErrorCode::failed_precondition);
}

TEST(File, MakeDirsAndRemoveAll) {
  TempDir dir;
  const std::string deep = dir.path() + "/a/b/c";
  ASSERT_TRUE(make_dirs(deep));
  ASSERT_TRUE(make_dirs(deep)); // idempotent
  ASSERT_TRUE(write_file_atomic(deep + "/f", "x"));
  ASSERT_TRUE(remove_all(dir.path() + "/a"));
  EXPECT_FALSE(path_exists(dir.path() + "/a"));
  EXPECT_TRUE(remove_all(dir.path() + "/a")); // missing is fine
}

TEST(File, PathHelpers) {
  EXPECT_EQ(dirname("/a/b/c.h"), "/a/b");
  EXPECT_EQ(dirname("c.h"), ".");
  EXPECT_EQ(dirname("/c.h"), "/");
  EXPECT_EQ(basename("/a/b/c.h"), "c.h");
  EXPECT_EQ(join_path("a/", "/b"), "a/b");
  EXPECT_EQ(join_path(".", "b"), "b");
  EXPECT_EQ(normalize_path("a/./b//../c"), "a/c");
  EXPECT_EQ(normalize_path("../x/../../y"), "../../y");
  EXPECT_EQ(normalize_path("/../a"), "/a");
  EXPECT_EQ(normalize_path("a/.."), ".");
  EXPECT_EQ(relative_path("/usr/lib/x", "/usr/bin"), "../lib/x");
  EXPECT_EQ(relative_path("/a/b", "/a/b"), ".");
  EXPECT_EQ(relative_path("/a/b/c", "/a"), "b/c");
  EXPECT_EQ(relative_path("/x", "/a/b"), "../../x");
  // Already normal paths come back as they are; anything else goes the long way.
  EXPECT_EQ(normalize_path("/usr/include/c++/12/vector"), "/usr/include/c++/12/vector");
  EXPECT_EQ(normalize_path("..a/b./.c"), "..a/b./.c");
  EXPECT_EQ(normalize_path("a"), "a");
  EXPECT_EQ(normalize_path("/"), "/");
  EXPECT_EQ(normalize_path("a/b/"), "a/b");
  EXPECT_EQ(normalize_path("//a"), "/a");
  EXPECT_EQ(normalize_path("a//b"), "a/b");
  EXPECT_EQ(normalize_path("a/."), "a");
  EXPECT_EQ(normalize_path("/a/b/.."), "/a");
  EXPECT_EQ(normalize_path("."), ".");
  EXPECT_EQ(normalize_path(""), ".");
}

TEST(File, SafeRelativePaths) {
  EXPECT_TRUE(is_safe_relative_path("out/a.o"));
  EXPECT_TRUE(is_safe_relative_path("a/../b"));
  EXPECT_FALSE(is_safe_relative_path("/etc/passwd"));
  EXPECT_FALSE(is_safe_relative_path("../a"));
  EXPECT_FALSE(is_safe_relative_path("a/../../b"));
  EXPECT_FALSE(is_safe_relative_path(""));
}

} // namespace
} // namespace ccrex::util
