// Fuzz the client/agent frame decoders: any bytes must be rejected cleanly or decode to a
// message that encodes back to exactly the same frame (the format has one encoding per
// message), and the header decoder must agree with the full decoders.

#include "fuzz_check.h"
#include "protocol/messages.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

using namespace ccrex::protocol;

void check_frame(std::string_view frame) {
  auto request = decode_request(frame);
  auto reply = decode_reply(frame);
  if (request.has_value() || reply.has_value()) {
    // A frame both decoders accept would need the same payload to be valid for two
    // different layouts; whichever accepted it must reproduce the bytes.
    auto header = decode_header(frame);
    FUZZ_CHECK(header.has_value());
    FUZZ_CHECK(header->version == k_protocol_version);
    FUZZ_CHECK(header->payload_size == frame.size() - k_header_size);
  }
  if (request.has_value()) {
    FUZZ_CHECK(encode_request(*request) == frame);
    auto again = decode_request_payload(frame.substr(k_header_size));
    FUZZ_CHECK(again.has_value() && *again == *request);
  }
  if (reply.has_value()) {
    FUZZ_CHECK(encode_reply(*reply) == frame);
    auto again = decode_reply_payload(frame.substr(k_header_size));
    FUZZ_CHECK(again.has_value() && *again == *reply);
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  check_frame(bytes);
  // Most random inputs fail at the magic or the size field; also try the bytes as a
  // payload behind a valid header so the fuzzer reaches the message layouts directly.
  if (size <= 4096) {
    std::string frame = "CCRX";
    for (uint32_t v : {k_protocol_version, static_cast<uint32_t>(size)}) {
      for (int shift = 0; shift < 32; shift += 8) {
        frame += static_cast<char>((v >> shift) & 0xffU);
      }
    }
    frame += bytes;
    check_frame(frame);
  }
  return 0;
}
