#pragma once

// Blob compression in the store: how a blob's content becomes one zstd frame on disk and
// back, through fixed buffers only, so that neither direction ever holds a whole blob in
// memory.
//
// A stored frame always records its content size and a content checksum. Reading checks
// the declared size against the blob's digest before decompressing anything, then the
// checksum, and hashes what it decompressed against the digest: a damaged or forged file
// (a flipped bit, a truncated frame, a frame larger than its blob, trailing bytes, another
// blob's frame) reads as data_loss, and the decoder never allocates more than the blob's
// own size plus a block.
//
// Thread safety: the functions are reentrant; one BlobReader belongs to one thread.

#include "util/result.h"
#include "util/sha256.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace ccrex::server {

// The zstd levels a store accepts; 0 means that the store writes blobs uncompressed.
// Level 19 is the highest whose window fits the decoder's limit (8 MiB).
constexpr int k_min_compression_level = -5;
constexpr int k_max_compression_level = 19;
// ccache's default level: fast enough that a hit does not notice it (README, Performance).
constexpr int k_default_compression_level = 1;

// Parse a compression level: an integer from k_min_compression_level to
// k_max_compression_level (0 included); invalid_argument otherwise.
util::Result<int> parse_compression_level(std::string_view text);

// Return whether a blob of `size` bytes is worth compressing: small blobs save a few bytes
// at the cost of the fast raw copy.
bool worth_compressing(int64_t size);
// Return whether a frame of `compressed` bytes pays for itself against `raw` bytes.
bool compression_pays(int64_t raw, int64_t compressed);

// Result of compressing a stream: the digest of what was read, and the frame's size.
struct CompressedCopy {
  util::Digest digest;
  int64_t compressed_size = 0;
};

// Read the regular file `from` (of `size` bytes) to its end and write it to `to` as one
// frame at `level`; `what` names the source in errors. Fails when the file is not `size`
// bytes long.
util::Result<CompressedCopy>
compress_file(int from, int64_t size, int to, int level, const std::string& what);
// Write `data` to `to` as one frame at `level`; return the frame's size.
util::Result<int64_t> compress_data(std::string_view data, int to, int level);

// Sequential reader of a blob's content from its file in the store, stored raw or as a
// frame. Every read either returns correct bytes or fails with data_loss.
class BlobReader {
public:
  // Open the file at `path` holding blob `d`; `compressed` says whether it is a frame.
  // not_found when the file is gone; data_loss when its header disagrees. A raw file is
  // trusted as the store trusts it (verified when it entered); a frame's content is
  // hashed as it is read.
  static util::Result<std::unique_ptr<BlobReader>>
  open(const std::string& path, bool compressed, const util::Digest& d);
  ~BlobReader();
  BlobReader(const BlobReader&) = delete;
  BlobReader& operator=(const BlobReader&) = delete;

  // Fill `buf` with up to `n` bytes of the content; 0 only at its end. The read that
  // reaches the end also checks the frame's end, its checksum and the content's digest.
  util::Result<size_t> read(char* buf, size_t n);
  // Skip `n` bytes of the content (a ByteStream read_offset).
  util::Status skip(int64_t n);
  // Bytes of content not read yet.
  int64_t remaining() const { return m_size - m_done; }
  // Call `fn` once, the first time a read finds the content damaged (the store removes the
  // file then).
  void on_damage(std::function<void()> fn) { m_on_damage = std::move(fn); }

private:
  BlobReader(int fd, bool compressed, util::Digest d);
  util::Result<size_t> read_raw(char* buf, size_t n);
  util::Result<size_t> read_frame(char* buf, size_t n);
  // Fill the input buffer if it is empty; false at the end of the file.
  util::Result<bool> refill();
  // After the last byte of content: the frame must end, with its checksum, and the file too.
  util::Status finish_frame();
  util::Error corrupt(const std::string& why);

  struct Frame;
  int m_fd;
  bool m_compressed;
  util::Digest m_digest;
  int64_t m_size;
  int64_t m_done = 0;
  std::unique_ptr<Frame> m_frame;
  std::function<void()> m_on_damage;
};

// Write the blob `reader` reads into the new file `dest`, then give it `mode`; remove
// `dest` on any failure (data_loss for a damaged frame).
util::Status write_blob_to(BlobReader& reader, const std::string& dest, unsigned mode);

} // namespace ccrex::server
