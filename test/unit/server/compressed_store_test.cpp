// BlobStore with compression: which blobs are stored compressed, that every reader gets the
// blob's own bytes, that raw and compressed blobs share one store (also one written before
// compression existed), and that the cap counts bytes on disk.

#include "server/blob_compression.h"
#include "server/blob_store.h"
#include "util/file.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <random>

namespace ccrex::server {
namespace {

std::unique_ptr<BlobStore> open_compressed_store(const std::string& dir,
                                                 int level = 1,
                                                 int64_t max = 64 << 20,
                                                 bool sole = true) {
  auto s = BlobStore::open(dir, max, sole, level);
  EXPECT_TRUE(s) << (s ? "" : s.error().message());
  return s ? std::move(s).value() : nullptr;
}

std::string raw_path(const std::string& dir, const util::Digest& d) {
  return dir + "/cas/" + d.hash.substr(0, 2) + "/" + d.hash;
}

std::string zst_path(const std::string& dir, const util::Digest& d) {
  return raw_path(dir, d) + "." + std::to_string(d.size) + ".zst";
}

// Text-like content that zstd shrinks several times over.
std::string compressible(size_t size, int seed = 0) {
  std::string s;
  for (int i = 0; s.size() < size; ++i) {
    s += "line " + std::to_string(seed) + ":" + std::to_string(i % 97) + " of some object code\n";
  }
  s.resize(size);
  return s;
}

std::string incompressible(size_t size) {
  std::mt19937 rng(42);
  std::string s(size, '\0');
  for (auto& c : s) {
    c = static_cast<char>(rng());
  }
  return s;
}

int64_t store_bytes_on_disk(const std::string& dir) {
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

std::string read_all(BlobReader& r) {
  std::string out;
  char buf[1000];
  for (;;) {
    auto n = r.read(buf, sizeof buf);
    EXPECT_TRUE(n) << (n ? "" : n.error().message());
    if (!n || *n == 0) {
      return out;
    }
    out.append(buf, *n);
  }
}

TEST(BlobStoreCompression, LargeCompressibleBlobIsStoredCompressed) {
  util::TempDir dir;
  auto store = open_compressed_store(dir.path());
  const std::string data = compressible(200000);
  const auto d = util::digest_of(data);
  ASSERT_TRUE(store->put(d, data));
  EXPECT_TRUE(util::path_exists(zst_path(dir.path(), d)));
  EXPECT_FALSE(util::path_exists(raw_path(dir.path(), d)));
  auto got = store->read(d);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, data);
  EXPECT_LT(store->total_size() * 4, store->content_size());
  EXPECT_EQ(store->content_size(), d.size);
  EXPECT_EQ(store->total_size(), store_bytes_on_disk(dir.path()));
  EXPECT_FALSE(store->path_of(d)) << "a compressed blob has no plain file";
  EXPECT_TRUE(store->verify_all().empty());
}

TEST(BlobStoreCompression, SmallAndIncompressibleBlobsStayRaw) {
  util::TempDir dir;
  auto store = open_compressed_store(dir.path());
  const std::string small = compressible(200);
  const std::string noise = incompressible(100000);
  for (const auto& data : {small, noise}) {
    const auto d = util::digest_of(data);
    ASSERT_TRUE(store->put(d, data));
    EXPECT_TRUE(util::path_exists(raw_path(dir.path(), d)));
    EXPECT_FALSE(util::path_exists(zst_path(dir.path(), d)));
    EXPECT_EQ(*store->read(d), data);
    EXPECT_TRUE(store->path_of(d));
  }
  EXPECT_EQ(store->total_size(), store->content_size());
}

TEST(BlobStoreCompression, LevelZeroStoresRaw) {
  util::TempDir dir;
  auto store = open_compressed_store(dir.path(), 0);
  const std::string data = compressible(200000);
  const auto d = util::digest_of(data);
  ASSERT_TRUE(store->put(d, data));
  EXPECT_TRUE(util::path_exists(raw_path(dir.path(), d)));
  EXPECT_EQ(store->total_size(), d.size);
}

TEST(BlobStoreCompression, BadLevelIsRefused) {
  util::TempDir dir;
  EXPECT_FALSE(BlobStore::open(dir.path(), 1 << 20, true, 20));
  EXPECT_FALSE(BlobStore::open(dir.path(), 1 << 20, true, -6));
}

TEST(BlobStoreCompression, EveryWritePathCompressesAndVerifies) {
  util::TempDir dir;
  auto store = open_compressed_store(dir.path());
  // An upload that arrived in a temporary file (ByteStream).
  const std::string uploaded = compressible(100000, 1);
  const auto ud = util::digest_of(uploaded);
  const std::string tmp = store->new_temp_path();
  ASSERT_TRUE(util::write_file_atomic(tmp, uploaded));
  ASSERT_TRUE(store->put_temp_file(ud, tmp));
  EXPECT_FALSE(util::path_exists(tmp));
  EXPECT_TRUE(util::path_exists(zst_path(dir.path(), ud)));
  EXPECT_EQ(*store->read(ud), uploaded);
  // One whose content does not match its digest: refused, consumed, nothing stored.
  const std::string liar = compressible(100000, 2);
  const util::Digest claimed{util::sha256_hex("something else"), 100000};
  const std::string tmp2 = store->new_temp_path();
  ASSERT_TRUE(util::write_file_atomic(tmp2, liar));
  auto st = store->put_temp_file(claimed, tmp2);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), util::ErrorCode::invalid_argument);
  EXPECT_FALSE(util::path_exists(tmp2));
  EXPECT_FALSE(store->contains(claimed));
  EXPECT_FALSE(util::path_exists(zst_path(dir.path(), claimed)));
  // An action's output (output collection).
  const std::string output = compressible(300000, 3);
  const std::string out_path = dir.path() + "/out.o";
  ASSERT_TRUE(util::write_file_atomic(out_path, output));
  auto od = store->put_file(out_path);
  ASSERT_TRUE(od);
  EXPECT_EQ(*od, util::digest_of(output));
  EXPECT_TRUE(util::path_exists(zst_path(dir.path(), *od)));
  EXPECT_EQ(*store->read(*od), output);
  // An incompressible output is stored raw after the attempt.
  const std::string noise = incompressible(50000);
  ASSERT_TRUE(util::write_file_atomic(out_path + "2", noise));
  auto nd = store->put_file(out_path + "2");
  ASSERT_TRUE(nd);
  EXPECT_TRUE(util::path_exists(raw_path(dir.path(), *nd)));
  EXPECT_EQ(*store->read(*nd), noise);
  EXPECT_TRUE(store->verify_all().empty());
  EXPECT_EQ(store->total_size(), store_bytes_on_disk(dir.path()));
}

TEST(BlobStoreCompression, ReaderAndCopyGiveTheBlobsOwnBytes) {
  util::TempDir dir;
  auto store = open_compressed_store(dir.path());
  const std::string data = compressible(500000, 4);
  const auto d = util::digest_of(data);
  ASSERT_TRUE(store->put(d, data));
  auto reader = store->open_reader(d);
  ASSERT_TRUE(reader);
  EXPECT_EQ(read_all(**reader), data);
  // From an offset, as a ByteStream read_offset.
  auto from = store->open_reader(d);
  ASSERT_TRUE(from);
  ASSERT_TRUE((*from)->skip(123457));
  EXPECT_EQ(read_all(**from), data.substr(123457));
  // Staging's copy, with the mode asked for.
  const std::string dest = dir.path() + "/staged";
  ASSERT_TRUE(store->copy_to(d, dest, 0555));
  EXPECT_EQ(*util::read_file(dest), data);
  struct stat st {};
  ASSERT_EQ(::stat(dest.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0555U);
  // The empty blob has no file and copies too.
  ASSERT_TRUE(store->copy_to(util::digest_of(""), dir.path() + "/empty", 0444));
  EXPECT_EQ(*util::read_file(dir.path() + "/empty"), "");
}

TEST(BlobStoreCompression, MixedStoreSurvivesReopenWithSizesOfBothKinds) {
  util::TempDir dir;
  const std::string packed = compressible(200000, 5);
  const std::string plain = incompressible(20000);
  {
    auto store = open_compressed_store(dir.path());
    ASSERT_TRUE(store->put(util::digest_of(packed), packed));
    ASSERT_TRUE(store->put(util::digest_of(plain), plain));
  }
  auto store = open_compressed_store(dir.path(), 0); // compression off now: both still read
  EXPECT_EQ(store->content_size(), static_cast<int64_t>(packed.size() + plain.size()));
  EXPECT_EQ(store->total_size(), store_bytes_on_disk(dir.path()));
  EXPECT_LT(store->total_size(), store->content_size());
  EXPECT_EQ(*store->read(util::digest_of(packed)), packed);
  EXPECT_EQ(*store->read(util::digest_of(plain)), plain);
  EXPECT_TRUE(store->verify_all().empty());
}

TEST(BlobStoreCompression, StoreWrittenBeforeCompressionNeedsNoMigration) {
  util::TempDir dir;
  // The layout as stores were written before compression: cas/ab/<hash>, mode 0444.
  const std::string old_blob = compressible(100000, 6);
  const auto od = util::digest_of(old_blob);
  ASSERT_TRUE(util::make_dirs(util::dirname(raw_path(dir.path(), od))));
  ASSERT_TRUE(util::write_file_atomic(raw_path(dir.path(), od), old_blob, 0444));
  auto store = open_compressed_store(dir.path());
  EXPECT_EQ(store->total_size(), od.size);
  EXPECT_TRUE(store->contains(od));
  EXPECT_EQ(*store->read(od), old_blob);
  EXPECT_TRUE(store->path_of(od)); // still the plain file, untouched
  EXPECT_TRUE(util::path_exists(raw_path(dir.path(), od)));
  // A new blob beside it is compressed; both read.
  const std::string new_blob = compressible(100000, 7);
  const auto nd = util::digest_of(new_blob);
  ASSERT_TRUE(store->put(nd, new_blob));
  EXPECT_TRUE(util::path_exists(zst_path(dir.path(), nd)));
  EXPECT_EQ(*store->read(nd), new_blob);
  EXPECT_EQ(*store->read(od), old_blob);
}

TEST(BlobStoreCompression, CapCountsBytesOnDisk) {
  util::TempDir dir;
  constexpr int64_t k_cap = 200000;
  auto store = open_compressed_store(dir.path(), 1, k_cap);
  std::vector<util::Digest> kept;
  for (int i = 0; i < 10; ++i) {
    const std::string data = compressible(100000, 100 + i);
    kept.push_back(util::digest_of(data));
    ASSERT_TRUE(store->put(kept.back(), data));
  }
  // A million bytes of content in a 200 kB cap: all kept, since on disk they are small.
  EXPECT_EQ(store->content_size(), 1000000);
  EXPECT_LE(store->total_size(), k_cap);
  for (const auto& d : kept) {
    EXPECT_TRUE(store->contains(d));
  }
  // Incompressible blobs count in full and push the oldest out.
  for (int i = 0; i < 3; ++i) {
    std::string noise = incompressible(90000);
    noise[0] = static_cast<char>(i);
    ASSERT_TRUE(store->put(util::digest_of(noise), noise));
  }
  EXPECT_LE(store->total_size(), k_cap);
  EXPECT_EQ(store->total_size(), store_bytes_on_disk(dir.path()));
  EXPECT_FALSE(store->contains(kept.front()));
}

TEST(BlobStoreCompression, AnotherProcessReadsCompressedBlobs) {
  util::TempDir dir;
  auto writer = open_compressed_store(dir.path(), 3, 64 << 20, false);
  auto reader = open_compressed_store(dir.path(), 0, 64 << 20, false);
  const std::string data = compressible(150000, 8);
  const auto d = util::digest_of(data);
  ASSERT_TRUE(writer->put(d, data));
  EXPECT_TRUE(reader->contains(d)); // adopted from disk
  EXPECT_EQ(*reader->read(d), data);
  EXPECT_EQ(reader->total_size(), writer->total_size());
  // The raw writer stores nothing twice.
  ASSERT_TRUE(reader->put(d, data));
  EXPECT_FALSE(util::path_exists(raw_path(dir.path(), d)));
}

} // namespace
} // namespace ccrex::server
