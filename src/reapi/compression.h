#pragma once

// Compressed blob transfers (REAPI 2.1 and later): the Compressor values, the capability
// field that announces them, and streaming zstd in both directions with bounded memory.
//
// The packaged REAPI protos predate compression, so CacheCapabilities has no
// `supported_compressors` member in the generated code; it is field 6 on the wire, and the
// two functions below read and write it as an unknown field. ByteStream names with
// `compressed-blobs/{compressor}/` in place of `blobs/` are parsed and built here; the
// plain grammar stays in digest.h, which these functions delegate to.
//
// ZstdCompressor and ZstdDecompressor each hold one zstd context (a few MiB at most: the
// decompressor refuses frames whose window is above k_zstd_max_window_log, which no
// standard compression level below 20 produces). Data passes through in pieces; neither
// ever holds a whole blob.
//
// Thread safety: the free functions are pure; each stream object is used by one thread.

#include "reapi/digest.h"
#include "reapi/proto.h"
#include "util/result.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

struct ZSTD_CCtx_s;
struct ZSTD_DCtx_s;

namespace ccrex::reapi {

// Compressor.Value of REAPI 2.1+ (IDENTITY means no compression and is never named).
enum class Compressor : int { identity = 0, zstd = 1, deflate = 2, brotli = 3 };

// Return the compressor a resource name segment names ("zstd", "deflate", "brotli"), or
// nothing for anything else ("identity" included: the spec forbids it in names).
std::optional<Compressor> compressor_from_name(std::string_view name);
// Return the resource name segment of `c` ("zstd"); "identity" for identity.
std::string_view compressor_name(Compressor c);

// A ByteStream resource name and the compressor it names.
struct BlobResource {
  ResourceName name;
  // identity for "blobs/", else the compressor of "compressed-blobs/{compressor}/". Any
  // compressor the spec names parses; whether it is offered is the caller's decision.
  Compressor compressor = Compressor::identity;
};

// Parse a read resource name: digest.h's plain form, or
// "{instance}/compressed-blobs/{compressor}/{hash}/{size}" (the digest of the uncompressed
// blob).
util::Result<BlobResource> parse_blob_read_resource(std::string_view name);
// Parse a write resource name: digest.h's plain form, or
// "{instance}/uploads/{uuid}/compressed-blobs/{compressor}/{hash}/{size}{/metadata}".
util::Result<BlobResource> parse_blob_write_resource(std::string_view name);
// Build the read (write) resource name of `d` compressed with `c` (plain for identity).
std::string read_resource(std::string_view instance, const v2::Digest& d, Compressor c);
std::string
write_resource(std::string_view instance, std::string_view uuid, const v2::Digest& d, Compressor c);

// Return the values in `cache`'s supported_compressors (field 6), packed or not, in order.
std::vector<int> supported_compressors(const v2::CacheCapabilities& cache);
// Append `c` to `cache`'s supported_compressors.
void add_supported_compressor(v2::CacheCapabilities& cache, Compressor c);

// The level ccrex compresses at: zstd's fastest regular level, as other REAPI caches use;
// on a link slow enough for compression to matter, a higher level costs more CPU time than
// the few percent of bytes it saves.
inline constexpr int k_zstd_level = 1;
// Largest window (log2 bytes) a decompressor accepts: 8 MiB, the window of zstd's level 19.
inline constexpr int k_zstd_max_window_log = 23;
// Bytes a decompressor hands its sink at a time.
inline constexpr size_t k_zstd_out_chunk = size_t{128} << 10;

// Return the most compressed bytes a frame of `size` bytes can take, with room for a few
// frames' headers: a bound on what a compressed upload of `size` bytes may send.
int64_t zstd_bound(int64_t size);

// Compresses one frame in pieces.
class ZstdCompressor {
public:
  explicit ZstdCompressor(int level = k_zstd_level);
  ~ZstdCompressor();
  ZstdCompressor(const ZstdCompressor&) = delete;
  ZstdCompressor& operator=(const ZstdCompressor&) = delete;

  // Declare that the next frame holds `size` bytes (written into its header, and a small
  // input gets a small window). Call before the frame's first compress().
  void set_pledged_size(int64_t size);
  // Compress `in`, appending what zstd emits to `out`; `last` ends the frame (then the
  // object starts a new frame on the next call).
  util::Status compress(std::string_view in, bool last, std::string& out);

private:
  ZSTD_CCtx_s* m_ctx;
};

// Decompresses a sequence of frames in pieces, never producing more than it is allowed to.
class ZstdDecompressor {
public:
  using Sink = std::function<util::Status(std::string_view)>;

  ZstdDecompressor();
  ~ZstdDecompressor();
  ZstdDecompressor(const ZstdDecompressor&) = delete;
  ZstdDecompressor& operator=(const ZstdDecompressor&) = delete;

  // Decompress `in`, passing the output to `sink` in pieces of at most k_zstd_out_chunk
  // bytes. Fails (invalid_argument) on a malformed frame, on a frame declaring more
  // content than `limit` allows, and as soon as the output would pass `limit` bytes in all
  // (so at most one byte more than `limit` is ever produced, never handed to `sink`). A
  // sink error stops the call and is returned.
  util::Status decompress(std::string_view in, int64_t limit, const Sink& sink);
  // Whether the input so far ended exactly at the end of a frame (false before any input).
  bool at_frame_end() const { return m_frame_end; }
  // Bytes produced so far.
  int64_t produced() const { return m_produced; }

private:
  ZSTD_DCtx_s* m_ctx;
  std::string m_out;
  int64_t m_produced = 0;
  bool m_frame_end = false;
  bool m_started = false;
};

} // namespace ccrex::reapi
