// Damaged compressed blobs in the store: whoever damaged them (a bad disk, a crash in
// another tool, someone with write access to the store), a frame that does not decompress
// to exactly its blob is detected, removed and reads as absent. It is never served as a
// wrong blob, never crashes the server, and is never expanded beyond the blob's size.

#include "hostile/hostile_support.h"
#include "server/blob_compression.h"
#include "server/blob_store.h"
#include "support/server_process.h"
#include "util/file.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include <vector>

namespace ccrex::test {
namespace {

namespace bs = reapi::bytestream;

std::string text(size_t size, int seed) {
  std::string s;
  for (int i = 0; s.size() < size; ++i) {
    s += "symbol_" + std::to_string(seed) + "_" + std::to_string(i % 113) + " = section .text\n";
  }
  s.resize(size);
  return s;
}

std::string frame_path(const std::string& dir, const util::Digest& d) {
  return dir + "/cas/" + d.hash.substr(0, 2) + "/" + d.hash + "." + std::to_string(d.size) + ".zst";
}

// Frame `data` at level 1 as the store does (content size and checksum recorded).
std::string make_frame(const std::string& data) {
  util::TempDir dir;
  const std::string path = dir.path() + "/f";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  EXPECT_GE(fd, 0);
  EXPECT_TRUE(server::compress_data(data, fd, 1));
  ::close(fd);
  return util::read_file(path).value_or("");
}

// Replace blob `d`'s frame in the store at `dir` by `bytes` (the file is read-only).
void tamper(const std::string& dir, const util::Digest& d, const std::string& bytes) {
  const std::string path = frame_path(dir, d);
  ASSERT_TRUE(util::path_exists(path));
  ::unlink(path.c_str());
  ASSERT_TRUE(util::write_file_atomic(path, bytes, 0444));
}

struct Damage {
  const char* name;
  std::string (*apply)(const std::string& frame, const std::string& content);
};

const std::vector<Damage>& damages() {
  static const std::vector<Damage> k_damages = {
      {"bit flip in the middle",
       [](const std::string& f, const std::string&) {
         std::string g = f;
         g[g.size() / 2] = static_cast<char>(g[g.size() / 2] ^ 0x10);
         return g;
       }},
      {"bit flip in the checksum",
       [](const std::string& f, const std::string&) {
         std::string g = f;
         g[g.size() - 1] = static_cast<char>(g[g.size() - 1] ^ 0x01);
         return g;
       }},
      {"truncated frame",
       [](const std::string& f, const std::string&) { return f.substr(0, f.size() - 7); }},
      {"only the header", [](const std::string& f, const std::string&) { return f.substr(0, 6); }},
      {"empty file", [](const std::string&, const std::string&) { return std::string(); }},
      {"not zstd at all", [](const std::string&, const std::string& c) { return c; }},
      {"a second frame after the first",
       [](const std::string& f, const std::string&) { return f + make_frame("more"); }},
      {"a frame of a larger blob (64 MiB of zeros)",
       [](const std::string&, const std::string&) {
         return make_frame(std::string(size_t{64} << 20, '\0'));
       }},
      {"a frame of another blob of the same size",
       [](const std::string&, const std::string& c) {
         std::string other = c;
         other[100] = static_cast<char>(other[100] ^ 1);
         return make_frame(other);
       }},
      {"a frame that does not record its size",
       [](const std::string&, const std::string& c) {
         std::string out(ZSTD_compressBound(c.size()) + 64, '\0');
         ZSTD_CCtx* cctx = ZSTD_createCCtx();
         ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
         ZSTD_inBuffer in{c.data(), c.size(), 0};
         ZSTD_outBuffer o{out.data(), out.size(), 0};
         ZSTD_compressStream2(cctx, &o, &in, ZSTD_e_end);
         ZSTD_freeCCtx(cctx);
         out.resize(o.pos);
         return out;
       }},
  };
  return k_damages;
}

TEST(CorruptStore, DamagedFramesReadAsMissingThroughEveryReader) {
  for (const auto& damage : damages()) {
    SCOPED_TRACE(damage.name);
    util::TempDir dir;
    auto store = server::BlobStore::open(dir.path(), 256 << 20, true, 1).value();
    const std::string content = text(200000, 1);
    const auto d = util::digest_of(content);
    ASSERT_TRUE(store->put(d, content));
    const std::string frame = util::read_file(frame_path(dir.path(), d)).value_or("");
    ASSERT_FALSE(frame.empty());
    const std::string bad = damage.apply(frame, content);
    for (int reader = 0; reader < 3; ++reader) {
      tamper(dir.path(), d, bad);
      bool served = false;
      if (reader == 0) {
        auto got = store->read(d);
        served = static_cast<bool>(got);
        if (got) {
          EXPECT_EQ(*got, content) << "a damaged frame was served as a wrong blob";
        } else {
          EXPECT_EQ(got.error().code(), util::ErrorCode::not_found);
        }
      } else if (reader == 1) {
        const std::string dest = dir.path() + "/staged";
        auto st = store->copy_to(d, dest, 0444);
        served = static_cast<bool>(st);
        EXPECT_EQ(served, util::path_exists(dest)) << "a half-written copy was left behind";
        (void)util::remove_all(dest);
      } else {
        EXPECT_FALSE(store->verify_all().empty()) << "--check did not notice";
        continue;
      }
      EXPECT_FALSE(served) << "a damaged frame was served";
      EXPECT_FALSE(util::path_exists(frame_path(dir.path(), d))) << "not removed";
      EXPECT_FALSE(store->contains(d)) << "still listed";
      // An honest upload heals the store.
      ASSERT_TRUE(store->put(d, content));
      EXPECT_EQ(*store->read(d), content);
    }
  }
}

TEST(CorruptStore, ReaderStopsAtDamageMidwayAndRemovesTheFile) {
  util::TempDir dir;
  auto store = server::BlobStore::open(dir.path(), 256 << 20, true, 1).value();
  const std::string content = text(4 << 20, 2);
  const auto d = util::digest_of(content);
  ASSERT_TRUE(store->put(d, content));
  std::string frame = util::read_file(frame_path(dir.path(), d)).value_or("");
  frame[frame.size() * 3 / 4] = static_cast<char>(frame[frame.size() * 3 / 4] ^ 0x40);
  tamper(dir.path(), d, frame);
  auto reader = store->open_reader(d); // the header is intact
  ASSERT_TRUE(reader);
  std::vector<char> buf(1 << 16);
  bool failed = false;
  std::string got;
  while ((*reader)->remaining() > 0) {
    auto n = (*reader)->read(buf.data(), buf.size());
    if (!n) {
      EXPECT_EQ(n.error().code(), util::ErrorCode::data_loss);
      failed = true;
      break;
    }
    got.append(buf.data(), *n);
  }
  EXPECT_TRUE(failed);
  EXPECT_NE(got, content);
  EXPECT_FALSE(util::path_exists(frame_path(dir.path(), d)));
  EXPECT_FALSE(store->contains(d));
}

// Over the wire: a ccrex-server whose store holds a damaged frame answers NOT_FOUND (batch
// read) or an error (ByteStream), never the wrong bytes, and stays up.
TEST(CorruptStore, ServerNeverServesADamagedFrame) {
  util::TempDir cache;
  const std::string content = text(300000, 3);
  const auto d = util::digest_of(content);
  {
    auto store = server::BlobStore::open(cache.path(), 256 << 20, true, 1).value();
    ASSERT_TRUE(store->put(d, content));
  }
  std::string frame = util::read_file(frame_path(cache.path(), d)).value_or("");
  frame[frame.size() / 3] = static_cast<char>(frame[frame.size() / 3] ^ 0x08);
  tamper(cache.path(), d, frame);
  ServerProcess server({"--workers", "1"}, "127.0.0.1:0", cache.path());
  ASSERT_TRUE(server.ok()) << server.error();
  auto channel = plain_channel(server.address());
  auto cas = reapi::v2::ContentAddressableStorage::NewStub(channel);
  auto stream = bs::ByteStream::NewStub(channel);
  {
    grpc::ClientContext ctx;
    bs::ReadRequest req;
    req.set_resource_name("blobs/" + d.hash + "/" + std::to_string(d.size));
    auto reader = stream->Read(&ctx, req);
    std::string got;
    bs::ReadResponse resp;
    while (reader->Read(&resp)) {
      got += resp.data();
    }
    EXPECT_FALSE(reader->Finish().ok());
    EXPECT_NE(got, content);
  }
  reapi::v2::BatchReadBlobsRequest req;
  *req.add_digests() = reapi::to_proto(d);
  reapi::v2::BatchReadBlobsResponse resp;
  grpc::ClientContext ctx;
  ASSERT_TRUE(cas->BatchReadBlobs(&ctx, req, &resp).ok());
  ASSERT_EQ(resp.responses_size(), 1);
  EXPECT_EQ(resp.responses(0).status().code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(resp.responses(0).data().empty());
  EXPECT_FALSE(util::path_exists(frame_path(cache.path(), d)));
}

} // namespace
} // namespace ccrex::test
