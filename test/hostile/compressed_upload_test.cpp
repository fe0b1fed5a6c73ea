// Compressed ByteStream uploads (compressed-blobs/zstd) cannot exhaust the server: a frame
// that decompresses far past the size the resource declares (a zip bomb) is refused when
// its output passes that size, before the rest is produced, stored or held in memory; a
// frame asking for a huge window, garbage, and endless bytes that produce nothing are
// refused; unfinished compressed uploads count against the store's cap like plain ones.

#include "hostile/hostile_support.h"
#include "support/compressed_streams.h"

#include <gtest/gtest.h>

#include <zstd.h>

#include <fstream>
#include <sstream>
#include <thread>

namespace ccrex::test {
namespace {

using namespace std::chrono_literals;
using reapi::Compressor;

// A number from /proc/<pid>/<file>'s line starting with `key` (-1 when absent).
int64_t proc_value(pid_t pid, const std::string& file, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/" + file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) {
      std::istringstream rest(line.substr(key.size()));
      int64_t value = -1;
      rest >> value;
      return value;
    }
  }
  return -1;
}

class CompressedUpload : public ::testing::Test {
protected:
  void start(std::vector<std::string> args = {}) {
    m_server = std::make_unique<ServerProcess>(std::move(args));
    ASSERT_TRUE(m_server->ok()) << m_server->error();
    m_caller = std::make_unique<Caller>(plain_channel(m_server->address()), "");
  }
  std::string name(const v2::Digest& d) {
    return reapi::write_resource("", "c0ffee-" + std::to_string(m_uploads++), d, Compressor::zstd);
  }
  // Peak resident memory (KiB) and bytes written by the server so far.
  int64_t peak_kib() const { return proc_value(m_server->pid(), "status", "VmHWM:"); }
  int64_t written() const { return proc_value(m_server->pid(), "io", "wchar:"); }
  // The server still takes and serves a compressed upload.
  void expect_still_serving() {
    const std::string data = source_like_text(50000);
    int64_t committed = 0;
    const auto d = reapi::digest_of(data);
    const auto st = write_pieces(*m_caller->bytestream, name(d), {zstd_frame(data)}, 0, &committed);
    EXPECT_TRUE(st.ok()) << st.error_message();
    EXPECT_FALSE(m_caller->missing(d));
  }

  std::unique_ptr<ServerProcess> m_server;
  std::unique_ptr<Caller> m_caller;
  int m_uploads = 0;
};

// 100 MiB of zeros as one zstd frame (a few KiB); `declare` writes the size in its header.
std::string bomb(bool declare) {
  const std::string mib(size_t{1} << 20, '\0');
  reapi::ZstdCompressor zstd;
  std::string out;
  if (declare) {
    zstd.set_pledged_size(int64_t{100} << 20);
  }
  for (int i = 0; i < 100; ++i) {
    (void)zstd.compress(mib, i == 99, out);
  }
  return out;
}

TEST_F(CompressedUpload, BombDeclaringOneKibIsStoppedAtOneKib) {
  start();
  for (const bool declare : {false, true}) {
    const std::string frame = bomb(declare);
    ASSERT_LT(frame.size(), size_t{64} << 10);
    v2::Digest d = reapi::digest_of(std::string(1024, '\0'));
    const int64_t peak_before = peak_kib();
    const int64_t written_before = written();
    ASSERT_GT(peak_before, 0);
    // The whole bomb in one message, and the stream left open (no finish_write): the
    // refusal must come from the bytes produced, not from the end of the upload.
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 30s);
    bs::WriteResponse resp;
    auto writer = m_caller->bytestream->Write(&ctx, &resp);
    bs::WriteRequest req;
    req.set_resource_name(name(d));
    req.set_data(frame);
    writer->Write(req);
    const auto st = writer->Finish();
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
    // Neither 100 MiB in memory nor on disk: a few MiB of slack for the server's own work.
    EXPECT_LT(peak_kib() - peak_before, 48 << 10) << "declare=" << declare;
    EXPECT_LT(written() - written_before, int64_t{8} << 20) << "declare=" << declare;
    EXPECT_TRUE(m_caller->missing(d));
  }
  expect_still_serving();
}

TEST_F(CompressedUpload, BombSpreadOverManyMessagesIsStoppedToo) {
  start();
  const std::string frame = bomb(false);
  const v2::Digest d = reapi::digest_of(std::string(4096, '\0'));
  const int64_t written_before = written();
  int64_t committed = 0;
  const auto st =
      write_pieces(*m_caller->bytestream, name(d), split_pieces(frame, 64), 0, &committed);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  EXPECT_LT(written() - written_before, int64_t{8} << 20);
  expect_still_serving();
}

TEST_F(CompressedUpload, HugeWindowIsRefused) {
  start();
  // A frame whose header asks for a 128 MiB window, more than any regular level uses.
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, 27);
  const std::string data = source_like_text(1 << 20);
  std::string out(ZSTD_compressBound(data.size()), '\0');
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  ZSTD_outBuffer o{out.data(), out.size(), 0};
  // Fed as a stream with no size known, so the header keeps the window it was given.
  ZSTD_compressStream2(cctx, &o, &in, ZSTD_e_continue);
  ZSTD_inBuffer none{nullptr, 0, 0};
  while (ZSTD_compressStream2(cctx, &o, &none, ZSTD_e_end) != 0) {
  }
  out.resize(o.pos);
  ZSTD_freeCCtx(cctx);
  int64_t committed = 0;
  const auto d = reapi::digest_of(data);
  const auto st = write_pieces(*m_caller->bytestream, name(d), {out}, 0, &committed);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  EXPECT_TRUE(m_caller->missing(d));
}

TEST_F(CompressedUpload, GarbageAndEndlessEmptyFramesAreRefused) {
  start();
  const v2::Digest d = reapi::digest_of(std::string(1024, 'g'));
  std::string garbage(1 << 20, '\0');
  for (size_t i = 0; i < garbage.size(); ++i) {
    garbage[i] = static_cast<char>((i * 2654435761U) >> 13);
  }
  int64_t committed = 0;
  auto st =
      write_pieces(*m_caller->bytestream, name(d), split_pieces(garbage, 4096), 0, &committed);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  // Skippable frames decompress to nothing: a stream of them must not go on for ever.
  std::string skippable("\x50\x2a\x4d\x18", 4);
  const uint32_t length = 60000;
  for (int i = 0; i < 4; ++i) {
    skippable += static_cast<char>((length >> (8 * i)) & 0xff);
  }
  skippable += std::string(length, 's');
  std::vector<std::string> pieces(200, skippable); // 12 MB that produce nothing
  const int64_t written_before = written();
  st = write_pieces(*m_caller->bytestream, name(d), pieces, 0, &committed);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  EXPECT_LT(written() - written_before, int64_t{4} << 20);
  // A compressed read of a missing blob, and a QueryWriteStatus of an unknown compressor.
  grpc::Status rst;
  read_raw(*m_caller->bytestream, reapi::read_resource("", d, Compressor::zstd), 0, 0, &rst);
  EXPECT_EQ(rst.error_code(), grpc::StatusCode::NOT_FOUND);
  grpc::ClientContext qctx;
  bs::QueryWriteStatusRequest q;
  q.set_resource_name("uploads/u/compressed-blobs/snappy/" + reapi::to_string(d));
  bs::QueryWriteStatusResponse qr;
  EXPECT_EQ(m_caller->bytestream->QueryWriteStatus(&qctx, q, &qr).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  expect_still_serving();
}

TEST_F(CompressedUpload, UnfinishedCompressedUploadsCountAgainstTheCap) {
  start({"--max-size", "4M"});
  // 3 MB that compress to almost nothing still take 3 MB of the store while unfinished.
  const std::string three_mb(3 << 20, 'a');
  const std::string other(3 << 20, 'b');
  int64_t committed = 0;
  const std::string first = zstd_frame(three_mb.substr(0, three_mb.size() - 1));
  EXPECT_FALSE(
      write_pieces(
          *m_caller->bytestream, name(reapi::digest_of(three_mb)), {first}, 0, &committed, false)
          .ok());
  const auto st = write_pieces(*m_caller->bytestream,
                               name(reapi::digest_of(other)),
                               {zstd_frame(other.substr(0, other.size() - 1))},
                               0,
                               &committed,
                               false);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << st.error_message();
}

} // namespace
} // namespace ccrex::test
