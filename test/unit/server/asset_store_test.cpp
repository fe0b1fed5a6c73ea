#include "reapi/digest.h"
#include "server/asset_store.h"
#include "util/file.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace ccrex::server {
namespace {

namespace asset = reapi::asset;
using Qualifiers = google::protobuf::RepeatedPtrField<asset::Qualifier>;

Qualifiers qualifiers(const std::vector<std::pair<std::string, std::string>>& pairs) {
  Qualifiers out;
  for (const auto& [name, value] : pairs) {
    auto* q = out.Add();
    q->set_name(name);
    q->set_value(value);
  }
  return out;
}

AssetKey key(const std::string& uri,
             const std::vector<std::pair<std::string, std::string>>& pairs = {},
             AssetKind kind = AssetKind::blob,
             const std::string& instance = "") {
  auto k = make_asset_key(instance, kind, uri, qualifiers(pairs));
  EXPECT_TRUE(k) << (k ? "" : k.error().message());
  return k ? *k : AssetKey{};
}

AssetRecord record(const std::string& content, int64_t pushed_at_ms = 1000) {
  AssetRecord r;
  r.target = reapi::digest_of(content);
  r.pushed_at_ms = pushed_at_ms;
  return r;
}

std::unique_ptr<AssetStore> open_asset_store(const std::string& dir, size_t max = 100) {
  auto s = AssetStore::open(dir, max);
  EXPECT_TRUE(s) << (s ? "" : s.error().message());
  return s ? std::move(s).value() : nullptr;
}

TEST(AssetKey, QualifierOrderDoesNotMatter) {
  const auto a = key("urn:x", {{"a", "1"}, {"b", "2"}});
  const auto b = key("urn:x", {{"b", "2"}, {"a", "1"}});
  EXPECT_EQ(a, b);
  EXPECT_EQ(a.canonical(), b.canonical());
}

TEST(AssetKey, EveryPartMatters) {
  const auto base = key("urn:x", {{"a", "1"}});
  for (const auto& other : {key("urn:y", {{"a", "1"}}),
                            key("urn:x", {{"a", "2"}}),
                            key("urn:x", {{"b", "1"}}),
                            key("urn:x"),
                            key("urn:x", {{"a", "1"}}, AssetKind::directory),
                            key("urn:x", {{"a", "1"}}, AssetKind::blob, "instance")}) {
    EXPECT_NE(base.canonical(), other.canonical());
  }
  // Length prefixes keep field boundaries apart.
  EXPECT_NE(key("urn:x", {{"ab", "c"}}).canonical(), key("urn:x", {{"a", "bc"}}).canonical());
}

TEST(AssetKey, RepeatedOrEmptyNamesAreRefused) {
  EXPECT_FALSE(make_asset_key("", AssetKind::blob, "urn:x", qualifiers({{"a", "1"}, {"a", "2"}})));
  EXPECT_FALSE(make_asset_key("", AssetKind::blob, "urn:x", qualifiers({{"", "1"}})));
}

TEST(AssetStore, PutGetRemove) {
  util::TempDir dir;
  auto store = open_asset_store(dir.path());
  const auto k = key("urn:x", {{"a", "1"}});
  EXPECT_FALSE(store->get(k));
  AssetRecord r = record("content", 1234);
  r.expires_at_ms = 99999;
  r.referenced_blobs.push_back(reapi::digest_of("ref"));
  r.referenced_directories.push_back(reapi::digest_of("dir"));
  ASSERT_TRUE(store->put(k, r));
  const auto got = store->get(key("urn:x", {{"a", "1"}}));
  ASSERT_TRUE(got);
  EXPECT_EQ(got->target.hash(), r.target.hash());
  EXPECT_EQ(got->pushed_at_ms, 1234);
  EXPECT_EQ(got->expires_at_ms, 99999);
  ASSERT_EQ(got->referenced_blobs.size(), 1U);
  EXPECT_EQ(got->referenced_blobs[0].hash(), reapi::digest_of("ref").hash());
  ASSERT_EQ(got->referenced_directories.size(), 1U);
  EXPECT_FALSE(store->get(key("urn:x", {{"a", "1"}}, AssetKind::directory)));
  EXPECT_EQ(store->size(), 1U);
  store->remove(k);
  EXPECT_FALSE(store->get(k));
  EXPECT_EQ(store->size(), 0U);
}

TEST(AssetStore, ReplacingKeepsOneMapping) {
  util::TempDir dir;
  auto store = open_asset_store(dir.path());
  const auto k = key("urn:x");
  ASSERT_TRUE(store->put(k, record("old", 1)));
  ASSERT_TRUE(store->put(k, record("new", 2)));
  EXPECT_EQ(store->size(), 1U);
  EXPECT_EQ(store->get(k)->target.hash(), reapi::digest_of("new").hash());
}

TEST(AssetStore, SurvivesReopening) {
  util::TempDir dir;
  {
    auto store = open_asset_store(dir.path());
    ASSERT_TRUE(store->put(key("urn:a"), record("a")));
    ASSERT_TRUE(store->put(key("urn:b", {{"q", "v"}}), record("b")));
  }
  auto store = open_asset_store(dir.path());
  EXPECT_EQ(store->size(), 2U);
  ASSERT_TRUE(store->get(key("urn:b", {{"q", "v"}})));
  EXPECT_EQ(store->get(key("urn:a"))->target.hash(), reapi::digest_of("a").hash());
}

TEST(AssetStore, DropsTheOldestBeyondTheCap) {
  util::TempDir dir;
  auto store = open_asset_store(dir.path(), 2);
  ASSERT_TRUE(store->put(key("urn:1"), record("1", 100)));
  ASSERT_TRUE(store->put(key("urn:2"), record("2", 200)));
  ASSERT_TRUE(store->put(key("urn:3"), record("3", 300)));
  EXPECT_EQ(store->size(), 2U);
  EXPECT_FALSE(store->get(key("urn:1")));
  EXPECT_TRUE(store->get(key("urn:2")));
  EXPECT_TRUE(store->get(key("urn:3")));
  // The dropped mapping's file is gone too: reopening finds two.
  store.reset();
  EXPECT_EQ(open_asset_store(dir.path(), 2)->size(), 2U);
}

TEST(AssetStore, DamagedOrMisplacedRecordsReadAsAbsent) {
  util::TempDir dir;
  auto store = open_asset_store(dir.path());
  const auto a = key("urn:a");
  const auto b = key("urn:b");
  ASSERT_TRUE(store->put(a, record("a")));
  ASSERT_TRUE(store->put(b, record("b")));
  std::string path_a;
  std::string path_b;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir.path() + "/assets")) {
    if (!e.is_regular_file()) {
      continue;
    }
    const auto text = util::read_file(e.path().string());
    ASSERT_TRUE(text);
    (text->find("urn:a") != std::string::npos ? path_a : path_b) = e.path().string();
  }
  ASSERT_FALSE(path_a.empty());
  ASSERT_FALSE(path_b.empty());
  // b's record in a's place: it names another key, so a reads as absent, not as b.
  ASSERT_TRUE(util::copy_file_atomic(path_b, path_a, 0600));
  EXPECT_FALSE(store->get(a));
  ASSERT_TRUE(util::write_file_atomic(path_b, "ccrex-asset-1 blob 12\n\xff\xff garbage", 0600));
  EXPECT_FALSE(store->get(b));
  ASSERT_TRUE(util::write_file_atomic(path_b, "", 0600));
  EXPECT_FALSE(store->get(b));
}

} // namespace
} // namespace ccrex::server
