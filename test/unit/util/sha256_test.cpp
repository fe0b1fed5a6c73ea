#include "util/file.h"
#include "util/sha256.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <string>

namespace ccrex::util {
namespace {

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256_hex(""), k_empty_sha256);
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, IncrementalEqualsOneShot) {
  Sha256 h;
  h.update("a");
  h.update("bc");
  EXPECT_EQ(h.finish(), sha256_hex("abc"));
}

TEST(Sha256, FileDigestMatchesContent) {
  TempDir dir;
  const std::string path = dir.path() + "/blob";
  std::string data(200000, 'x');
  data[12345] = 'y';
  ASSERT_TRUE(write_file_atomic(path, data));
  const auto d = digest_file(path);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->hash, sha256_hex(data));
  EXPECT_EQ(d->size, 200000);
  EXPECT_EQ(*d, digest_of(data));
  EXPECT_EQ(digest_file(dir.path() + "/missing").error().code(), ErrorCode::not_found);
}

TEST(Sha256, FileDigestRefusesFifosAndDevicesAtOnce) {
  TempDir dir;
  const std::string fifo = dir.path() + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // Neither may block (no writer ever opens the FIFO) or run forever (/dev/zero).
  EXPECT_EQ(digest_file(fifo).error().code(), ErrorCode::failed_precondition);
  EXPECT_EQ(digest_file("/dev/zero").error().code(), ErrorCode::failed_precondition);
}

TEST(Sha256, HexValidation) {
  EXPECT_TRUE(is_valid_sha256_hex(k_empty_sha256));
  EXPECT_FALSE(
      is_valid_sha256_hex("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"));
  EXPECT_FALSE(is_valid_sha256_hex("abc"));
  EXPECT_FALSE(is_valid_sha256_hex(std::string(64, 'g')));
}

} // namespace
} // namespace ccrex::util
