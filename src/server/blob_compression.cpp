#include "server/blob_compression.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <utility>
#include <vector>

namespace ccrex::server {
namespace {

constexpr size_t k_chunk = size_t{1} << 16;
// A blob smaller than this is stored raw: up to 4 KiB it fills one disk block on the usual
// file systems either way, and a raw blob can be hard-linked into an action's input root
// where a frame must be decompressed into a copy (staging.h).
constexpr int64_t k_min_compress_size = 4097;
// The decoder refuses frames whose window is larger (8 MiB, level 19's largest).
constexpr int k_window_log_max = 23;

util::Status write_all(int fd, const char* data, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0 && errno == EINTR) {
      continue;
    }
    if (w < 0) {
      return util::errno_error("write", errno);
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
  return {};
}

util::Result<size_t> read_some(int fd, char* buf, size_t n) {
  for (;;) {
    const ssize_t r = ::read(fd, buf, n);
    if (r < 0 && errno == EINTR) {
      continue;
    }
    if (r < 0) {
      return util::errno_error("read", errno);
    }
    return static_cast<size_t>(r);
  }
}

struct CCtxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DCtxFree {
  void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};
using CCtx = std::unique_ptr<ZSTD_CCtx, CCtxFree>;

util::Error zstd_error(const std::string& what, size_t code) {
  return {util::ErrorCode::internal, what + ": " + ZSTD_getErrorName(code)};
}

util::Result<CCtx> make_cctx(int level, int64_t size) {
  CCtx c(ZSTD_createCCtx());
  if (!c) {
    return util::Error(util::ErrorCode::resource_exhausted, "zstd: out of memory");
  }
  for (const auto& [param, value] : {std::pair{ZSTD_c_compressionLevel, level},
                                     std::pair{ZSTD_c_checksumFlag, 1},
                                     std::pair{ZSTD_c_contentSizeFlag, 1}}) {
    if (const size_t r = ZSTD_CCtx_setParameter(c.get(), param, value); ZSTD_isError(r)) {
      return zstd_error("zstd parameter", r);
    }
  }
  if (const size_t r = ZSTD_CCtx_setPledgedSrcSize(c.get(), static_cast<uint64_t>(size));
      ZSTD_isError(r)) {
    return zstd_error("zstd size", r);
  }
  return c;
}

// Compress `in` into `to` through the fixed buffer `out`; `end` finishes the frame. Return
// the bytes written.
util::Result<int64_t>
compress_chunk(ZSTD_CCtx* c, std::string_view in, bool end, std::vector<char>& out, int to) {
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  int64_t written = 0;
  for (;;) {
    ZSTD_outBuffer output{out.data(), out.size(), 0};
    const size_t left =
        ZSTD_compressStream2(c, &output, &input, end ? ZSTD_e_end : ZSTD_e_continue);
    if (ZSTD_isError(left)) {
      return zstd_error("zstd compress", left);
    }
    CCREX_TRY(write_all(to, out.data(), output.pos));
    written += static_cast<int64_t>(output.pos);
    const bool done = end ? left == 0 : input.pos == input.size;
    if (done) {
      return written;
    }
  }
}

} // namespace

util::Result<int> parse_compression_level(std::string_view text) {
  const bool negative = text.starts_with('-');
  const std::string_view digits = negative ? text.substr(1) : text;
  int value = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9' || value > 100) {
      value = -1000;
      break;
    }
    value = value * 10 + (c - '0');
  }
  value = negative ? -value : value;
  if (digits.empty() || value < k_min_compression_level || value > k_max_compression_level) {
    return util::invalid_argument("invalid compression level '" + std::string(text) + "' (expected "
                                  + std::to_string(k_min_compression_level) + " to "
                                  + std::to_string(k_max_compression_level) + ")");
  }
  return value;
}

bool worth_compressing(int64_t size) {
  return size >= k_min_compress_size;
}

bool compression_pays(int64_t raw, int64_t compressed) {
  // At least a sixteenth saved; otherwise the raw file reads (and copies) faster.
  return compressed <= raw - raw / 16;
}

util::Result<CompressedCopy>
compress_file(int from, int64_t size, int to, int level, const std::string& what) {
  CCREX_ASSIGN_OR_RETURN(auto c, make_cctx(level, size));
  util::Sha256 h;
  std::vector<char> in(k_chunk);
  std::vector<char> out(ZSTD_CStreamOutSize());
  CompressedCopy result;
  for (;;) {
    auto n = read_some(from, in.data(), in.size());
    if (!n) {
      return util::Error(n.error().code(), "read " + what + ": " + n.error().message());
    }
    const std::string_view chunk(in.data(), *n);
    h.update(chunk);
    result.digest.size += static_cast<int64_t>(*n);
    if (result.digest.size > size) {
      break;
    }
    CCREX_ASSIGN_OR_RETURN(const int64_t w, compress_chunk(c.get(), chunk, *n == 0, out, to));
    result.compressed_size += w;
    if (*n == 0) {
      break;
    }
  }
  if (result.digest.size != size) {
    return util::Error(util::ErrorCode::failed_precondition,
                       what + " changed size while it was stored");
  }
  result.digest.hash = h.finish();
  return result;
}

util::Result<int64_t> compress_data(std::string_view data, int to, int level) {
  CCREX_ASSIGN_OR_RETURN(auto c, make_cctx(level, static_cast<int64_t>(data.size())));
  std::vector<char> out(ZSTD_CStreamOutSize());
  int64_t written = 0;
  // Fed in chunks so that the output buffer stays fixed whatever the blob's size.
  for (size_t off = 0;;) {
    const size_t n = std::min(k_chunk, data.size() - off);
    const bool end = off + n == data.size();
    CCREX_ASSIGN_OR_RETURN(const int64_t w,
                           compress_chunk(c.get(), data.substr(off, n), end, out, to));
    written += w;
    off += n;
    if (end) {
      return written;
    }
  }
}

struct BlobReader::Frame {
  std::unique_ptr<ZSTD_DCtx, DCtxFree> dctx;
  util::Sha256 hash;
  std::vector<char> in;
  ZSTD_inBuffer input{nullptr, 0, 0};
  bool file_ended = false;
  bool frame_ended = false; // the decoder reported the frame complete
};

BlobReader::BlobReader(int fd, bool compressed, util::Digest d)
    : m_fd(fd),
      m_compressed(compressed),
      m_digest(std::move(d)),
      m_size(m_digest.size) {}

BlobReader::~BlobReader() {
  ::close(m_fd);
}

util::Error BlobReader::corrupt(const std::string& why) {
  if (m_on_damage) {
    std::exchange(m_on_damage, nullptr)();
  }
  return {util::ErrorCode::data_loss, "damaged compressed blob: " + why};
}

util::Result<std::unique_ptr<BlobReader>>
BlobReader::open(const std::string& path, bool compressed, const util::Digest& d) {
  const int64_t size = d.size;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) {
      return util::not_found(path + " is gone");
    }
    return util::errno_error("open " + path, err);
  }
  std::unique_ptr<BlobReader> r(new BlobReader(fd, compressed, d));
  if (!compressed) {
    return r;
  }
  r->m_frame = std::make_unique<Frame>();
  Frame& f = *r->m_frame;
  f.dctx.reset(ZSTD_createDCtx());
  if (!f.dctx) {
    return util::Error(util::ErrorCode::resource_exhausted, "zstd: out of memory");
  }
  ZSTD_DCtx_setParameter(f.dctx.get(), ZSTD_d_windowLogMax, k_window_log_max);
  f.in.resize(ZSTD_DStreamInSize());
  CCREX_ASSIGN_OR_RETURN(const bool got, r->refill());
  // The header must name the blob's size before anything is decompressed: the decoder
  // sizes its buffers by it.
  const auto declared =
      got ? ZSTD_getFrameContentSize(f.in.data(), f.input.size) : ZSTD_CONTENTSIZE_ERROR;
  if (declared == ZSTD_CONTENTSIZE_ERROR || declared == ZSTD_CONTENTSIZE_UNKNOWN) {
    return r->corrupt("no valid frame header");
  }
  if (declared != static_cast<uint64_t>(size)) {
    return r->corrupt("the frame holds " + std::to_string(declared) + " bytes, the blob "
                      + std::to_string(size));
  }
  return r;
}

util::Result<bool> BlobReader::refill() {
  Frame& f = *m_frame;
  if (f.input.pos < f.input.size) {
    return true;
  }
  if (f.file_ended) {
    return false;
  }
  CCREX_ASSIGN_OR_RETURN(const size_t n, read_some(m_fd, f.in.data(), f.in.size()));
  f.input = {f.in.data(), n, 0};
  f.file_ended = n == 0;
  return n > 0;
}

util::Result<size_t> BlobReader::read(char* buf, size_t n) {
  n = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(n), remaining()));
  if (n == 0) {
    return size_t{0};
  }
  auto got = m_compressed ? read_frame(buf, n) : read_raw(buf, n);
  if (got) {
    m_done += static_cast<int64_t>(*got);
    if (m_compressed) {
      m_frame->hash.update(std::string_view(buf, *got));
      if (remaining() == 0) {
        CCREX_TRY(finish_frame());
      }
    }
  }
  return got;
}

util::Result<size_t> BlobReader::read_raw(char* buf, size_t n) {
  CCREX_ASSIGN_OR_RETURN(const size_t got, read_some(m_fd, buf, n));
  if (got == 0) {
    if (m_on_damage) {
      std::exchange(m_on_damage, nullptr)();
    }
    return util::Error(util::ErrorCode::data_loss, "stored blob is truncated");
  }
  return got;
}

util::Result<size_t> BlobReader::read_frame(char* buf, size_t n) {
  Frame& f = *m_frame;
  ZSTD_outBuffer output{buf, n, 0};
  while (output.pos == 0) {
    if (f.frame_ended) {
      return corrupt("the frame ends before the blob does");
    }
    CCREX_ASSIGN_OR_RETURN(const bool more, refill());
    const size_t before = f.input.pos;
    const size_t r = ZSTD_decompressStream(f.dctx.get(), &output, &f.input);
    if (ZSTD_isError(r)) {
      return corrupt(ZSTD_getErrorName(r));
    }
    f.frame_ended = r == 0;
    if (!more && output.pos == 0 && f.input.pos == before) {
      return corrupt("the file ends inside the frame");
    }
  }
  return output.pos;
}

util::Status BlobReader::finish_frame() {
  Frame& f = *m_frame;
  std::array<char, 1> extra{};
  while (!f.frame_ended) {
    ZSTD_outBuffer output{extra.data(), extra.size(), 0};
    CCREX_ASSIGN_OR_RETURN(const bool more, refill());
    const size_t before = f.input.pos;
    const size_t r = ZSTD_decompressStream(f.dctx.get(), &output, &f.input);
    if (ZSTD_isError(r)) {
      return corrupt(ZSTD_getErrorName(r));
    }
    if (output.pos != 0) {
      return corrupt("the frame is larger than the blob");
    }
    f.frame_ended = r == 0;
    if (!f.frame_ended && !more && f.input.pos == before) {
      return corrupt("the file ends inside the frame");
    }
  }
  // Nothing may follow the frame (a second frame would be content beyond the blob).
  CCREX_ASSIGN_OR_RETURN(const bool trailing, refill());
  if (trailing) {
    return corrupt("bytes after the frame");
  }
  // A well-formed frame of other content (written by hand) is caught here.
  if (f.hash.finish() != m_digest.hash) {
    return corrupt("the content does not match its digest");
  }
  return {};
}

util::Status BlobReader::skip(int64_t n) {
  if (!m_compressed) {
    if (::lseek(m_fd, n, SEEK_CUR) < 0) {
      return util::errno_error("seek in stored blob", errno);
    }
    m_done += n;
    return {};
  }
  std::vector<char> scratch(k_chunk);
  while (n > 0) {
    CCREX_ASSIGN_OR_RETURN(
        const size_t got, read(scratch.data(), static_cast<size_t>(std::min<int64_t>(n, k_chunk))));
    if (got == 0) {
      break;
    }
    n -= static_cast<int64_t>(got);
  }
  return {};
}

util::Status write_blob_to(BlobReader& reader, const std::string& dest, unsigned mode) {
  const int fd = ::open(dest.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return util::errno_error("create " + dest, errno);
  }
  std::vector<char> buf(k_chunk);
  util::Status st;
  while (st && reader.remaining() > 0) {
    auto n = reader.read(buf.data(), buf.size());
    st = n ? write_all(fd, buf.data(), *n) : util::Status(n.error());
  }
  if (st && ::fchmod(fd, static_cast<mode_t>(mode)) != 0) {
    st = util::errno_error("chmod " + dest, errno);
  }
  if (::close(fd) != 0 && st) {
    st = util::errno_error("close " + dest, errno);
  }
  if (!st) {
    ::unlink(dest.c_str());
  }
  return st;
}

} // namespace ccrex::server
