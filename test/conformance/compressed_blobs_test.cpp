// Conformance checks for compressed ByteStream transfers (REAPI 2.1 compressed-blobs) on
// the real ccrex-server: the capability, both directions and their mixes with plain names,
// offsets and committed sizes as the spec defines them for compressed streams, and the
// refusals (wrong digest, broken frames, compressors not offered). Numbers refer to the
// check list in the REAPI notes (Z = compressed blobs).

#include "support/compressed_streams.h"
#include "support/reapi_fixture.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace ccrex::test {
namespace {

namespace v2 = reapi::v2;
namespace bs = reapi::bytestream;
using reapi::Compressor;

constexpr const char* k_uuid = "5f0c7a52-1b2d-4c8e-9e61-0d6f1c3a9b27";

class CompressedBlobs : public ReapiFixture {
protected:
  std::string write_name(const v2::Digest& d, Compressor c = Compressor::zstd) const {
    return reapi::write_resource("", k_uuid, d, c);
  }
  static std::string read_name(const v2::Digest& d, Compressor c = Compressor::zstd) {
    return reapi::read_resource("", d, c);
  }
  std::vector<int> advertised() {
    v2::GetCapabilitiesRequest req;
    v2::ServerCapabilities c;
    grpc::ClientContext ctx;
    EXPECT_TRUE(caps->GetCapabilities(&ctx, req, &c).ok());
    return reapi::supported_compressors(c.cache_capabilities());
  }
  bool stored(const v2::Digest& d) {
    std::string data;
    return get(d, &data) == 0;
  }
};

TEST_F(CompressedBlobs, Z1_CapabilitiesListZstd) {
  const auto list = advertised();
  EXPECT_NE(std::find(list.begin(), list.end(), static_cast<int>(Compressor::zstd)), list.end());
}

TEST_F(CompressedBlobs, Z2_CompressedWriteThenPlainRead) {
  const std::string data = source_like_text(3 << 20);
  const auto d = reapi::digest_of(data);
  const std::string frame = zstd_frame(data);
  ASSERT_LT(frame.size(), data.size() / 4);
  int64_t committed = 0;
  const auto st =
      write_pieces(*bytestream, write_name(d), split_pieces(frame, 64 << 10), 0, &committed);
  ASSERT_TRUE(st.ok()) << st.error_message();
  // The compressed bytes received (write_offset semantics for compressed streams).
  EXPECT_EQ(committed, static_cast<int64_t>(frame.size()));
  grpc::Status rst;
  EXPECT_TRUE(read_raw(*bytestream, read_name(d, Compressor::identity), 0, 0, &rst) == data);
  EXPECT_TRUE(rst.ok()) << rst.error_message();
}

TEST_F(CompressedBlobs, Z3_PlainWriteThenCompressedRead) {
  const std::string data = source_like_text(2 << 20);
  const auto d = put(data);
  grpc::Status st;
  const std::string wire = read_raw(*bytestream, read_name(d), 0, 0, &st);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_LT(wire.size(), data.size() / 4); // the bytes on the wire are compressed
  bool whole = false;
  EXPECT_TRUE(unzstd(wire, static_cast<int64_t>(data.size()), &whole) == data);
  EXPECT_TRUE(whole);
}

TEST_F(CompressedBlobs, Z4_CompressedReadOffsetIsInBlobBytesAndLimitMustBeZero) {
  const std::string data = source_like_text(300000);
  const auto d = put(data);
  grpc::Status st;
  const std::string wire = read_raw(*bytestream, read_name(d), 123456, 0, &st);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_TRUE(unzstd(wire, static_cast<int64_t>(data.size())) == data.substr(123456));
  read_raw(*bytestream, read_name(d), 0, 10, &st);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  read_raw(*bytestream, read_name(d), static_cast<int64_t>(data.size()) + 1, 0, &st);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::OUT_OF_RANGE) << st.error_message();
  // At the very end: a valid frame of nothing.
  bool whole = false;
  const std::string tail =
      read_raw(*bytestream, read_name(d), static_cast<int64_t>(data.size()), 0, &st);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_TRUE(unzstd(tail, 1, &whole).empty());
  EXPECT_TRUE(whole);
}

TEST_F(CompressedBlobs, Z5_EmptyBlobAndMissingBlob) {
  grpc::Status st;
  bool whole = false;
  const std::string wire = read_raw(*bytestream, read_name(reapi::digest_of("")), 0, 0, &st);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_TRUE(unzstd(wire, 1, &whole).empty());
  EXPECT_TRUE(whole);
  read_raw(*bytestream, read_name(reapi::digest_of("never stored")), 0, 0, &st);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND) << st.error_message();
}

TEST_F(CompressedBlobs, Z6_WrongDigestOrSizeIsRefusedAndNothingStored) {
  const std::string data = source_like_text(100000);
  const std::string other = source_like_text(99999) + "!";
  const auto d_other = reapi::digest_of(other); // same size, other content
  int64_t committed = 0;
  auto st = write_pieces(*bytestream, write_name(d_other), {zstd_frame(data)}, 0, &committed);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  EXPECT_FALSE(stored(d_other));
  EXPECT_FALSE(stored(reapi::digest_of(data)));
  // A declared size below what the frame holds, and one above it.
  for (const int64_t size : {int64_t{99999}, int64_t{100001}}) {
    v2::Digest d = reapi::digest_of(data);
    d.set_size_bytes(size);
    st = write_pieces(*bytestream, write_name(d), {zstd_frame(data, false)}, 0, &committed);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << size;
  }
  EXPECT_FALSE(stored(reapi::digest_of(data)));
}

TEST_F(CompressedBlobs, Z7_TruncatedGarbageAndNonFramesAreRefused) {
  const std::string data = source_like_text(200000);
  const auto d = reapi::digest_of(data);
  const std::string frame = zstd_frame(data);
  int64_t committed = 0;
  const std::vector<std::string> bad = {
      frame.substr(0, frame.size() - 7),                               // cut inside the frame
      frame.substr(0, frame.size() / 2),                               // half of it
      std::string(4096, '\x5a'),                                       // not zstd at all
      frame.substr(0, 20) + std::string(500, 'x') + frame.substr(520), // damaged
      data, // the plain bytes under a compressed name
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    const auto st =
        write_pieces(*bytestream,
                     reapi::write_resource("", "bad-" + std::to_string(i), d, Compressor::zstd),
                     {bad[i]},
                     0,
                     &committed);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << i << ": " << st.error_message();
  }
  EXPECT_FALSE(stored(d));
  // The server still works.
  EXPECT_TRUE(write_pieces(*bytestream, write_name(d), {frame}, 0, &committed).ok());
  EXPECT_TRUE(stored(d));
}

TEST_F(CompressedBlobs, Z8_CompressorsNotOfferedAreRefused) {
  const auto d = put("some content");
  for (const std::string& name :
       {std::string("compressed-blobs/lz4/") + reapi::to_string(d),
        read_name(d, Compressor::deflate),
        read_name(d, Compressor::brotli),
        std::string("compressed-blobs/identity/") + reapi::to_string(d)}) {
    grpc::Status st;
    read_raw(*bytestream, name, 0, 0, &st);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << name;
  }
  int64_t committed = 0;
  const auto st = write_pieces(
      *bytestream, write_name(reapi::digest_of("x"), Compressor::deflate), {"x"}, 0, &committed);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
}

TEST_F(CompressedBlobs, Z9_StoredBlobEndsACompressedWriteWithMinusOne) {
  const std::string data = source_like_text(50000);
  const auto d = put(data);
  int64_t committed = 0;
  const auto st = write_pieces(*bytestream, write_name(d), {zstd_frame(data)}, 0, &committed);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(committed, -1);
}

TEST_F(CompressedBlobs, Z10_LaterOffsetsCountCompressedBytes) {
  const std::string data = source_like_text(400000);
  const auto d = reapi::digest_of(data);
  const std::string frame = zstd_frame(data);
  // Offsets that count blob bytes instead of compressed bytes are refused.
  grpc::ClientContext ctx;
  bs::WriteResponse resp;
  auto writer = bytestream->Write(&ctx, &resp);
  bs::WriteRequest req;
  req.set_resource_name(write_name(d));
  req.set_data(frame.substr(0, 1000));
  writer->Write(req);
  bs::WriteRequest next;
  next.set_write_offset(200000);
  next.set_data(frame.substr(1000));
  next.set_finish_write(true);
  writer->Write(next);
  writer->WritesDone();
  const auto st = writer->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  EXPECT_FALSE(stored(d));
}

TEST_F(CompressedBlobs, Z11_BrokenCompressedUploadResumesAtTheBlobOffset) {
  const std::string data = source_like_text(600000);
  const auto d = reapi::digest_of(data);
  const int64_t half = 250000;
  const std::string first = zstd_frame(data.substr(0, static_cast<size_t>(half)));
  int64_t committed = 0;
  // The first stream sends a frame of the first part and hangs up without finish_write.
  EXPECT_FALSE(write_pieces(*bytestream, write_name(d), {first}, 0, &committed, false).ok());
  grpc::ClientContext qctx;
  bs::QueryWriteStatusRequest q;
  q.set_resource_name(write_name(d));
  bs::QueryWriteStatusResponse qr;
  ASSERT_TRUE(bytestream->QueryWriteStatus(&qctx, q, &qr).ok());
  EXPECT_FALSE(qr.complete());
  EXPECT_EQ(qr.committed_size(), half); // blob bytes: where the next stream starts
  // The second stream starts at that blob offset with a frame of the rest.
  const std::string rest = zstd_frame(data.substr(static_cast<size_t>(half)));
  const auto st =
      write_pieces(*bytestream, write_name(d), split_pieces(rest, 30000), half, &committed);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(committed, half + static_cast<int64_t>(rest.size()));
  grpc::Status rst;
  EXPECT_TRUE(read_raw(*bytestream, read_name(d, Compressor::identity), 0, 0, &rst) == data);
  // A plain upload under the same id is another upload: it does not see the compressed one.
  grpc::ClientContext pctx;
  q.set_resource_name(write_name(reapi::digest_of("other"), Compressor::identity));
  EXPECT_EQ(bytestream->QueryWriteStatus(&pctx, q, &qr).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(CompressedBlobs, Z12_SeveralFramesInOneUpload) {
  const std::string data = source_like_text(300000);
  const auto d = reapi::digest_of(data);
  const std::string frames =
      zstd_frame(data.substr(0, 100000)) + zstd_frame(data.substr(100000), false);
  int64_t committed = 0;
  const auto st =
      write_pieces(*bytestream, write_name(d), split_pieces(frames, 7777), 0, &committed);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_TRUE(stored(d));
}

// A server run with --no-compressed-blobs, or whose range stops at 2.0, offers nothing and
// refuses compressed names: a 2.0 client never sees them.
class CompressionOff : public CompressedBlobs {
protected:
  std::vector<std::string> server_args() const override { return {"--no-compressed-blobs"}; }
};
class Version20Only : public CompressedBlobs {
protected:
  std::vector<std::string> server_args() const override { return {"--api-versions", "2.0"}; }
};

void expect_nothing_offered(CompressedBlobs& t,
                            std::vector<int> list,
                            bs::ByteStream::Stub& stub,
                            const v2::Digest& d) {
  (void)t;
  EXPECT_TRUE(list.empty());
  grpc::Status st;
  read_raw(stub, reapi::read_resource("", d, Compressor::zstd), 0, 0, &st);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
  int64_t committed = 0;
  st = write_pieces(stub,
                    reapi::write_resource("", k_uuid, d, Compressor::zstd),
                    {zstd_frame("stored")},
                    0,
                    &committed);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
}

TEST_F(CompressionOff, Z13_NotOfferedNotServed) {
  expect_nothing_offered(*this, advertised(), *bytestream, put("stored"));
}

TEST_F(Version20Only, Z14_A20ServerOffersNoCompression) {
  expect_nothing_offered(*this, advertised(), *bytestream, put("stored"));
}

} // namespace
} // namespace ccrex::test
