// The REAPI client's compressed transfers against the real server library on a socket:
// with zstd offered (and a 2.1+ range), large blobs go up and come down through
// compressed-blobs names and the bytes on the wire are the compressed ones (the server's
// metrics count them); with compression off, or a 2.0-only server, the same calls use plain
// names only. Small blobs always stay in batches.

#include "reapi/remote.h"
#include "server/config.h"
#include "server/local_server.h"
#include "server/metrics.h"
#include "util/file.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <functional>
#include <string>

namespace ccrex::server {
namespace {

namespace v2 = reapi::v2;

std::string source_text(size_t size) {
  std::string out;
  for (size_t i = 0; out.size() < size; ++i) {
    out += "#define MACRO_" + std::to_string(i % 3001) + "(x) ((x) * "
           + std::to_string(i * 13 % 997) + ")\n";
  }
  out.resize(size);
  return out;
}

class CompressedByteStream : public ::testing::Test {
protected:
  void start(const std::function<void(Config&)>& tweak) {
    ::chmod(m_dir.path().c_str(), 0711);
    Config cfg;
    cfg.cache_dir = m_dir.path() + "/store";
    cfg.listen = {"unix:" + m_dir.path() + "/engine.sock"};
    cfg.workers = 1;
    tweak(cfg);
    auto srv = LocalServer::start(cfg);
    ASSERT_TRUE(srv) << srv.error().message();
    m_server = std::move(srv).value();
    reapi::CallSettings settings;
    settings.retry.max_attempts = 1;
    m_remote = std::make_unique<reapi::GrpcRemoteExecutor>(
        grpc::CreateChannel(m_server->addresses().at(0), grpc::InsecureChannelCredentials()),
        settings);
  }
  void TearDown() override {
    m_remote.reset();
    if (m_server) {
      m_server->shutdown();
    }
  }

  CompressedCounts counts() const { return m_server->metrics()->snapshot().compressed; }

  // Upload `data`, read it back into memory and into a file; return the digest.
  v2::Digest round_trip(const std::string& data) {
    const auto d = reapi::digest_of(data);
    reapi::UploadBlob blob;
    blob.digest = d;
    blob.source = reapi::BlobSource::bytes(data);
    const auto up = m_remote->upload({blob});
    EXPECT_TRUE(up) << up.error().to_string();
    const auto back = m_remote->read_blob(d);
    EXPECT_TRUE(back && *back == data);
    const std::string path = m_dir.path() + "/out-" + d.hash().substr(0, 8);
    const auto to_file = m_remote->read_blob_to_file(d, path, 0644);
    EXPECT_TRUE(to_file) << to_file.error().to_string();
    const auto on_disk = util::read_file(path);
    EXPECT_TRUE(on_disk && *on_disk == data);
    return d;
  }

  util::TempDir m_dir;
  std::unique_ptr<LocalServer> m_server;
  std::unique_ptr<reapi::GrpcRemoteExecutor> m_remote;
};

TEST_F(CompressedByteStream, LargeBlobsTravelCompressedWhenOffered) {
  start([](Config& cfg) { cfg.compressed_blobs = true; });
  const auto info = m_remote->server_info();
  ASSERT_TRUE(info);
  EXPECT_TRUE(info->zstd_blobs);
  const std::string data = source_text(3 << 20);
  round_trip(data);
  const auto c = counts();
  EXPECT_EQ(c.writes, 1U);
  EXPECT_EQ(c.reads, 2U); // into memory and into a file
  EXPECT_EQ(c.blob_bytes_received, data.size());
  EXPECT_EQ(c.blob_bytes_sent, 2 * data.size());
  // What crossed the socket is a fraction of the blob.
  EXPECT_LT(c.wire_bytes_received, data.size() / 4);
  EXPECT_LT(c.wire_bytes_sent, 2 * data.size() / 4);
  EXPECT_EQ(m_server->metrics()->snapshot().cas_bytes_received, c.wire_bytes_received);
  // A small blob stays in a batch.
  round_trip(source_text(20000));
  EXPECT_EQ(counts().writes, 1U);
  // Sending the large blob again: the server, which has it, ends the compressed upload at
  // once with committed_size -1, and the client takes that as done.
  round_trip(data);
  EXPECT_EQ(counts().writes, 1U);
  EXPECT_EQ(counts().reads, 4U);
}

TEST_F(CompressedByteStream, PlainNamesWhenTheServerDoesNotOfferZstd) {
  start([](Config& cfg) { cfg.compressed_blobs = false; });
  const auto info = m_remote->server_info();
  ASSERT_TRUE(info);
  EXPECT_FALSE(info->zstd_blobs);
  const std::string data = source_text(5 << 20); // above the batch limit: ByteStream
  round_trip(data);
  EXPECT_EQ(counts().writes, 0U);
  EXPECT_EQ(counts().reads, 0U);
  EXPECT_GE(m_server->metrics()->snapshot().cas_bytes_received, data.size());
}

TEST_F(CompressedByteStream, PlainNamesWithA20OnlyServer) {
  start([](Config& cfg) {
    cfg.compressed_blobs = true;
    cfg.api_versions = {0, 0};
  });
  const auto info = m_remote->server_info();
  ASSERT_TRUE(info);
  EXPECT_FALSE(info->zstd_blobs);
  round_trip(source_text(5 << 20));
  EXPECT_EQ(counts().writes, 0U);
  EXPECT_EQ(counts().reads, 0U);
}

} // namespace
} // namespace ccrex::server
