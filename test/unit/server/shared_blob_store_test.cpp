// Two processes' BlobStores on one directory (agents sharing a cache directory): each
// finds what the other added, evicts without breaking the other, and a store opened while
// another process uses the directory leaves that one's temporary files alone.
#include "server/blob_store.h"
#include "util/file.h"

#include <gtest/gtest.h>

namespace ccrex::server {
namespace {

std::unique_ptr<BlobStore>
open_shared_store(const std::string& dir, int64_t max, bool sole = true) {
  auto s = BlobStore::open(dir, max, sole);
  EXPECT_TRUE(s) << s.error().to_string();
  return std::move(s).value();
}

TEST(SharedBlobStore, EachFindsWhatTheOtherAdded) {
  util::TempDir dir;
  auto first = open_shared_store(dir.path(), 1 << 20);
  auto second = open_shared_store(dir.path(), 1 << 20, false);
  auto d = first->put_computed("added by the first");
  ASSERT_TRUE(d);
  EXPECT_TRUE(second->contains(*d));
  auto got = second->read(*d);
  ASSERT_TRUE(got) << got.error().to_string();
  EXPECT_EQ(*got, "added by the first");
  EXPECT_TRUE(second->find_missing({*d}).empty());
  EXPECT_EQ(second->total_size(), d->size); // indexed, so its own cap counts it
  const util::Digest absent = util::digest_of("never stored");
  EXPECT_FALSE(second->contains(absent));
}

TEST(SharedBlobStore, ABlobTheOtherEvictedIsAbsentNeverWrong) {
  util::TempDir dir;
  auto small = open_shared_store(dir.path(), 100);
  auto other = open_shared_store(dir.path(), 1 << 20, false);
  auto kept = other->put_computed(std::string(60, 'a'));
  ASSERT_TRUE(kept);
  ASSERT_TRUE(small->contains(*kept));
  // The small store evicts the older blob to make room for a new one.
  ASSERT_TRUE(small->put_computed(std::string(60, 'b')));
  ASSERT_FALSE(small->contains(*kept));
  // The other store still lists it, but reading reports it gone and forgets it.
  auto read = other->read(*kept);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code(), util::ErrorCode::not_found);
  EXPECT_FALSE(other->contains(*kept));
  // Stored again, it is complete for both.
  ASSERT_TRUE(other->put(*kept, std::string(60, 'a')));
  auto again = small->read(*kept);
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_EQ(*again, std::string(60, 'a'));
}

TEST(SharedBlobStore, OnlyASoleUserRemovesTemporaryFiles) {
  util::TempDir dir;
  { auto created = open_shared_store(dir.path(), 1 << 20); }
  const std::string in_progress = util::join_path(dir.path(), "tmp/12345-0");
  ASSERT_TRUE(util::write_file_atomic(in_progress, "another agent's upload"));
  auto sharing = open_shared_store(dir.path(), 1 << 20, false);
  EXPECT_FALSE(sharing->sole_user());
  EXPECT_TRUE(util::path_exists(in_progress));
  auto alone = open_shared_store(dir.path(), 1 << 20, true);
  EXPECT_TRUE(alone->sole_user());
  EXPECT_FALSE(util::path_exists(in_progress));
}

} // namespace
} // namespace ccrex::server
