#pragma once

// CasClient: the CAS and ByteStream side of a REAPI client.
//
// - find_missing() splits the digests into requests well under gRPC's 4 MiB message limit.
// - upload() sends small blobs with BatchUpdateBlobs, grouped under
//   min(server max_batch_total_size_bytes, 4 MiB) counting a per-entry overhead, and larger
//   ones with ByteStream Write in `chunk_bytes` pieces under a fresh upload id. A Write the
//   server ends early because it already has the blob (committed_size == size) succeeds.
//   Per-blob failures are collected and reported, not hidden behind the first one.
// - reads use BatchReadBlobs for small blobs and ByteStream Read for large ones, resuming
//   with read_offset after a broken stream. Every downloaded blob is checked against its
//   digest: a server returning other bytes gets a data_loss error, never a success.
// - when the engine offers zstd (REAPI 2.1 compressed-blobs, set_compression()), blobs of
//   `compressed_min_bytes` and more travel through ByteStream compressed, both ways, even
//   when they would fit a batch: on a link where their size matters, a few MiB compress
//   well and cost more than a call of their own. The digest stays the uncompressed one;
//   what arrives is checked after decompression, and never allowed past the digest size.
// - the empty blob is never uploaded or downloaded.
// - what the engine holds is remembered (known_blobs.h): upload_missing() asks only about
//   blobs not known to be there, and asks nothing when all are. forget() drops what an
//   Execute reported missing.
// - concurrent uploads of one blob send it once: an upload() finding the blob already being
//   sent by another call waits for that call, and sends it itself only if that one failed.
//
// The constructor takes the generated StubInterfaces, so tests inject Mock*Stub classes.
// Thread safety: all methods are thread-safe.

#include "reapi/blob.h"
#include "reapi/call_settings.h"
#include "reapi/known_blobs.h"
#include "reapi/proto.h"
#include "util/result.h"

#include <grpcpp/channel.h>

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace ccrex::reapi {

struct CasOptions {
  // Our own ceiling on a batch request's blob bytes; the server's limit lowers it further.
  int64_t max_batch_bytes = int64_t{4} << 20;
  // Bytes counted per batch entry on top of its data (digest, tags, status).
  int64_t batch_entry_overhead = 256;
  // Size of each ByteStream WriteRequest's data.
  int64_t chunk_bytes = int64_t{1} << 20;
  // Blobs at least this large go through compressed ByteStream transfers when the
  // engine offers zstd (set_compression); smaller ones gain too little for a call of their
  // own.
  int64_t compressed_min_bytes = int64_t{1} << 20;
  // Digests per FindMissingBlobs request (about 80 bytes each on the wire).
  size_t max_find_missing_digests = 10000;
  // upload_missing() sends unknown blobs totalling at most this many bytes without asking
  // FindMissingBlobs first: sending them again costs less than the question's round trip
  // (0 asks always).
  int64_t blind_upload_bytes = int64_t{64} << 10;
};

// One blob that could not be transferred, and why.
struct BlobFailure {
  v2::Digest digest;
  util::Error error;
};

class CasClient {
public:
  CasClient(std::shared_ptr<v2::ContentAddressableStorage::StubInterface> cas,
            std::shared_ptr<bytestream::ByteStream::StubInterface> bytestream,
            std::shared_ptr<const CallSettings> settings,
            CasOptions options = {});

  // Build the stubs on `channel`.
  static std::unique_ptr<CasClient> create(const std::shared_ptr<grpc::Channel>& channel,
                                           std::shared_ptr<const CallSettings> settings,
                                           CasOptions options = {});

  // Take the server's max_batch_total_size_bytes into account (0 = no server limit).
  void set_server_batch_limit(int64_t bytes);
  // Return the byte budget of one batch request.
  int64_t batch_limit() const;
  // Use zstd-compressed ByteStream transfers for large blobs (the engine offers them).
  void set_compression(bool zstd) { m_zstd = zstd; }

  // Return the digests among `digests` that the server does not have (never the empty one).
  util::Result<std::vector<v2::Digest>> find_missing(const std::vector<v2::Digest>& digests) const;

  // Upload every blob of `blobs` (without asking what is missing first). On failure the
  // error names the failed blobs and `failures` (if given) lists each one.
  util::Status upload(const std::vector<UploadBlob>& blobs,
                      std::vector<BlobFailure>* failures = nullptr) const;
  // Upload those of `blobs` not known to be held (none: no call): all of them when they
  // total at most `blind_upload_bytes`, else the ones FindMissingBlobs reports missing.
  util::Status upload_missing(const BlobMap& blobs,
                              std::vector<BlobFailure>* failures = nullptr) const;

  // Whether every blob of `blobs` is known to be held by the server.
  bool holds_all(const BlobMap& blobs) const;
  // Whether upload_missing(blobs) would send something without asking first: the blobs not
  // known to be held total at most `blind_upload_bytes` (and there is at least one).
  bool uploads_without_asking(const BlobMap& blobs) const;
  // Stop assuming the server holds `digests`.
  void forget(const std::vector<v2::Digest>& digests) const;
  // How many blobs upload() calls are waiting for because another call is sending them.
  size_t waiting_uploads() const { return m_waiting.load(); }

  // Return the content of `digest`, verified.
  util::Result<std::string> read_blob(const v2::Digest& digest) const;
  // Return the verified content of each digest keyed by "hash/size". Blobs that could not
  // be read make the call fail; `failures` (if given) lists them.
  util::Result<std::map<std::string, std::string>>
  read_blobs(const std::vector<v2::Digest>& digests,
             std::vector<BlobFailure>* failures = nullptr) const;
  // Write the verified content of `digest` to `path` atomically (temp file + rename) with
  // `mode`. Large blobs stream to disk without being held in memory.
  util::Status
  read_blob_to_file(const v2::Digest& digest, const std::string& path, mode_t mode = 0644) const;

private:
  bool fits_batch(const v2::Digest& d) const;
  void send(const std::vector<const UploadBlob*>& blobs, std::vector<BlobFailure>& failed) const;
  util::Status upload_batch(const std::vector<const UploadBlob*>& batch,
                            std::vector<BlobFailure>& failures) const;
  util::Status read_batch(const std::vector<v2::Digest>& batch,
                          std::map<std::string, std::string>& out,
                          std::vector<BlobFailure>& failures) const;
  // Whether `d` travels compressed.
  bool compresses(const v2::Digest& d) const;
  util::Status write_stream(const UploadBlob& blob) const;
  util::Status read_stream(const v2::Digest& digest, class ByteSink& sink) const;

  std::shared_ptr<v2::ContentAddressableStorage::StubInterface> m_cas;
  std::shared_ptr<bytestream::ByteStream::StubInterface> m_bytestream;
  std::shared_ptr<const CallSettings> m_settings;
  CasOptions m_options;
  std::atomic<int64_t> m_server_batch_limit{0};
  std::atomic<bool> m_zstd{false};
  mutable KnownBlobs m_known;
  // Uploads under way in some upload() call, by "hash/size": true once sent successfully.
  mutable std::mutex m_inflight_mutex;
  mutable std::map<std::string, std::shared_future<bool>> m_inflight; // m_inflight_mutex
  mutable std::atomic<size_t> m_waiting{0};
};

// Return an error summarising `failures` ("3 blobs failed: <digest>: <reason>; ...").
util::Error summarize_failures(std::string_view what, const std::vector<BlobFailure>& failures);

} // namespace ccrex::reapi
