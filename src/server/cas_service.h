#pragma once

// The storage-side REAPI services of ccrex-server:
//   CasService            ContentAddressableStorage (FindMissingBlobs, Batch*, GetTree)
//   CapabilitiesService   GetCapabilities
//   ActionCacheService    GetActionResult (with inlining), UpdateActionResult
// ByteStream lives in bytestream_service.h. All are stateless over a shared BlobStore and
// may be called concurrently.

#include "reapi/proto.h"
#include "server/action_cache.h"
#include "server/blob_store.h"
#include "server/config.h"

namespace ccrex::server {

class CasService final : public reapi::v2::ContentAddressableStorage::Service {
public:
  CasService(const Config& config, BlobStore& store) : m_config(config), m_store(store) {}

  grpc::Status FindMissingBlobs(grpc::ServerContext* context,
                                const reapi::v2::FindMissingBlobsRequest* request,
                                reapi::v2::FindMissingBlobsResponse* response) override;
  grpc::Status BatchUpdateBlobs(grpc::ServerContext* context,
                                const reapi::v2::BatchUpdateBlobsRequest* request,
                                reapi::v2::BatchUpdateBlobsResponse* response) override;
  grpc::Status BatchReadBlobs(grpc::ServerContext* context,
                              const reapi::v2::BatchReadBlobsRequest* request,
                              reapi::v2::BatchReadBlobsResponse* response) override;
  grpc::Status GetTree(grpc::ServerContext* context,
                       const reapi::v2::GetTreeRequest* request,
                       grpc::ServerWriter<reapi::v2::GetTreeResponse>* writer) override;

private:
  const Config& m_config;
  BlobStore& m_store;
};

class CapabilitiesService final : public reapi::v2::Capabilities::Service {
public:
  explicit CapabilitiesService(const Config& config) : m_config(config) {}

  grpc::Status GetCapabilities(grpc::ServerContext* context,
                               const reapi::v2::GetCapabilitiesRequest* request,
                               reapi::v2::ServerCapabilities* response) override;

private:
  const Config& m_config;
};

class ActionCacheService final : public reapi::v2::ActionCache::Service {
public:
  ActionCacheService(BlobStore& store, ActionCache& cache) : m_store(store), m_cache(cache) {}

  grpc::Status GetActionResult(grpc::ServerContext* context,
                               const reapi::v2::GetActionResultRequest* request,
                               reapi::v2::ActionResult* response) override;
  grpc::Status UpdateActionResult(grpc::ServerContext* context,
                                  const reapi::v2::UpdateActionResultRequest* request,
                                  reapi::v2::ActionResult* response) override;

private:
  BlobStore& m_store;
  ActionCache& m_cache;
};

// Largest total of inlined bytes in one GetActionResult answer.
inline constexpr int64_t k_max_inline_bytes = int64_t{1} << 20;

} // namespace ccrex::server
