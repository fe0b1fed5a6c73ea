#include "reapi/digest.h"
#include "reapi/known_blobs.h"

#include <gtest/gtest.h>

#include <string>

namespace ccrex::reapi {
namespace {

TEST(KnownBlobs, RemembersWhatWasAddedByHashAndSize) {
  KnownBlobs known;
  const auto a = digest_of("a");
  const auto b = digest_of("b");
  EXPECT_FALSE(known.contains(a));
  known.add(a);
  EXPECT_TRUE(known.contains(a));
  EXPECT_FALSE(known.contains(b));
  EXPECT_EQ(known.size(), 1U);
  // The same hash with another size is another blob.
  auto other_size = a;
  other_size.set_size_bytes(a.size_bytes() + 1);
  EXPECT_FALSE(known.contains(other_size));
  // So is a hash that differs in its first character only.
  auto other_hash = a;
  other_hash.mutable_hash()->front() = a.hash().front() == '0' ? '1' : '0';
  EXPECT_FALSE(known.contains(other_hash));
}

TEST(KnownBlobs, TheEmptyBlobIsAlwaysKnownAndNothingMalformedEver) {
  KnownBlobs known;
  EXPECT_TRUE(known.contains(digest_of("")));
  v2::Digest upper = digest_of("x");
  for (auto& c : *upper.mutable_hash()) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  v2::Digest short_hash = digest_of("x");
  short_hash.mutable_hash()->resize(40);
  v2::Digest negative = digest_of("x");
  negative.set_size_bytes(-1);
  v2::Digest not_hex = digest_of("x");
  not_hex.mutable_hash()->back() = 'g';
  for (const auto& d : {upper, short_hash, negative, not_hex}) {
    known.add(d);
    EXPECT_FALSE(known.contains(d)) << d.hash() << "/" << d.size_bytes();
  }
  EXPECT_EQ(known.size(), 0U);
  EXPECT_FALSE(known.contains(digest_of("x")));
}

TEST(KnownBlobs, ForgottenBlobsAreAskedAboutAgain) {
  KnownBlobs known;
  const auto a = digest_of("a");
  const auto b = digest_of("b");
  known.add(a);
  known.add(b);
  known.forget({a});
  EXPECT_FALSE(known.contains(a));
  EXPECT_TRUE(known.contains(b));
  known.add(a);
  EXPECT_TRUE(known.contains(a));
}

TEST(KnownBlobs, PastItsCapacityTheOldestIsDroppedFirst) {
  KnownBlobs known(3);
  for (const char* content : {"1", "2", "3", "4"}) {
    known.add(digest_of(content));
  }
  EXPECT_EQ(known.size(), 3U);
  EXPECT_FALSE(known.contains(digest_of("1")));
  EXPECT_TRUE(known.contains(digest_of("2")));
  EXPECT_TRUE(known.contains(digest_of("4")));

  KnownBlobs none(0);
  none.add(digest_of("1"));
  EXPECT_FALSE(none.contains(digest_of("1")));
}

} // namespace
} // namespace ccrex::reapi
