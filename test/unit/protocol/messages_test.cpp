#include "protocol/messages.h"

#include <gtest/gtest.h>

#include <string>

namespace ccrex::protocol {
namespace {

Request sample_request() {
  Request r;
  r.kind = RequestKind::compile;
  r.argv = {"/usr/bin/gcc", "-c", "a.c", "-o", "a.o", ""};
  r.cwd = "/home/user/project";
  r.env = {"PATH=/usr/bin:/bin", "EMPTY=", std::string("BIN=\0\xff\x01", 7)};
  r.umask = 027;
  return r;
}

Reply text_reply() {
  Reply r;
  r.kind = ReplyKind::text;
  r.out = "stats\n";
  r.err = "warning\n";
  r.exit_code = 3;
  return r;
}

void put_u32(std::string& s, size_t at, uint32_t v) {
  for (size_t i = 0; i < 4; ++i) {
    s[at + i] = static_cast<char>((v >> (8 * i)) & 0xFFU);
  }
}

TEST(Messages, RequestRoundTrip) {
  const Request r = sample_request();
  auto decoded = decode_request(encode_request(r));
  ASSERT_TRUE(decoded) << decoded.error().to_string();
  EXPECT_EQ(*decoded, r);

  Request admin;
  admin.kind = RequestKind::admin;
  admin.argv = {"-s"};
  auto decoded_admin = decode_request(encode_request(admin));
  ASSERT_TRUE(decoded_admin);
  EXPECT_EQ(*decoded_admin, admin);
}

TEST(Messages, UmaskOutsideThePermissionBitsIsRejected) {
  Request r = sample_request();
  r.umask = 0777;
  EXPECT_TRUE(decode_request(encode_request(r)));
  r.umask = 01000;
  const auto decoded = decode_request(encode_request(r));
  ASSERT_FALSE(decoded);
  EXPECT_NE(decoded.error().message().find("umask"), std::string::npos);
}

TEST(Messages, ReplyRoundTripEveryKind) {
  Reply done;
  done.kind = ReplyKind::done;
  done.exit_code = -7;
  Reply local;
  local.kind = ReplyKind::run_locally;
  local.reason = "unsupported option -E";
  Reply working;
  working.kind = ReplyKind::working;
  for (const Reply& r : {done, local, text_reply(), working}) {
    auto decoded = decode_reply(encode_reply(r));
    ASSERT_TRUE(decoded) << decoded.error().to_string();
    EXPECT_EQ(*decoded, r);
  }
}

TEST(Messages, WorkingCarriesNothing) {
  Reply working;
  working.kind = ReplyKind::working;
  EXPECT_EQ(encode_reply(working).size(), k_header_size + 4);
  std::string trailing = encode_reply(working) + "x";
  trailing[8] = 5; // payload size covers the extra byte
  EXPECT_FALSE(decode_reply(trailing));
}

TEST(Messages, HeaderLayoutIsFixed) {
  const std::string frame = encode_reply(Reply{ReplyKind::done, 1, "", "", ""});
  ASSERT_EQ(frame.size(), k_header_size + 8);
  EXPECT_EQ(frame.substr(0, 4), "CCRX");
  auto header = decode_header(frame);
  ASSERT_TRUE(header);
  EXPECT_EQ(header->version, k_protocol_version);
  EXPECT_EQ(header->payload_size, 8U);
  // Kind 1 (done) then exit code 1, little-endian.
  EXPECT_EQ(frame.substr(12), std::string("\x01\0\0\0\x01\0\0\0", 8));
}

TEST(Messages, EveryTruncationIsRejected) {
  const std::string req = encode_request(sample_request());
  for (size_t n = 0; n < req.size(); ++n) {
    EXPECT_FALSE(decode_request(req.substr(0, n))) << "length " << n;
  }
  const std::string rep = encode_reply(text_reply());
  for (size_t n = 0; n < rep.size(); ++n) {
    EXPECT_FALSE(decode_reply(rep.substr(0, n))) << "length " << n;
  }
}

TEST(Messages, TruncatedPayloadWithConsistentHeaderIsRejected) {
  // Shorten the payload and fix up the header so only the payload parser can notice.
  const std::string req = encode_request(sample_request());
  const std::string payload = req.substr(k_header_size);
  for (size_t n = 0; n < payload.size(); ++n) {
    EXPECT_FALSE(decode_request_payload(payload.substr(0, n))) << "length " << n;
  }
}

TEST(Messages, TrailingBytesAreRejected) {
  std::string req = encode_request(sample_request());
  req += 'x';
  put_u32(req, 8, static_cast<uint32_t>(req.size() - k_header_size));
  EXPECT_FALSE(decode_request(req));
  EXPECT_FALSE(decode_request_payload(req.substr(k_header_size)));
}

TEST(Messages, WrongMagicAndVersionAreRejected) {
  std::string req = encode_request(sample_request());
  std::string bad_magic = req;
  bad_magic[0] = 'X';
  EXPECT_FALSE(decode_header(bad_magic));
  EXPECT_FALSE(decode_request(bad_magic));

  std::string other_version = req;
  put_u32(other_version, 4, k_protocol_version + 1);
  auto header = decode_header(other_version);
  ASSERT_TRUE(header);
  EXPECT_EQ(header->version, k_protocol_version + 1);
  EXPECT_FALSE(decode_request(other_version));
}

TEST(Messages, OversizedPayloadIsRejectedByHeader) {
  std::string frame = encode_reply(text_reply());
  put_u32(frame, 8, k_max_payload_size + 1);
  auto header = decode_header(frame);
  ASSERT_FALSE(header);
  put_u32(frame, 8, k_max_payload_size);
  EXPECT_TRUE(decode_header(frame));
  EXPECT_FALSE(decode_reply(frame)); // size disagrees with the bytes present
}

TEST(Messages, OversizedCountsAreRejected) {
  // kind=compile, argv count huge.
  std::string payload(8, '\0');
  put_u32(payload, 0, 1);
  put_u32(payload, 4, k_max_list_size + 1);
  auto r = decode_request_payload(payload);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("limit"), std::string::npos);

  // A count within the limit but larger than the remaining bytes can hold.
  put_u32(payload, 4, 1000);
  EXPECT_FALSE(decode_request_payload(payload));

  // A string length beyond the buffer.
  std::string s(12, '\0');
  put_u32(s, 0, 2); // run_locally
  put_u32(s, 4, 0xFFFFFFFFU);
  EXPECT_FALSE(decode_reply_payload(s));
}

TEST(Messages, UnknownKindsAreRejected) {
  std::string payload(4, '\0');
  put_u32(payload, 0, 0);
  EXPECT_FALSE(decode_request_payload(payload));
  EXPECT_FALSE(decode_reply_payload(payload));
  put_u32(payload, 0, 99);
  EXPECT_FALSE(decode_request_payload(payload));
  EXPECT_FALSE(decode_reply_payload(payload));
}

TEST(Messages, ListAtTheLimitIsAccepted) {
  Request r;
  r.kind = RequestKind::admin;
  r.argv.assign(k_max_list_size, "a");
  auto decoded = decode_request(encode_request(r));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->argv.size(), k_max_list_size);
  r.argv.emplace_back("b");
  EXPECT_FALSE(decode_request(encode_request(r)));
}

TEST(Messages, MutatedFramesFailOrDecodeCanonically) {
  // Mutate single bytes of valid frames. The decoders must not crash, and whatever they
  // accept must be the unique encoding of the decoded value (no ignored bytes anywhere).
  const std::string req = encode_request(sample_request());
  const std::string rep = encode_reply(text_reply());
  for (const std::string& frame : {req, rep}) {
    for (size_t i = 0; i < frame.size(); ++i) {
      for (int v : {0x00, 0x01, 0x7F, 0xFF}) {
        std::string m = frame;
        m[i] = static_cast<char>(v);
        if (auto r = decode_request(m)) {
          EXPECT_EQ(encode_request(*r), m) << "byte " << i;
        }
        if (auto r = decode_reply(m)) {
          EXPECT_EQ(encode_reply(*r), m) << "byte " << i;
        }
      }
    }
  }
}

} // namespace
} // namespace ccrex::protocol
