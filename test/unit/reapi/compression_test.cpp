// The zstd stream objects and the capability field behind compressed transfers: round trips
// in pieces, the output bound (a frame producing more than allowed stops one byte past the
// limit), broken input, and CacheCapabilities.supported_compressors read packed and
// unpacked, which decides whether a client may use compressed names at all.

#include "reapi/capabilities.h"
#include "reapi/compression.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ccrex::reapi {
namespace {

std::string text(size_t size) {
  std::string out;
  for (size_t i = 0; out.size() < size; ++i) {
    out += "int value_" + std::to_string(i % 1000) + " = " + std::to_string(i * 31 % 977) + ";\n";
  }
  out.resize(size);
  return out;
}

std::string compress_in_pieces(const std::string& data, size_t piece) {
  ZstdCompressor zstd;
  std::string out;
  for (size_t at = 0; at < data.size(); at += piece) {
    EXPECT_TRUE(zstd.compress(std::string_view(data).substr(at, piece), false, out));
  }
  EXPECT_TRUE(zstd.compress({}, true, out));
  return out;
}

TEST(ReapiCompression, RoundTripInPieces) {
  const std::string data = text(1 << 20);
  const std::string packed = compress_in_pieces(data, 10000);
  EXPECT_LT(packed.size(), data.size() / 4);
  ZstdDecompressor zstd;
  std::string back;
  for (size_t at = 0; at < packed.size(); at += 333) {
    ASSERT_TRUE(zstd.decompress(
        std::string_view(packed).substr(at, 333), 1 << 20, [&](std::string_view b) -> util::Status {
          EXPECT_LE(b.size(), k_zstd_out_chunk);
          back.append(b);
          return {};
        }));
  }
  EXPECT_TRUE(zstd.at_frame_end());
  EXPECT_EQ(zstd.produced(), int64_t{1} << 20);
  EXPECT_TRUE(back == data);
}

TEST(ReapiCompression, OutputStopsOneBytePastTheLimit) {
  const std::string data(10 << 20, '\0');
  const std::string packed = compress_in_pieces(data, 1 << 20); // no size in the header
  ZstdDecompressor zstd;
  int64_t handed = 0;
  auto st = zstd.decompress(packed, 1000, [&](std::string_view b) -> util::Status {
    handed += static_cast<int64_t>(b.size());
    return {};
  });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), util::ErrorCode::invalid_argument);
  EXPECT_EQ(zstd.produced(), 1001);
  EXPECT_LE(handed, 1000); // the piece that passed the limit is never handed over
}

TEST(ReapiCompression, DeclaredSizeAboveTheLimitIsRefusedUpFront) {
  ZstdCompressor c;
  c.set_pledged_size(5000);
  std::string packed;
  ASSERT_TRUE(c.compress(text(5000), true, packed));
  ZstdDecompressor zstd;
  int64_t handed = 0;
  EXPECT_FALSE(zstd.decompress(packed, 4999, [&](std::string_view b) -> util::Status {
    handed += static_cast<int64_t>(b.size());
    return {};
  }));
  EXPECT_EQ(handed, 0);
}

TEST(ReapiCompression, GarbageAndTruncationAreSeen) {
  ZstdDecompressor garbage;
  const auto ignore = [](std::string_view) -> util::Status { return {}; };
  EXPECT_FALSE(garbage.decompress(std::string(100, 'x'), 1000, ignore));
  const std::string packed = compress_in_pieces(text(100000), 4096);
  ZstdDecompressor cut;
  EXPECT_TRUE(cut.decompress(packed.substr(0, packed.size() - 3), 100000, ignore));
  EXPECT_FALSE(cut.at_frame_end());
}

TEST(ReapiCompression, SinkErrorsStopDecompression) {
  const std::string packed = compress_in_pieces(text(500000), 4096);
  ZstdDecompressor zstd;
  int calls = 0;
  auto st = zstd.decompress(packed, 500000, [&](std::string_view) -> util::Status {
    ++calls;
    return util::io_error("disk full");
  });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message(), "disk full");
  EXPECT_EQ(calls, 1);
}

const std::string k_zstd_hash(64, 'a');

TEST(ReapiCompressedNames, ParseBothForms) {
  auto r = parse_blob_read_resource("inst/compressed-blobs/zstd/" + k_zstd_hash + "/9");
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->name.instance_name, "inst");
  EXPECT_EQ(r->compressor, Compressor::zstd);
  EXPECT_EQ(r->name.digest.size_bytes(), 9);
  auto w =
      parse_blob_write_resource("a/b/uploads/u-2/compressed-blobs/deflate/" + k_zstd_hash + "/9/m");
  ASSERT_TRUE(w) << w.error().message();
  EXPECT_EQ(w->name.instance_name, "a/b");
  EXPECT_EQ(w->name.upload_uuid, "u-2");
  EXPECT_EQ(w->compressor, Compressor::deflate);
  auto plain = parse_blob_read_resource("blobs/" + k_zstd_hash + "/9");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->compressor, Compressor::identity);
  // "compressed-blobs" in a plain upload's metadata is metadata.
  auto meta =
      parse_blob_write_resource("uploads/u/blobs/" + k_zstd_hash + "/9/compressed-blobs/zstd");
  ASSERT_TRUE(meta);
  EXPECT_EQ(meta->compressor, Compressor::identity);
}

TEST(ReapiCompressedNames, RejectMalformed) {
  for (const std::string& bad :
       std::vector<std::string>{"compressed-blobs/" + k_zstd_hash + "/1",
                                "compressed-blobs/gzip/" + k_zstd_hash + "/1",
                                "compressed-blobs/identity/" + k_zstd_hash + "/1",
                                "compressed-blobs/zstd/" + k_zstd_hash,
                                "compressed-blobs/zstd/" + k_zstd_hash + "/1/x",
                                "compressed-blobs",
                                "x/compressed-blobs/zstd/ABC/1"}) {
    EXPECT_FALSE(parse_blob_read_resource(bad)) << bad;
  }
  for (const std::string& bad :
       std::vector<std::string>{"uploads/u/compressed-blobs/" + k_zstd_hash + "/1",
                                "uploads/u/compressed-blobs/lz4/" + k_zstd_hash + "/1",
                                "uploads//compressed-blobs/zstd/" + k_zstd_hash + "/1",
                                "uploads/u/compressed-blobs/zstd/" + k_zstd_hash}) {
    EXPECT_FALSE(parse_blob_write_resource(bad)) << bad;
  }
}

TEST(ReapiCompressedNames, BuildAndParseBack) {
  const auto d = digest_of("content");
  EXPECT_EQ(read_resource("a", d, Compressor::zstd), "a/compressed-blobs/zstd/" + to_string(d));
  EXPECT_EQ(read_resource("a", d, Compressor::identity), read_resource("a", d));
  EXPECT_EQ(write_resource("", "id", d, Compressor::zstd),
            "uploads/id/compressed-blobs/zstd/" + to_string(d));
  const auto back = parse_blob_write_resource(write_resource("a/b", "id", d, Compressor::brotli));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->compressor, Compressor::brotli);
  EXPECT_EQ(back->name.instance_name, "a/b");
  EXPECT_EQ(back->name.digest.hash(), d.hash());
}

v2::ServerCapabilities capabilities(int low_minor, int high_minor) {
  v2::ServerCapabilities caps;
  caps.mutable_cache_capabilities()->add_digest_function(v2::DigestFunction::SHA256);
  caps.mutable_low_api_version()->set_major(2);
  caps.mutable_low_api_version()->set_minor(low_minor);
  caps.mutable_high_api_version()->set_major(2);
  caps.mutable_high_api_version()->set_minor(high_minor);
  return caps;
}

TEST(ReapiCapabilities, SupportedCompressorsSurviveTheWire) {
  auto caps = capabilities(0, 2);
  add_supported_compressor(*caps.mutable_cache_capabilities(), Compressor::deflate);
  add_supported_compressor(*caps.mutable_cache_capabilities(), Compressor::zstd);
  v2::ServerCapabilities parsed;
  ASSERT_TRUE(parsed.ParseFromString(caps.SerializeAsString()));
  EXPECT_EQ(supported_compressors(parsed.cache_capabilities()), (std::vector<int>{2, 1}));
  EXPECT_TRUE(check_capabilities(parsed).zstd_blobs);
}

TEST(ReapiCapabilities, PackedSupportedCompressorsAreRead) {
  // Field 6, length-delimited, values 3 and 1: how proto3 encoders send the list.
  auto caps = capabilities(0, 2);
  v2::CacheCapabilities cache;
  cache.add_digest_function(v2::DigestFunction::SHA256);
  std::string cache_wire = cache.SerializeAsString() + std::string("\x32\x02\x03\x01", 4);
  v2::CacheCapabilities parsed;
  ASSERT_TRUE(parsed.ParseFromString(cache_wire));
  EXPECT_EQ(supported_compressors(parsed), (std::vector<int>{3, 1}));
  *caps.mutable_cache_capabilities() = parsed;
  EXPECT_TRUE(check_capabilities(caps).zstd_blobs);
}

TEST(ReapiCapabilities, NoZstdForEnginesWithoutItOr20Only) {
  EXPECT_FALSE(check_capabilities(capabilities(0, 2)).zstd_blobs);
  auto old = capabilities(0, 0);
  add_supported_compressor(*old.mutable_cache_capabilities(), Compressor::zstd);
  EXPECT_FALSE(check_capabilities(old).zstd_blobs); // a 2.0 engine never sees them
  auto deflate_only = capabilities(1, 2);
  add_supported_compressor(*deflate_only.mutable_cache_capabilities(), Compressor::deflate);
  EXPECT_FALSE(check_capabilities(deflate_only).zstd_blobs);
}

} // namespace
} // namespace ccrex::reapi
