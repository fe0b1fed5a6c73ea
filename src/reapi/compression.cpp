#include "reapi/compression.h"

#include "util/strings.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/unknown_field_set.h>

#include <zstd.h>

#include <algorithm>
#include <new>

namespace ccrex::reapi {
namespace {

// CacheCapabilities.supported_compressors in REAPI 2.1+.
constexpr int k_supported_compressors_field = 6;
// Longest zstd frame header (magic number included), from the format's specification; the
// library's own constant is only in its static-linking API.
constexpr size_t k_frame_header_max = 18;

util::Error zstd_error(std::string_view what, size_t code) {
  return util::invalid_argument(std::string(what) + ": " + ZSTD_getErrorName(code));
}

// Parse `parts`, whose segment `at` is "compressed-blobs": read the compressor after it,
// then parse the name with "blobs" in place of the two as a plain one.
util::Result<BlobResource>
parse_compressed(const std::vector<std::string_view>& parts, size_t at, bool write) {
  if (at + 1 >= parts.size()) {
    return util::invalid_argument("resource name has no compressor");
  }
  const auto compressor = compressor_from_name(parts[at + 1]);
  if (!compressor) {
    return util::invalid_argument("unknown compressor '" + std::string(parts[at + 1]) + "'");
  }
  std::string plain;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i == at + 1) {
      continue;
    }
    if (i > 0) {
      plain += '/';
    }
    plain += i == at ? std::string_view("blobs") : parts[i];
  }
  CCREX_ASSIGN_OR_RETURN(auto name,
                         write ? parse_write_resource(plain) : parse_read_resource(plain));
  return BlobResource{std::move(name), *compressor};
}

// Index of the first "compressed-blobs" segment of `parts` (parts.size() if none).
size_t find_compressed(const std::vector<std::string_view>& parts) {
  return static_cast<size_t>(std::find(parts.begin(), parts.end(), "compressed-blobs")
                             - parts.begin());
}

// "{instance}/" when the instance is not empty.
std::string instance_prefix(std::string_view instance) {
  return instance.empty() ? std::string() : std::string(instance) + "/";
}

} // namespace

util::Result<BlobResource> parse_blob_read_resource(std::string_view name) {
  const auto parts = util::split(name, '/');
  const size_t at = find_compressed(parts);
  if (at == parts.size()) {
    CCREX_ASSIGN_OR_RETURN(auto plain, parse_read_resource(name));
    return BlobResource{std::move(plain), Compressor::identity};
  }
  return parse_compressed(parts, at, false);
}

util::Result<BlobResource> parse_blob_write_resource(std::string_view name) {
  const auto parts = util::split(name, '/');
  // Compressed only where "blobs" would be, right after "uploads/{uuid}", and only when no
  // plain "uploads/{uuid}/blobs" comes first; later (in the metadata of a plain name, say)
  // the segment is the plain parser's business.
  size_t at = parts.size();
  for (size_t i = 2; i < parts.size(); ++i) {
    if ((parts[i] == "blobs" || parts[i] == "compressed-blobs") && parts[i - 2] == "uploads") {
      at = parts[i] == "compressed-blobs" ? i : parts.size();
      break;
    }
  }
  if (at == parts.size()) {
    CCREX_ASSIGN_OR_RETURN(auto plain, parse_write_resource(name));
    return BlobResource{std::move(plain), Compressor::identity};
  }
  return parse_compressed(parts, at, true);
}

std::string read_resource(std::string_view instance, const v2::Digest& d, Compressor c) {
  if (c == Compressor::identity) {
    return read_resource(instance, d);
  }
  return instance_prefix(instance) + "compressed-blobs/" + std::string(compressor_name(c)) + "/"
         + to_string(d);
}

std::string write_resource(std::string_view instance,
                           std::string_view uuid,
                           const v2::Digest& d,
                           Compressor c) {
  if (c == Compressor::identity) {
    return write_resource(instance, uuid, d);
  }
  return instance_prefix(instance) + "uploads/" + std::string(uuid) + "/compressed-blobs/"
         + std::string(compressor_name(c)) + "/" + to_string(d);
}

std::optional<Compressor> compressor_from_name(std::string_view name) {
  if (name == "zstd") {
    return Compressor::zstd;
  }
  if (name == "deflate") {
    return Compressor::deflate;
  }
  if (name == "brotli") {
    return Compressor::brotli;
  }
  return std::nullopt;
}

std::string_view compressor_name(Compressor c) {
  switch (c) {
  case Compressor::zstd:
    return "zstd";
  case Compressor::deflate:
    return "deflate";
  case Compressor::brotli:
    return "brotli";
  case Compressor::identity:
    break;
  }
  return "identity";
}

std::vector<int> supported_compressors(const v2::CacheCapabilities& cache) {
  std::vector<int> out;
  const auto& unknown = cache.GetReflection()->GetUnknownFields(cache);
  for (int i = 0; i < unknown.field_count(); ++i) {
    const auto& field = unknown.field(i);
    if (field.number() != k_supported_compressors_field) {
      continue;
    }
    if (field.type() == google::protobuf::UnknownField::TYPE_VARINT) {
      out.push_back(static_cast<int>(field.varint()));
    } else if (field.type() == google::protobuf::UnknownField::TYPE_LENGTH_DELIMITED) {
      // Packed, as proto3 sends repeated enums.
      const std::string& bytes = field.length_delimited();
      google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                                static_cast<int>(bytes.size()));
      uint64_t value = 0;
      while (in.BytesUntilLimit() != 0 && in.ReadVarint64(&value)) {
        out.push_back(static_cast<int>(value));
      }
    }
  }
  return out;
}

void add_supported_compressor(v2::CacheCapabilities& cache, Compressor c) {
  cache.GetReflection()->MutableUnknownFields(&cache)->AddVarint(k_supported_compressors_field,
                                                                 static_cast<uint64_t>(c));
}

int64_t zstd_bound(int64_t size) {
  return static_cast<int64_t>(ZSTD_compressBound(static_cast<size_t>(std::max<int64_t>(size, 0))))
         + (int64_t{64} << 10);
}

ZstdCompressor::ZstdCompressor(int level) : m_ctx(ZSTD_createCCtx()) {
  if (m_ctx == nullptr) {
    throw std::bad_alloc();
  }
  ZSTD_CCtx_setParameter(m_ctx, ZSTD_c_compressionLevel, level);
}

ZstdCompressor::~ZstdCompressor() {
  ZSTD_freeCCtx(m_ctx);
}

void ZstdCompressor::set_pledged_size(int64_t size) {
  ZSTD_CCtx_setPledgedSrcSize(m_ctx, static_cast<unsigned long long>(size));
}

util::Status ZstdCompressor::compress(std::string_view in, bool last, std::string& out) {
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  const ZSTD_EndDirective mode = last ? ZSTD_e_end : ZSTD_e_continue;
  const size_t step = ZSTD_CStreamOutSize();
  for (;;) {
    const size_t old = out.size();
    out.resize(old + step);
    ZSTD_outBuffer output{out.data() + old, step, 0};
    const size_t left = ZSTD_compressStream2(m_ctx, &output, &input, mode);
    out.resize(old + output.pos);
    if (ZSTD_isError(left) != 0U) {
      ZSTD_CCtx_reset(m_ctx, ZSTD_reset_session_only);
      return util::internal_error(std::string("zstd compression: ") + ZSTD_getErrorName(left));
    }
    if (last ? left == 0 : input.pos == input.size) {
      return {};
    }
  }
}

ZstdDecompressor::ZstdDecompressor() : m_ctx(ZSTD_createDCtx()) {
  if (m_ctx == nullptr) {
    throw std::bad_alloc();
  }
  ZSTD_DCtx_setParameter(m_ctx, ZSTD_d_windowLogMax, k_zstd_max_window_log);
  m_out.resize(k_zstd_out_chunk);
}

ZstdDecompressor::~ZstdDecompressor() {
  ZSTD_freeDCtx(m_ctx);
}

util::Status ZstdDecompressor::decompress(std::string_view in, int64_t limit, const Sink& sink) {
  // A frame that says up front it holds more than is left is refused before any of it is
  // decompressed (when its header is whole in this piece; otherwise the output bound
  // below stops it).
  if ((!m_started || m_frame_end) && in.size() >= k_frame_header_max) {
    const unsigned long long declared = ZSTD_getFrameContentSize(in.data(), in.size());
    if (declared != ZSTD_CONTENTSIZE_UNKNOWN && declared != ZSTD_CONTENTSIZE_ERROR
        && declared > static_cast<unsigned long long>(limit - m_produced)) {
      return util::invalid_argument("a zstd frame declares " + std::to_string(declared)
                                    + " bytes, more than the " + std::to_string(limit)
                                    + " the blob has");
    }
  }
  ZSTD_inBuffer input{in.data(), in.size(), 0};
  for (;;) {
    // Room for one byte beyond the limit, so that passing it is seen without producing
    // (let alone keeping) more.
    const size_t room = static_cast<size_t>(
        std::min<int64_t>(static_cast<int64_t>(m_out.size()), limit - m_produced + 1));
    ZSTD_outBuffer output{m_out.data(), room, 0};
    const size_t before = input.pos;
    const size_t hint = ZSTD_decompressStream(m_ctx, &output, &input);
    if (ZSTD_isError(hint) != 0U) {
      return zstd_error("malformed zstd data", hint);
    }
    m_produced += static_cast<int64_t>(output.pos);
    if (m_produced > limit) {
      return util::invalid_argument("zstd data decompresses to more than the "
                                    + std::to_string(limit) + " bytes declared");
    }
    if (input.pos > before || output.pos > 0) {
      m_started = true;
      m_frame_end = hint == 0;
    }
    if (output.pos > 0) {
      CCREX_TRY(sink(std::string_view(m_out.data(), output.pos)));
    }
    if (input.pos == input.size && output.pos < room) {
      return {};
    }
  }
}

} // namespace ccrex::reapi
