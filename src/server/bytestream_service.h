#pragma once

// ByteStreamService: google.bytestream.ByteStream over the CAS (REAPI §5).
//
// Read streams a blob from an offset with an optional limit. Write streams an upload into a
// temporary file in the store; its content is verified against the digest in the resource
// name before it becomes visible. An upload whose stream breaks before finish_write is kept
// (keyed by its resource name) so the client can ask QueryWriteStatus and resume from the
// committed size. Limits (config.h, stream_limits.h): a Write whose resource declares a
// blob larger than config.max_blob_size (or the store's cap) is refused at once with
// INVALID_ARGUMENT; the bytes of unfinished uploads count against the store's cap (LRU
// blobs are evicted to make room; RESOURCE_EXHAUSTED when unfinished uploads alone would
// exceed it) and an upload not continued for config.partial_upload_expiry is deleted; a
// stream without a message for config.stream_idle_timeout is ended (DEADLINE_EXCEEDED);
// a client address holds at most config.max_streams_per_client streams
// (RESOURCE_EXHAUSTED beyond).
//
// Compressed transfers (REAPI 2.1, offered when config.h's offers_compressed_blobs()):
// "compressed-blobs/zstd/{hash}/{size}" names the uncompressed blob. Read sends one zstd
// frame of the blob from read_offset (uncompressed; read_limit must be 0), compressed
// piece by piece as it is read. Write decompresses each message as it arrives into the
// upload's file, so the same limits apply to the blob bytes: the declared size is checked
// at once, output is stopped one byte past it (a bomb is refused before it is written), and
// the compressed bytes may not exceed what zstd could need for that size. The first
// write_offset is in blob bytes (a resumed upload sends a new frame of the rest), later ones
// add the compressed bytes sent, and committed_size is the offset the next message would
// have, or -1 when the blob was already stored. QueryWriteStatus of a compressed upload
// reports the blob bytes committed, where a resumed upload starts. Other compressors, and
// zstd when not offered, are refused with INVALID_ARGUMENT.
//
// Access (auth.h): Read needs the read role, Write and QueryWriteStatus write-cas, on the
// instance named by the resource; an unknown caller is refused before anything is read.
//
// Thread safety: concurrent calls are fine; one resource name is written by one stream at a
// time (a second concurrent writer of the same upload gets ABORTED).

#include "reapi/compression.h"
#include "reapi/proto.h"
#include "server/auth.h"
#include "server/blob_store.h"
#include "server/config.h"
#include "server/metrics.h"
#include "server/stream_limits.h"

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace ccrex::server {

class ByteStreamService final : public reapi::bytestream::ByteStream::Service {
public:
  ByteStreamService(BlobStore& store, const Access& access, const Config& config, Metrics& metrics);
  ~ByteStreamService() override;
  ByteStreamService(const ByteStreamService&) = delete;
  ByteStreamService& operator=(const ByteStreamService&) = delete;

  grpc::Status Read(grpc::ServerContext* context,
                    const reapi::bytestream::ReadRequest* request,
                    grpc::ServerWriter<reapi::bytestream::ReadResponse>* writer) override;
  grpc::Status Write(grpc::ServerContext* context,
                     grpc::ServerReader<reapi::bytestream::WriteRequest>* reader,
                     reapi::bytestream::WriteResponse* response) override;
  grpc::Status QueryWriteStatus(grpc::ServerContext* context,
                                const reapi::bytestream::QueryWriteStatusRequest* request,
                                reapi::bytestream::QueryWriteStatusResponse* response) override;

private:
  struct Upload {
    std::string temp_path;
    std::atomic<int64_t> committed{0};
    bool busy = false;
    std::chrono::steady_clock::time_point last_used;
  };
  // What one Read sends: `length` bytes of the blob open as `fd` from `offset`, compressed
  // into one zstd frame when `compressed`.
  struct ReadPlan {
    BlobReader* reader; // null for the empty blob
    const reapi::v2::Digest& digest;
    int64_t offset;
    int64_t length;
    bool compressed;
  };
  // One Write stream's state: the upload it appends to, the offset the next message must
  // carry (`wire_offset`, starting at `start`), and the decompressor of a compressed upload.
  struct UploadStream {
    int fd;
    Upload* up;
    int64_t size;
    int64_t start;
    int64_t wire_offset;
    std::optional<reapi::ZstdDecompressor> zstd;
  };
  grpc::Status send_blob(const grpc::ServerContext& context,
                         grpc::ServerWriter<reapi::bytestream::ReadResponse>* writer,
                         StreamLimits::Lease& lease,
                         const ReadPlan& plan);
  // Take one WriteRequest's data into `stream` (checked, decompressed, stored).
  grpc::Status take(UploadStream& stream, const reapi::bytestream::WriteRequest& req);
  // Append blob bytes to the upload's file, counted against the store's cap.
  grpc::Status store_bytes(UploadStream& stream, std::string_view bytes);
  // Claim the upload for `key` (creating it); nullptr if another stream is writing it.
  Upload* claim(const std::string& key);
  void release(const std::string& key, bool drop);
  grpc::Status write_stream(const grpc::ServerContext& context,
                            grpc::ServerReader<reapi::bytestream::WriteRequest>* reader,
                            reapi::bytestream::WriteRequest& first,
                            reapi::bytestream::WriteResponse* response,
                            StreamLimits::Lease& lease);

  // Make room for `bytes` more of unfinished uploads (see the class comment).
  grpc::Status reserve(int64_t bytes);

  BlobStore& m_store;
  const Access& m_access;
  Metrics& m_metrics;
  const int64_t m_max_blob_size;
  const std::chrono::seconds m_upload_expiry;
  const bool m_compression; // compressed-blobs/zstd offered (config.h)
  std::mutex m_mutex;
  std::map<std::string, Upload> m_uploads; // guarded by m_mutex
  int64_t m_partial_bytes = 0;             // committed bytes of m_uploads; m_mutex
  StreamLimits m_limits;
};

} // namespace ccrex::server
