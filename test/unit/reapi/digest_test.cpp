#include "reapi/digest.h"

#include <gtest/gtest.h>

namespace ccrex::reapi {
namespace {

const std::string k_hash(64, 'a');

TEST(Digest, Validation) {
  v2::Digest d;
  d.set_hash(k_hash);
  d.set_size_bytes(3);
  EXPECT_TRUE(validate(d));
  d.set_size_bytes(-1);
  EXPECT_FALSE(validate(d));
  d.set_size_bytes(1);
  d.set_hash(std::string(64, 'A'));
  EXPECT_FALSE(validate(d));
  EXPECT_TRUE(is_empty_blob(digest_of("")));
  EXPECT_FALSE(is_empty_blob(digest_of("x")));
}

TEST(ResourceName, ParsesReads) {
  auto rn = parse_read_resource("blobs/" + k_hash + "/42");
  ASSERT_TRUE(rn);
  EXPECT_EQ(rn->instance_name, "");
  EXPECT_EQ(rn->digest.size_bytes(), 42);
  rn = parse_read_resource("main/linux/blobs/" + k_hash + "/0");
  ASSERT_TRUE(rn);
  EXPECT_EQ(rn->instance_name, "main/linux");
}

TEST(ResourceName, ParsesWritesWithMetadata) {
  auto rn = parse_write_resource("inst/uploads/u-1/blobs/" + k_hash + "/7/some/meta");
  ASSERT_TRUE(rn);
  EXPECT_EQ(rn->instance_name, "inst");
  EXPECT_EQ(rn->upload_uuid, "u-1");
  EXPECT_EQ(rn->digest.hash(), k_hash);
  EXPECT_EQ(rn->digest.size_bytes(), 7);
}

TEST(ResourceName, RejectsMalformed) {
  for (const std::string& bad : std::vector<std::string>{std::string(),
                                                         std::string("blobs"),
                                                         "blobs/" + k_hash,
                                                         "blobs/" + k_hash + "/x",
                                                         "blobs/" + k_hash + "/1/extra",
                                                         "blobs/ABC/1",
                                                         "compressed-blobs/zstd/" + k_hash + "/1",
                                                         "blobs/blake3/" + k_hash + "/1"}) {
    EXPECT_FALSE(parse_read_resource(bad)) << bad;
  }
  for (const std::string& bad :
       std::vector<std::string>{"uploads/u/blobs/" + k_hash,
                                "uploads//blobs/" + k_hash + "/1",
                                "blobs/" + k_hash + "/1",
                                "x/blobs/uploads/u/blobs/" + k_hash + "/1"}) {
    EXPECT_FALSE(parse_write_resource(bad)) << bad;
  }
}

TEST(ResourceName, RoundTrip) {
  const auto d = digest_of("content");
  EXPECT_EQ(parse_read_resource(read_resource("a/b", d))->digest.hash(), d.hash());
  const auto w = parse_write_resource(write_resource("", "id", d));
  ASSERT_TRUE(w);
  EXPECT_EQ(w->upload_uuid, "id");
  EXPECT_EQ(w->instance_name, "");
}

TEST(StatusMapping, KeepsCodes) {
  const auto g = to_grpc(util::not_found("x"));
  EXPECT_EQ(g.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(from_grpc(grpc::Status(grpc::StatusCode::UNAVAILABLE, "down")).code(),
            util::ErrorCode::unavailable);
  EXPECT_EQ(from_grpc(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "slow")).message(), "slow");
}

} // namespace
} // namespace ccrex::reapi
