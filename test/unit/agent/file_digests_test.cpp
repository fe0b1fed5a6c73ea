#include "agent/file_digests.h"
#include "util/file.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <chrono>
#include <string>
#include <thread>

namespace ccrex::agent {
namespace {

FileIdentity identity_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  const auto ns = [](const timespec& t) { return int64_t{t.tv_sec} * 1000000000 + t.tv_nsec; };
  return {static_cast<uint64_t>(st.st_dev),
          static_cast<uint64_t>(st.st_ino),
          st.st_size,
          ns(st.st_mtim),
          ns(st.st_ctim)};
}

class FileDigestsTest : public ::testing::Test {
protected:
  util::TempDir dir;
  std::string path = dir.path() + "/h.h";
  FileDigests digests{0}; // no racy window: entries are kept at once
};

TEST_F(FileDigestsTest, AKnownIdentityIsAnsweredWithoutTouchingTheDisk) {
  ASSERT_TRUE(util::write_file_atomic(path, "int x;\n"));
  const FileIdentity id = identity_of(path);
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
  FileIdentity other = id;
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
  const FileIdentity now = identity_of(path);
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
  const FileIdentity now = identity_of(path);
  auto exec = digests.get(path, &now);
  ASSERT_TRUE(exec);
  EXPECT_TRUE(exec->is_executable);
}

} // namespace
} // namespace ccrex::agent
