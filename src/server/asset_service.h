#pragma once

// The Remote Asset API (build.bazel.remote.asset.v1) of ccrex-server: a cache of URI to
// content mappings that clients push, over the server's CAS. It never downloads anything:
// Fetch answers only from what was pushed (NOT_FOUND otherwise).
//
//   AssetPushService    PushBlob, PushDirectory   role write-asset (auth.h)
//   AssetFetchService   FetchBlob, FetchDirectory role read
//
// Push accepts a mapping only when everything it names is in the CAS: the blob, or the
// root Directory with every Directory and file below it, plus the referenced blobs and
// directories; otherwise FAILED_PRECONDITION naming a missing digest. One request writes one
// mapping per URI, all with the request's qualifiers (any order; names must be unique).
//
// Fetch tries the URIs in order and answers with the first mapping that has the request's
// qualifiers exactly (same names and values), has not expired (expire_at), was pushed no
// earlier than oldest_content_accepted, and whose content is still complete in the CAS:
// checking it marks every blob recently used, which keeps content that is fetched from
// being evicted, and a mapping whose content was evicted is removed and never answered with
// (no dangling digest). The `timeout` field is ignored: there is nothing to wait for.
//
// Limits (config.h): URIs per request, qualifiers per request, bytes of each URI, name and
// value, and the entries walked in one directory tree (max_input_entries); beyond them the
// request gets INVALID_ARGUMENT (RESOURCE_EXHAUSTED for the tree). The number of mappings
// kept is capped by the AssetStore.
//
// Thread safety: stateless over the shared BlobStore and AssetStore; concurrent calls are
// fine.

#include "server/asset_store.h"
#include "server/auth.h"
#include "server/blob_store.h"
#include "server/config.h"

namespace ccrex::server {

class AssetFetchService final : public reapi::asset::Fetch::Service {
public:
  AssetFetchService(const Config& config,
                    BlobStore& blobs,
                    AssetStore& assets,
                    const Access& access)
      : m_config(config),
        m_blobs(blobs),
        m_assets(assets),
        m_access(access) {}

  grpc::Status FetchBlob(grpc::ServerContext* context,
                         const reapi::asset::FetchBlobRequest* request,
                         reapi::asset::FetchBlobResponse* response) override;
  grpc::Status FetchDirectory(grpc::ServerContext* context,
                              const reapi::asset::FetchDirectoryRequest* request,
                              reapi::asset::FetchDirectoryResponse* response) override;

private:
  const Config& m_config;
  BlobStore& m_blobs;
  AssetStore& m_assets;
  const Access& m_access;
};

class AssetPushService final : public reapi::asset::Push::Service {
public:
  AssetPushService(const Config& config, BlobStore& blobs, AssetStore& assets, const Access& access)
      : m_config(config),
        m_blobs(blobs),
        m_assets(assets),
        m_access(access) {}

  grpc::Status PushBlob(grpc::ServerContext* context,
                        const reapi::asset::PushBlobRequest* request,
                        reapi::asset::PushBlobResponse* response) override;
  grpc::Status PushDirectory(grpc::ServerContext* context,
                             const reapi::asset::PushDirectoryRequest* request,
                             reapi::asset::PushDirectoryResponse* response) override;

private:
  const Config& m_config;
  BlobStore& m_blobs;
  AssetStore& m_assets;
  const Access& m_access;
};

} // namespace ccrex::server
