// Fuzz ByteStream resource-name parsing, plain and compressed-blobs names. A name that
// parses must carry a valid digest and a compressor the spec names, and must survive a
// round trip: rebuilding it with read_resource()/write_resource() gives a name that parses
// to the same instance, upload id, digest and compressor.

#include "fuzz_check.h"
#include "reapi/compression.h"
#include "reapi/digest.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

using namespace ccrex::reapi;

bool same_digest(const v2::Digest& a, const v2::Digest& b) {
  return a.hash() == b.hash() && a.size_bytes() == b.size_bytes();
}

void check_read(std::string_view name) {
  auto any = parse_blob_read_resource(name);
  if (!any.has_value()) {
    FUZZ_CHECK(!parse_read_resource(name).has_value()); // every plain name parses both ways
    return;
  }
  const auto* parsed = &any->name;
  const Compressor compressor = any->compressor;
  FUZZ_CHECK(validate(parsed->digest).has_value());
  FUZZ_CHECK(parsed->upload_uuid.empty());
  FUZZ_CHECK(compressor == Compressor::identity
             || compressor_from_name(compressor_name(compressor)) == compressor);
  const std::string rebuilt = read_resource(parsed->instance_name, parsed->digest, compressor);
  auto again = parse_blob_read_resource(rebuilt);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(again->name.instance_name == parsed->instance_name);
  FUZZ_CHECK(same_digest(again->name.digest, parsed->digest));
  FUZZ_CHECK(again->compressor == compressor);
  // The canonical form is a fixed point.
  FUZZ_CHECK(read_resource(again->name.instance_name, again->name.digest, again->compressor)
             == rebuilt);
}

void check_write(std::string_view name) {
  auto any = parse_blob_write_resource(name);
  if (!any.has_value()) {
    FUZZ_CHECK(!parse_write_resource(name).has_value());
    return;
  }
  const auto* parsed = &any->name;
  const Compressor compressor = any->compressor;
  FUZZ_CHECK(validate(parsed->digest).has_value());
  FUZZ_CHECK(!parsed->upload_uuid.empty());
  FUZZ_CHECK(parsed->upload_uuid.find('/') == std::string::npos);
  const std::string rebuilt =
      write_resource(parsed->instance_name, parsed->upload_uuid, parsed->digest, compressor);
  auto again = parse_blob_write_resource(rebuilt);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(again->name.instance_name == parsed->instance_name);
  FUZZ_CHECK(again->name.upload_uuid == parsed->upload_uuid);
  FUZZ_CHECK(same_digest(again->name.digest, parsed->digest));
  FUZZ_CHECK(again->compressor == compressor);
  FUZZ_CHECK(
      write_resource(
          again->name.instance_name, again->name.upload_uuid, again->name.digest, again->compressor)
      == rebuilt);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view name(reinterpret_cast<const char*>(data), size);
  check_read(name);
  check_write(name);
  return 0;
}
