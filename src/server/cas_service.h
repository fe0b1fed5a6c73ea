#pragma once

// The storage-side REAPI services of ccrex-server:
//   CasService            ContentAddressableStorage (FindMissingBlobs, Batch*, GetTree)
//   CapabilitiesService   GetCapabilities
//   ActionCacheService    GetActionResult (with inlining), UpdateActionResult
// ByteStream lives in bytestream_service.h. All are stateless over a shared BlobStore and
// may be called concurrently. Every handler first asks Access (auth.h) whether its caller
// may make the call.

#include "reapi/proto.h"
#include "server/action_cache.h"
#include "server/auth.h"
#include "server/blob_store.h"
#include "server/config.h"
#include "server/metrics.h"

namespace ccrex::server {

class CasService final : public reapi::v2::ContentAddressableStorage::Service {
public:
  CasService(const Config& config, BlobStore& store, const Access& access, Metrics& metrics)
      : m_config(config),
        m_store(store),
        m_access(access),
        m_metrics(metrics) {}

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
  const Access& m_access;
  Metrics& m_metrics;
};

class CapabilitiesService final : public reapi::v2::Capabilities::Service {
public:
  // Capabilities describe what the caller may do: update_enabled only with the write-ac
  // role, exec_enabled only with the execute role.
  CapabilitiesService(const Config& config, const Access& access)
      : m_config(config),
        m_access(access) {}

  grpc::Status GetCapabilities(grpc::ServerContext* context,
                               const reapi::v2::GetCapabilitiesRequest* request,
                               reapi::v2::ServerCapabilities* response) override;

private:
  // Fill `response` for a caller that may or may not update the ActionCache and execute.
  void
  describe(reapi::v2::ServerCapabilities* response, bool update_enabled, bool exec_enabled) const;

  const Config& m_config;
  const Access& m_access;
};

class ActionCacheService final : public reapi::v2::ActionCache::Service {
public:
  ActionCacheService(BlobStore& store, ActionCache& cache, const Access& access, Metrics& metrics)
      : m_store(store),
        m_cache(cache),
        m_access(access),
        m_metrics(metrics) {}

  grpc::Status GetActionResult(grpc::ServerContext* context,
                               const reapi::v2::GetActionResultRequest* request,
                               reapi::v2::ActionResult* response) override;
  grpc::Status UpdateActionResult(grpc::ServerContext* context,
                                  const reapi::v2::UpdateActionResultRequest* request,
                                  reapi::v2::ActionResult* response) override;

private:
  BlobStore& m_store;
  ActionCache& m_cache;
  const Access& m_access;
  Metrics& m_metrics;
};

} // namespace ccrex::server
