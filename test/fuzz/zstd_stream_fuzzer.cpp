// Fuzz the streaming zstd decompressor the ByteStream service runs on client uploads. The
// first two bytes choose the output limit and where the input is split in two pieces (as
// two WriteRequests would carry it). Whatever the bytes, the decompressor must never hand
// its sink more than the limit, and what it reports as produced must be what the sink got.

#include "fuzz_check.h"
#include "reapi/compression.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) {
    return 0;
  }
  const int64_t limit = int64_t{data[0]} * 1024;
  const size_t split = std::min<size_t>(data[1], size - 2);
  const std::string_view input(reinterpret_cast<const char*>(data + 2), size - 2);
  ccrex::reapi::ZstdDecompressor zstd;
  int64_t received = 0;
  const auto sink = [&](std::string_view bytes) -> ccrex::util::Status {
    FUZZ_CHECK(!bytes.empty());
    FUZZ_CHECK(bytes.size() <= ccrex::reapi::k_zstd_out_chunk);
    received += static_cast<int64_t>(bytes.size());
    FUZZ_CHECK(received <= limit);
    return {};
  };
  if (zstd.decompress(input.substr(0, split), limit, sink)) {
    (void)zstd.decompress(input.substr(split), limit, sink);
  }
  FUZZ_CHECK(zstd.produced() <= limit + 1);
  FUZZ_CHECK(received <= zstd.produced());
  return 0;
}
