#pragma once

// ByteStreamService: google.bytestream.ByteStream over the CAS (REAPI §5).
//
// Read streams a blob from an offset with an optional limit. Write streams an upload into a
// temporary file in the store; its content is verified against the digest in the resource
// name before it becomes visible. An upload whose stream breaks before finish_write is kept
// (keyed by its resource name) so the client can ask QueryWriteStatus and resume from the
// committed size; abandoned uploads are dropped after an hour.
//
// Access (auth.h): Read needs the read role, Write and QueryWriteStatus write-cas, on the
// instance named by the resource; an unknown caller is refused before anything is read.
//
// Thread safety: concurrent calls are fine; one resource name is written by one stream at a
// time (a second concurrent writer of the same upload gets ABORTED).

#include "reapi/proto.h"
#include "server/auth.h"
#include "server/blob_store.h"

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>

namespace ccrex::server {

class ByteStreamService final : public reapi::bytestream::ByteStream::Service {
public:
  ByteStreamService(BlobStore& store, const Access& access) : m_store(store), m_access(access) {}
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
  // Claim the upload for `key` (creating it); nullptr if another stream is writing it.
  Upload* claim(const std::string& key);
  void release(const std::string& key, bool drop);
  grpc::Status write_stream(const grpc::ServerContext& context,
                            grpc::ServerReader<reapi::bytestream::WriteRequest>* reader,
                            reapi::bytestream::WriteRequest& first,
                            reapi::bytestream::WriteResponse* response);

  BlobStore& m_store;
  const Access& m_access;
  std::mutex m_mutex;
  std::map<std::string, Upload> m_uploads; // guarded by m_mutex
};

} // namespace ccrex::server
