// The ByteStream half of CasClient: chunked writes and resumable, verified reads, plain or
// compressed with zstd.

#include "reapi/byte_io.h"
#include "reapi/cas_client.h"
#include "reapi/compression.h"
#include "reapi/digest.h"

#include <optional>

namespace ccrex::reapi {
namespace {

// Status returned from an attempt that failed locally; not retried by the default policy.
grpc::Status local_failure(std::optional<util::Error>& slot, util::Error error) {
  std::string message = error.message();
  slot = std::move(error);
  return {grpc::StatusCode::FAILED_PRECONDITION, message};
}

// Send every chunk of `blob`. Return false if the server closed the stream early.
grpc::Status send_chunks(grpc::ClientContext& ctx,
                         grpc::ClientWriterInterface<bytestream::WriteRequest>& writer,
                         const UploadBlob& blob,
                         const std::string& resource,
                         int64_t chunk_bytes,
                         std::optional<util::Error>& local_error) {
  ChunkSource source(blob);
  if (auto st = source.open(); !st) {
    ctx.TryCancel();
    return local_failure(local_error, st.error());
  }
  const int64_t size = blob.digest.size_bytes();
  int64_t offset = 0;
  std::string chunk;
  while (offset < size) {
    if (auto st = source.next(std::min(chunk_bytes, size - offset), chunk); !st || chunk.empty()) {
      ctx.TryCancel();
      return local_failure(local_error,
                           st ? util::io_error(blob.source.data + " is shorter than its digest")
                              : st.error());
    }
    const bool last = offset + static_cast<int64_t>(chunk.size()) == size;
    if (last) {
      if (auto st = source.verify(); !st) {
        ctx.TryCancel(); // never let the server commit bytes that do not match the digest
        return local_failure(local_error, st.error());
      }
    }
    bytestream::WriteRequest req;
    if (offset == 0) {
      req.set_resource_name(resource);
    }
    req.set_write_offset(offset);
    req.set_finish_write(last);
    req.set_data(std::move(chunk));
    if (!writer.Write(req)) {
      break; // the server ended the call: an early return or an error, Finish() tells
    }
    offset += static_cast<int64_t>(req.data().size());
  }
  return grpc::Status::OK;
}

// Send `blob` as one zstd frame, in messages of at most `chunk_bytes` compressed bytes;
// `wire` gets the compressed bytes sent. Return OK also if the server closed the stream
// early (Finish() tells why).
grpc::Status send_compressed(grpc::ClientContext& ctx,
                             grpc::ClientWriterInterface<bytestream::WriteRequest>& writer,
                             const UploadBlob& blob,
                             const std::string& resource,
                             int64_t chunk_bytes,
                             std::optional<util::Error>& local_error,
                             int64_t& wire) {
  ChunkSource source(blob);
  if (auto st = source.open(); !st) {
    ctx.TryCancel();
    return local_failure(local_error, st.error());
  }
  const int64_t size = blob.digest.size_bytes();
  ZstdCompressor zstd;
  zstd.set_pledged_size(size);
  int64_t offset = 0;
  std::string chunk;
  std::string packed;
  for (bool last = false; !last;) {
    if (auto st = source.next(std::min(chunk_bytes, size - offset), chunk); !st || chunk.empty()) {
      ctx.TryCancel();
      return local_failure(local_error,
                           st ? util::io_error(blob.source.data + " is shorter than its digest")
                              : st.error());
    }
    offset += static_cast<int64_t>(chunk.size());
    last = offset == size;
    if (last) {
      if (auto st = source.verify(); !st) {
        ctx.TryCancel(); // never let the server commit bytes that do not match the digest
        return local_failure(local_error, st.error());
      }
    }
    if (auto st = zstd.compress(chunk, last, packed); !st) {
      ctx.TryCancel();
      return local_failure(local_error, st.error());
    }
    // Whole messages while there are enough bytes for one; the rest when the frame ended.
    size_t at = 0;
    while (packed.size() - at >= static_cast<size_t>(chunk_bytes) || (last && at < packed.size())) {
      const size_t n = std::min(packed.size() - at, static_cast<size_t>(chunk_bytes));
      bytestream::WriteRequest req;
      if (wire == 0) {
        req.set_resource_name(resource);
      }
      req.set_write_offset(wire);
      req.set_finish_write(last && at + n == packed.size());
      req.set_data(packed.substr(at, n));
      if (!writer.Write(req)) {
        return grpc::Status::OK; // the server ended the call: Finish() tells why
      }
      wire += static_cast<int64_t>(n);
      at += n;
    }
    packed.erase(0, at);
  }
  return grpc::Status::OK;
}

} // namespace

util::Status CasClient::write_stream(const UploadBlob& blob) const {
  const bool compressed = compresses(blob.digest);
  std::optional<util::Error> local_error;
  Retrier retrier(m_settings->retry, m_settings->retry_env);
  const auto st = retrier.run(
      [&](grpc::ClientContext& ctx) { m_settings->apply(ctx); },
      [&](grpc::ClientContext& ctx) {
        const Compressor compressor = compressed ? Compressor::zstd : Compressor::identity;
        const std::string resource =
            write_resource(m_settings->instance_name, random_uuid(), blob.digest, compressor);
        bytestream::WriteResponse response;
        auto writer = m_bytestream->Write(&ctx, &response);
        int64_t wire = 0;
        auto sent =
            compressed
                ? send_compressed(
                    ctx, *writer, blob, resource, m_options.chunk_bytes, local_error, wire)
                : send_chunks(ctx, *writer, blob, resource, m_options.chunk_bytes, local_error);
        if (!sent.ok()) {
          writer->Finish();
          return sent;
        }
        writer->WritesDone();
        auto status = writer->Finish();
        if (!status.ok()) {
          return status;
        }
        // A compressed upload is complete at -1 (the blob was there already) or at the
        // compressed bytes sent.
        const bool complete =
            compressed ? response.committed_size() == -1 || response.committed_size() == wire
                       : response.committed_size() == blob.digest.size_bytes();
        if (!complete) {
          return grpc::Status(grpc::StatusCode::DATA_LOSS,
                              "server committed " + std::to_string(response.committed_size())
                                  + " bytes");
        }
        return grpc::Status::OK;
      });
  if (local_error) {
    return *local_error;
  }
  if (!st.ok()) {
    return from_grpc(st).with_context("ByteStream.Write " + to_string(blob.digest));
  }
  return {};
}

util::Status CasClient::read_stream(const v2::Digest& digest, ByteSink& sink) const {
  const bool compressed = compresses(digest);
  std::optional<util::Error> local_error;
  util::Sha256 hasher;
  int64_t received = 0;
  Retrier retrier(m_settings->retry, m_settings->retry_env);
  const auto st = retrier.run(
      [&](grpc::ClientContext& ctx) { m_settings->apply(ctx); },
      [&](grpc::ClientContext& ctx) {
        bytestream::ReadRequest req;
        req.set_resource_name(read_resource(m_settings->instance_name,
                                            digest,
                                            compressed ? Compressor::zstd : Compressor::identity));
        req.set_read_offset(received); // resume where the last attempt stopped (blob bytes)
        auto reader = m_bytestream->Read(&ctx, req);
        std::optional<ZstdDecompressor> zstd;
        if (compressed) {
          zstd.emplace(); // each attempt's stream is a frame of its own
        }
        const int64_t start = received;
        const auto take = [&](std::string_view data) -> util::Status {
          if (received + static_cast<int64_t>(data.size()) > digest.size_bytes()) {
            return util::Error(util::ErrorCode::data_loss,
                               "server sent more bytes than the digest size");
          }
          CCREX_TRY(sink.append(data));
          hasher.update(data);
          received += static_cast<int64_t>(data.size());
          return {};
        };
        bytestream::ReadResponse chunk;
        while (reader->Read(&chunk)) {
          auto ok = zstd ? zstd->decompress(chunk.data(), digest.size_bytes() - start, take)
                         : take(chunk.data());
          if (!ok) {
            ctx.TryCancel();
            reader->Finish();
            util::Error error = ok.error();
            if (zstd && error.code() == util::ErrorCode::invalid_argument) {
              error = util::Error(util::ErrorCode::data_loss, error.message());
            }
            return local_failure(local_error, std::move(error));
          }
        }
        return reader->Finish();
      });
  if (local_error) {
    return local_error->with_context("ByteStream.Read " + to_string(digest));
  }
  if (!st.ok()) {
    return from_grpc(st).with_context("ByteStream.Read " + to_string(digest));
  }
  const std::string hash = hasher.finish();
  if (received != digest.size_bytes() || hash != digest.hash()) {
    return util::Error(util::ErrorCode::data_loss,
                       "ByteStream.Read " + to_string(digest) + ": received "
                           + std::to_string(received) + " bytes hashing to " + hash);
  }
  return {};
}

} // namespace ccrex::reapi
