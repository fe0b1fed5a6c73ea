#include "reapi/digest.h"
#include "server/tree_cache.h"
#include "util/file.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

namespace ccrex::server {
namespace {

namespace v2 = reapi::v2;

class TreeCacheTest : public ::testing::Test {
protected:
  void SetUp() override {
    auto s = BlobStore::open(m_dir.path() + "/store", int64_t{1} << 30);
    ASSERT_TRUE(s) << s.error().message();
    m_store = std::move(s).value();
  }

  v2::Digest put(const std::string& data) {
    EXPECT_TRUE(m_store->put_computed(data));
    return reapi::digest_of(data);
  }

  // Add `dir` to m_tree and return its digest.
  v2::Digest add(const v2::Directory& dir) {
    const std::string data = dir.SerializeAsString();
    const auto d = reapi::digest_of(data);
    m_tree.directories[d.hash()] = dir;
    return d;
  }

  // A directory of `n` files (one executable) and a subdirectory holding one file.
  v2::Digest library(int n) {
    v2::Directory sub;
    auto* deep = sub.add_files();
    deep->set_name("deep");
    *deep->mutable_digest() = put("deep\n");
    v2::Directory dir;
    for (int i = 0; i < n; ++i) {
      auto* f = dir.add_files();
      f->set_name("f" + std::to_string(1000 + i));
      *f->mutable_digest() = put("file " + std::to_string(i) + "\n");
      f->set_is_executable(i == 0);
    }
    auto* node = dir.add_directories();
    node->set_name("sub");
    *node->mutable_digest() = add(sub);
    return add(dir);
  }

  TreeCache cache(int64_t max_bytes = int64_t{1} << 30) {
    return {*m_store, {.dir = m_dir.path() + "/trees", .max_bytes = max_bytes}};
  }

  util::Result<std::optional<std::string>> find(TreeCache& c, const v2::Digest& d) {
    SubtreeSizes sizes;
    std::vector<v2::Digest> missing;
    return c.find_or_build(m_tree, d, sizes, StagingOptions{}, missing);
  }

  util::TempDir m_dir{"ccrex-tree-cache-"};
  std::unique_ptr<BlobStore> m_store;
  InputTree m_tree;
};

TEST_F(TreeCacheTest, SizesCountEveryFileBelow) {
  const auto d = library(3);
  SubtreeSizes sizes;
  const auto s = subtree_size(m_tree, d, sizes);
  EXPECT_EQ(s.files, 4);
  EXPECT_EQ(s.bytes, 3 * 7 + 5);
}

TEST_F(TreeCacheTest, ALargeSubtreeIsBuiltTheSecondTimeReadOnly) {
  TreeCache c = cache();
  const auto d = library(70);
  auto first = find(c, d);
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_FALSE(first->has_value()) << "seen once: staged as a copy";
  auto second = find(c, d);
  ASSERT_TRUE(second && second->has_value());
  const std::string& path = **second;
  auto content = util::read_file(path + "/f1005");
  ASSERT_TRUE(content);
  EXPECT_EQ(*content, "file 5\n");
  EXPECT_EQ(*util::read_file(path + "/sub/deep"), "deep\n");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0555U);
  ASSERT_EQ(::stat((path + "/sub").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0555U);
  ASSERT_EQ(::stat((path + "/f1001").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0444U);
  EXPECT_EQ(st.st_nlink, 1U) << "a private copy, not a link into the store";
  ASSERT_EQ(::stat((path + "/f1000").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0555U);
  auto third = find(c, d);
  ASSERT_TRUE(third && third->has_value());
  EXPECT_EQ(**third, path);
  EXPECT_GT(c.bytes(), 0);
}

TEST_F(TreeCacheTest, SmallSubtreesAreNeverCached) {
  TreeCache c = cache();
  const auto d = library(3);
  for (int i = 0; i < 3; ++i) {
    auto r = find(c, d);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->has_value());
  }
}

TEST_F(TreeCacheTest, TheCapStopsBuilding) {
  TreeCache c = cache(100);
  const auto d = library(70);
  for (int i = 0; i < 3; ++i) {
    auto r = find(c, d);
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->has_value());
  }
  EXPECT_EQ(c.bytes(), 0);
}

TEST_F(TreeCacheTest, AMissingBlobFailsAndLeavesNothing) {
  TreeCache c = cache();
  v2::Directory dir;
  for (int i = 0; i < 70; ++i) {
    auto* f = dir.add_files();
    f->set_name("f" + std::to_string(1000 + i));
    *f->mutable_digest() = i == 69 ? reapi::digest_of("never uploaded") : put(std::to_string(i));
  }
  const auto d = add(dir);
  ASSERT_TRUE(find(c, d));
  SubtreeSizes sizes;
  std::vector<v2::Digest> missing;
  auto r = c.find_or_build(m_tree, d, sizes, StagingOptions{}, missing);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), util::ErrorCode::failed_precondition);
  ASSERT_EQ(missing.size(), 1U);
  std::error_code ec;
  EXPECT_TRUE(std::filesystem::is_empty(m_dir.path() + "/trees", ec)) << "no partial tree left";
  EXPECT_EQ(c.bytes(), 0);
}

} // namespace
} // namespace ccrex::server
