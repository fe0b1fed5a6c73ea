#include "reapi/digest.h"
#include "server/action_cache.h"
#include "server/blob_store.h"
#include "util/file.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
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
  EXPECT_EQ(store->total_size(), d.size + 6); // the blob and the action result
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

// Bytes of every file under `dir`/cas and `dir`/ac, as on disk.
int64_t bytes_on_disk(const std::string& dir) {
  int64_t total = 0;
  for (const char* sub : {"/cas", "/ac"}) {
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir + sub)) {
      if (e.is_regular_file()) {
        total += static_cast<int64_t>(e.file_size());
      }
    }
  }
  return total;
}

std::string hash_of(int i) {
  return util::sha256_hex("action " + std::to_string(i));
}

TEST(BlobStore, ActionResultsCountAgainstTheCap) {
  util::TempDir dir;
  auto store = open_store(dir.path(), 1000);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(store->put_action_result("", hash_of(i), std::string(300, 'r')));
  }
  EXPECT_EQ(store->total_size(), 900);
  const std::string blob(300, 'b');
  ASSERT_TRUE(store->put(util::digest_of(blob), blob));   // 1200 > 1000: down to 900
  EXPECT_FALSE(store->get_action_result("", hash_of(0))); // the oldest entry went
  EXPECT_TRUE(store->get_action_result("", hash_of(2)));
  EXPECT_TRUE(store->contains(util::digest_of(blob)));
  EXPECT_LE(store->total_size(), 900);
  EXPECT_EQ(bytes_on_disk(dir.path()), store->total_size());
}

TEST(BlobStore, ReadingAnActionResultKeepsItLonger) {
  util::TempDir dir;
  auto store = open_store(dir.path(), 1000);
  ASSERT_TRUE(store->put_action_result("", hash_of(0), std::string(300, 'a')));
  ASSERT_TRUE(store->put_action_result("", hash_of(1), std::string(300, 'b')));
  ASSERT_TRUE(store->put_action_result("", hash_of(2), std::string(300, 'c')));
  EXPECT_TRUE(store->get_action_result("", hash_of(0))); // a hit: now the most recent
  ASSERT_TRUE(store->put_action_result("team", hash_of(3), std::string(300, 'd')));
  EXPECT_TRUE(store->get_action_result("", hash_of(0)));
  EXPECT_FALSE(store->get_action_result("", hash_of(1)));
  EXPECT_TRUE(store->get_action_result("team", hash_of(3)));
}

TEST(BlobStore, ReplacedActionResultCountsItsNewSize) {
  util::TempDir dir;
  auto store = open_store(dir.path(), 1000);
  ASSERT_TRUE(store->put_action_result("", hash_of(0), std::string(100, 'a')));
  ASSERT_TRUE(store->put_action_result("", hash_of(0), std::string(250, 'b')));
  EXPECT_EQ(store->total_size(), 250);
  EXPECT_EQ(*store->get_action_result("", hash_of(0)), std::string(250, 'b'));
}

TEST(BlobStore, ActionResultsCountAfterReopenInTheirOrder) {
  util::TempDir dir;
  {
    auto store = open_store(dir.path(), 1000);
    ASSERT_TRUE(store->put_action_result("", hash_of(0), std::string(300, 'a')));
    ASSERT_TRUE(store->put_action_result("", hash_of(1), std::string(300, 'b')));
  }
  const std::string old_entry = dir.path() + "/ac/" + hash_of(0).substr(0, 2) + "/" + hash_of(0);
  const timespec t[2] = {{::time(nullptr) - 100, 0}, {::time(nullptr) - 100, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, old_entry.c_str(), t, 0), 0);
  auto store = open_store(dir.path(), 1000);
  EXPECT_EQ(store->total_size(), 600);
  const std::string blob(600, 'x');
  ASSERT_TRUE(store->put(util::digest_of(blob), blob)); // 1200: the older entry goes
  EXPECT_FALSE(util::path_exists(old_entry));
  EXPECT_TRUE(store->get_action_result("", hash_of(1)));
}

TEST(BlobStore, ConcurrentActionResultsStayWithinTheCap) {
  util::TempDir dir;
  auto store = open_store(dir.path(), 20000);
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const int n = t * 1000 + i;
        EXPECT_TRUE(store->put_action_result("", hash_of(n), std::string(500, 'r')));
        (void)store->get_action_result("", hash_of(n / 2));
        const std::string blob = std::to_string(n) + std::string(300, 'b');
        EXPECT_TRUE(store->put(util::digest_of(blob), blob));
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_LE(store->total_size(), 20000);
  EXPECT_LE(bytes_on_disk(dir.path()), 20000);
}

TEST(BlobStore, PutFileCopiesAFileWithAnotherName) {
  util::TempDir dir;
  auto store = open_store(dir.path());
  const std::string outside = dir.path() + "/outside";
  const std::string out = dir.path() + "/output.o";
  ASSERT_TRUE(util::write_file_atomic(outside, "original", 0644));
  ASSERT_EQ(::link(outside.c_str(), out.c_str()), 0);
  const auto d = store->put_file(out);
  ASSERT_TRUE(d);
  // The other name keeps its mode, and rewriting it does not reach the stored blob.
  struct stat st {};
  ASSERT_EQ(::stat(outside.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644U);
  ASSERT_TRUE(util::write_file_atomic(outside, "tampered"));
  EXPECT_EQ(*store->read(*d), "original");
  EXPECT_TRUE(store->verify_all().empty());
}

TEST(BlobStore, PutFileRefusesASymlink) {
  util::TempDir dir;
  auto store = open_store(dir.path());
  const std::string target = dir.path() + "/secret";
  ASSERT_TRUE(util::write_file_atomic(target, "secret", 0644));
  ASSERT_EQ(::symlink(target.c_str(), (dir.path() + "/out").c_str()), 0);
  const auto d = store->put_file(dir.path() + "/out");
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code(), util::ErrorCode::failed_precondition);
  struct stat st {};
  ASSERT_EQ(::stat(target.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644U);
  EXPECT_FALSE(store->contains(util::digest_of("secret")));
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
