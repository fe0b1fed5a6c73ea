#include "agent/file_digests.h"
#include "util/file.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <chrono>
#include <string>
#include <thread>

namespace ccrex::agent {
namespace {

// The stat the scanner would hand over for `path`.
depscan::FileStat stat_identity_of(const std::string& path) {
  const auto st = depscan::RealFileSystem().stat(path);
  EXPECT_TRUE(st.has_value()) << path;
  return st.value_or(depscan::FileStat{});
}

class FileDigestsTest : public ::testing::Test {
protected:
  util::TempDir dir;
  std::string path = dir.path() + "/h.h";
  FileDigests digests{0}; // no racy window: entries are kept at once
};

TEST_F(FileDigestsTest, AKnownIdentityIsAnsweredWithoutTouchingTheDisk) {
  ASSERT_TRUE(util::write_file_atomic(path, "int x;\n"));
  const depscan::FileStat id = stat_identity_of(path);
  auto first = digests.get(path);
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(first->digest, util::digest_of("int x;\n"));
  // Gone from disk: only the cache can answer, and it does for the identity it holds.
  ASSERT_EQ(::unlink(path.c_str()), 0);
  auto again = digests.get(path, &id);
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(again->digest, first->digest);
  EXPECT_EQ(digests.known_hits(), 1);
  // Another identity is not trusted: the file is looked at, and it is gone.
  depscan::FileStat other = id;
  other.mtime_ns += 1;
  auto stale = digests.get(path, &other);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error().code(), util::ErrorCode::not_found);
  EXPECT_EQ(digests.known_hits(), 1);
}

TEST_F(FileDigestsTest, ChangedContentIsHashedAgain) {
  ASSERT_TRUE(util::write_file_atomic(path, "int x;\n"));
  ASSERT_TRUE(digests.get(path));
  ASSERT_TRUE(util::write_file_atomic(path, "int y = 2;\n"));
  const depscan::FileStat now = stat_identity_of(path);
  auto changed = digests.get(path, &now);
  ASSERT_TRUE(changed);
  EXPECT_EQ(changed->digest, util::digest_of("int y = 2;\n"));
  EXPECT_EQ(digests.known_hits(), 0);
}

TEST_F(FileDigestsTest, ChmodChangesTheIdentityAndTheExecutableBit) {
  ASSERT_TRUE(util::write_file_atomic(path, "#!/bin/sh\n", 0644));
  auto plain = digests.get(path);
  ASSERT_TRUE(plain);
  EXPECT_FALSE(plain->is_executable);
  // File times tick with the kernel clock (a few ms): let ctime move.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(::chmod(path.c_str(), 0755), 0);
  const depscan::FileStat now = stat_identity_of(path);
  auto exec = digests.get(path, &now);
  ASSERT_TRUE(exec);
  EXPECT_TRUE(exec->is_executable);
}

} // namespace
} // namespace ccrex::agent
