#include "reapi/digest.h"
#include "server/action_cache.h"
#include "server/blob_store.h"
#include "util/file.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>

#include <ctime>
#include <thread>

namespace ccrex::server {
namespace {

std::unique_ptr<BlobStore> open_store(const std::string& dir, int64_t max = 1 << 20) {
  auto s = BlobStore::open(dir, max);
  EXPECT_TRUE(s) << (s ? "" : s.error().message());
  return s ? std::move(s).value() : nullptr;
}

std::string blob_path(const std::string& dir, const util::Digest& d) {
  return dir + "/cas/" + d.hash.substr(0, 2) + "/" + d.hash;
}

TEST(BlobStore, PutVerifiesContent) {
  util::TempDir dir;
  auto store = open_store(dir.path());
  const auto d = util::digest_of("payload");
  EXPECT_FALSE(store->contains(d));
  const auto wrong = store->put(util::digest_of("other"), "payload");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code(), util::ErrorCode::invalid_argument);
  EXPECT_FALSE(store->contains(util::digest_of("other")));
  ASSERT_TRUE(store->put(d, "payload"));
  EXPECT_TRUE(store->contains(d));
  EXPECT_EQ(*store->read(d), "payload");
  // Stored files are read-only so that hard links handed to actions cannot modify them.
  struct stat st {};
  ASSERT_EQ(::stat(blob_path(dir.path(), d).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0444U);
}

TEST(BlobStore, EmptyBlobAlwaysPresentButOnlyWithEmptyHash) {
  util::TempDir dir;
  auto store = open_store(dir.path());
  EXPECT_TRUE(store->contains(util::digest_of("")));
  EXPECT_EQ(*store->read(util::digest_of("")), "");
  EXPECT_FALSE(store->contains({util::digest_of("x").hash, 0}));
  EXPECT_FALSE(store->contains({std::string(util::k_empty_sha256), 3}));
}

TEST(BlobStore, WrongSizeWithRightHashIsAbsent) {
  util::TempDir dir;
  auto store = open_store(dir.path());
  ASSERT_TRUE(store->put(util::digest_of("abc"), "abc"));
  EXPECT_FALSE(store->contains({util::digest_of("abc").hash, 4}));
}

TEST(BlobStore, TempFileUploadIsVerifiedAndConsumed) {
  util::TempDir dir;
  auto store = open_store(dir.path());
  const std::string tmp = store->new_temp_path();
  ASSERT_TRUE(util::write_file_atomic(tmp, "streamed"));
  EXPECT_FALSE(store->put_temp_file(util::digest_of("different"), tmp));
  EXPECT_FALSE(util::path_exists(tmp));
  const std::string tmp2 = store->new_temp_path();
  ASSERT_TRUE(util::write_file_atomic(tmp2, "streamed"));
  ASSERT_TRUE(store->put_temp_file(util::digest_of("streamed"), tmp2));
  EXPECT_EQ(*store->read(util::digest_of("streamed")), "streamed");
}

TEST(BlobStore, PutFileComputesDigest) {
  util::TempDir dir;
  auto store = open_store(dir.path());
  const std::string out = dir.path() + "/output.o";
  ASSERT_TRUE(util::write_file_atomic(out, "object"));
  const auto d = store->put_file(out);
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, util::digest_of("object"));
  EXPECT_EQ(*store->read(*d), "object");
}

TEST(BlobStore, EvictsLeastRecentlyUsed) {
  util::TempDir dir;
  auto store = open_store(dir.path(), 1000);
  const std::string a(300, 'a');
  const std::string b(300, 'b');
  const std::string c(300, 'c');
  ASSERT_TRUE(store->put(util::digest_of(a), a));
  ASSERT_TRUE(store->put(util::digest_of(b), b));
  EXPECT_TRUE(store->contains(util::digest_of(a))); // a is now more recent than b
  ASSERT_TRUE(store->put(util::digest_of(c), c));
  const std::string d(300, 'd');
  ASSERT_TRUE(store->put(util::digest_of(d), d)); // 1200 > 1000: evict down to 900
  EXPECT_FALSE(store->contains(util::digest_of(b)));
  EXPECT_TRUE(store->contains(util::digest_of(a)));
  EXPECT_TRUE(store->contains(util::digest_of(d)));
  EXPECT_LE(store->total_size(), 1000);
  EXPECT_FALSE(util::path_exists(blob_path(dir.path(), util::digest_of(b))));
}

TEST(BlobStore, ReopenRebuildsIndexAndCleansDebris) {
  util::TempDir dir;
  const auto d = util::digest_of("persistent");
  {
    auto store = open_store(dir.path());
    ASSERT_TRUE(store->put(d, "persistent"));
    ASSERT_TRUE(store->put_action_result("", std::string(64, 'a'), "result"));
  }
  // Debris of a crash: a half-written temp file and a stray file in the CAS.
  ASSERT_TRUE(util::write_file_atomic(dir.path() + "/tmp/123-4", "half"));
  ASSERT_TRUE(util::make_dirs(dir.path() + "/cas/zz"));
  ASSERT_TRUE(util::write_file_atomic(dir.path() + "/cas/zz/garbage", "x"));
  auto store = open_store(dir.path());
  EXPECT_TRUE(store->contains(d));
  EXPECT_EQ(store->total_size(), d.size);
  EXPECT_EQ(*store->get_action_result("", std::string(64, 'a')), "result");
  EXPECT_FALSE(util::path_exists(dir.path() + "/tmp/123-4"));
  EXPECT_FALSE(util::path_exists(dir.path() + "/cas/zz/garbage"));
  EXPECT_TRUE(store->verify_all().empty());
}

TEST(BlobStore, RecentUseSurvivesReopen) {
  util::TempDir dir;
  const std::string a(300, 'a');
  const std::string b(300, 'b');
  const std::string c(300, 'c');
  {
    auto store = open_store(dir.path(), 1000);
    ASSERT_TRUE(store->put(util::digest_of(a), a));
    ASSERT_TRUE(store->put(util::digest_of(b), b));
  }
  // Make a look older than b on disk.
  const auto set_age = [&](const std::string& data, time_t age) {
    const timespec t[2] = {{::time(nullptr) - age, 0}, {::time(nullptr) - age, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, blob_path(dir.path(), util::digest_of(data)).c_str(), t, 0), 0);
  };
  set_age(a, 100);
  set_age(b, 50);
  {
    auto store = open_store(dir.path(), 1000);
    EXPECT_TRUE(store->contains(util::digest_of(a))); // a is used now: newer than b on disk
  }
  auto store = open_store(dir.path(), 1000);
  ASSERT_TRUE(store->put(util::digest_of(c), c));
  const std::string d(300, 'd');
  ASSERT_TRUE(store->put(util::digest_of(d), d)); // over the cap: the oldest (b) goes
  EXPECT_FALSE(store->contains(util::digest_of(b)));
  EXPECT_TRUE(store->contains(util::digest_of(a)));
}

TEST(BlobStore, VerifyAllFindsDamagedBlob) {
  util::TempDir dir;
  auto store = open_store(dir.path());
  const auto d = util::digest_of("intact");
  ASSERT_TRUE(store->put(d, "intact"));
  const std::string path = blob_path(dir.path(), d);
  ::chmod(path.c_str(), 0644);
  ASSERT_TRUE(util::write_file_atomic(path, "broken"));
  EXPECT_EQ(store->verify_all(), std::vector<std::string>{d.hash});
}

TEST(BlobStore, ActionResultsAreKeyedByInstance) {
  util::TempDir dir;
  auto store = open_store(dir.path());
  const std::string key(64, 'b');
  ASSERT_TRUE(store->put_action_result("", key, "default"));
  ASSERT_TRUE(store->put_action_result("team/a", key, "team"));
  EXPECT_EQ(*store->get_action_result("", key), "default");
  EXPECT_EQ(*store->get_action_result("team/a", key), "team");
  EXPECT_FALSE(store->get_action_result("team/b", key));
}

TEST(BlobStore, ConcurrentWritersOfSameBlob) {
  util::TempDir dir;
  auto store = open_store(dir.path());
  const std::string data(100000, 'z');
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 20; ++j) {
        EXPECT_TRUE(store->put(util::digest_of(data), data));
        EXPECT_EQ(*store->read(util::digest_of(data)), data);
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(store->total_size(), 100000);
}

TEST(ActionCache, MissIfOutputEvicted) {
  util::TempDir dir;
  auto store = open_store(dir.path(), 1000);
  ActionCache cache(*store);
  const std::string out(400, 'o');
  ASSERT_TRUE(store->put(util::digest_of(out), out));
  reapi::v2::ActionResult r;
  auto* f = r.add_output_files();
  f->set_path("a.o");
  *f->mutable_digest() = reapi::to_proto(util::digest_of(out));
  const auto action = reapi::digest_of("action");
  ASSERT_TRUE(cache.put("", action, r));
  EXPECT_TRUE(cache.get("", action));
  for (char c : {'x', 'y', 'z'}) {
    const std::string other(400, c);
    ASSERT_TRUE(store->put(util::digest_of(other), other));
  }
  EXPECT_FALSE(store->contains(util::digest_of(out)));
  EXPECT_FALSE(cache.get("", action));
}

TEST(ActionCache, PutRejectsMissingBlobsAndStripsInline) {
  util::TempDir dir;
  auto store = open_store(dir.path());
  ActionCache cache(*store);
  reapi::v2::ActionResult r;
  *r.mutable_stdout_digest() = reapi::digest_of("never stored");
  const auto action = reapi::digest_of("action");
  const auto st = cache.put("", action, r);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), util::ErrorCode::failed_precondition);

  reapi::v2::ActionResult inl;
  inl.set_stderr_raw("warning: inline only\n");
  ASSERT_TRUE(cache.put("", action, inl));
  const auto got = cache.get("", action);
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->stderr_raw().empty());
  EXPECT_EQ(*store->read(reapi::from_proto(got->stderr_digest())), "warning: inline only\n");
}

} // namespace
} // namespace ccrex::server
