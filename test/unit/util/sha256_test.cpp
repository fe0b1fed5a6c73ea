#include "util/file.h"
#include "util/sha256.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <random>
#include <string>
#include <vector>

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

// Every length around the 64-byte block and the 8-byte length field, and larger inputs,
// fed in random pieces, against OpenSSL's EVP one-shot digest.
TEST(Sha256, AgreesWithEvpForAnyLengthAndSplit) {
  std::mt19937 rng(7);
  std::string data(300000, '\0');
  for (auto& c : data) {
    c = static_cast<char>(rng());
  }
  std::vector<size_t> lengths;
  for (size_t n = 0; n <= 200; ++n) {
    lengths.push_back(n);
  }
  lengths.insert(lengths.end(), {1023, 1024, 65535, 65536, 65537, 300000});
  for (const size_t n : lengths) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    ASSERT_EQ(EVP_Digest(data.data(), n, md.data(), &len, EVP_sha256(), nullptr), 1);
    std::string want;
    for (unsigned int i = 0; i < len; ++i) {
      static constexpr std::string_view k_digits = "0123456789abcdef";
      want += k_digits[md[i] >> 4];
      want += k_digits[md[i] & 0xf];
    }
    Sha256 h;
    for (size_t pos = 0; pos < n;) {
      const size_t piece = std::min<size_t>(n - pos, rng() % 200);
      h.update(std::string_view(data).substr(pos, piece));
      pos += piece;
    }
    EXPECT_EQ(h.finish(), want) << n << " bytes";
    EXPECT_EQ(sha256_hex(std::string_view(data).substr(0, n)), want) << n << " bytes";
  }
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
