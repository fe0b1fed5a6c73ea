#include "server/asset_service.h"

#include "server/grpc_util.h"
#include "util/logging.h"

#include <chrono>
#include <deque>
#include <unordered_set>

namespace ccrex::server {
namespace {

namespace v2 = reapi::v2;
namespace asset = reapi::asset;
using google::protobuf::RepeatedPtrField;

// Largest Directory message read while walking a tree; a bigger "directory" is unusable.
constexpr int64_t k_max_directory_bytes = int64_t{16} << 20;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t to_ms(const google::protobuf::Timestamp& t) {
  return t.seconds() * 1000 + t.nanos() / 1000000;
}

google::protobuf::Timestamp from_ms(int64_t ms) {
  google::protobuf::Timestamp t;
  t.set_seconds(ms / 1000);
  t.set_nanos(static_cast<int32_t>((ms % 1000) * 1000000));
  return t;
}

grpc::Status invalid(std::string message) {
  return {grpc::StatusCode::INVALID_ARGUMENT, std::move(message)};
}

// Check the URIs and qualifiers of a request against the limits.
grpc::Status check_names(const Config& config,
                         const RepeatedPtrField<std::string>& uris,
                         const RepeatedPtrField<asset::Qualifier>& qualifiers) {
  const size_t max_bytes = config.max_asset_string_bytes;
  if (uris.empty()) {
    return invalid("at least one URI is required");
  }
  if (static_cast<size_t>(uris.size()) > config.max_asset_uris) {
    return invalid(std::to_string(uris.size()) + " URIs in one request; the limit is "
                   + std::to_string(config.max_asset_uris));
  }
  for (const auto& uri : uris) {
    if (uri.empty()) {
      return invalid("a URI is empty");
    }
    if (uri.size() > max_bytes) {
      return invalid("a URI of " + std::to_string(uri.size()) + " bytes; the limit is "
                     + std::to_string(max_bytes));
    }
  }
  if (static_cast<size_t>(qualifiers.size()) > config.max_asset_qualifiers) {
    return invalid(std::to_string(qualifiers.size()) + " qualifiers in one request; the limit is "
                   + std::to_string(config.max_asset_qualifiers));
  }
  for (const auto& q : qualifiers) {
    if (q.name().size() > max_bytes || q.value().size() > max_bytes) {
      return invalid("a qualifier name or value longer than " + std::to_string(max_bytes)
                     + " bytes");
    }
  }
  return grpc::Status::OK;
}

bool present(BlobStore& blobs, const v2::Digest& d) {
  return reapi::is_empty_blob(d) || blobs.contains(reapi::from_proto(d));
}

// Walks what a mapping needs and reports the first digest missing from the CAS (or
// unusable, such as a "directory" that is not a Directory). Every blob it checks is marked
// recently used in the BlobStore.
class Completeness {
public:
  // The first digest found missing, if any.
  using Missing = std::optional<v2::Digest>;

  Completeness(BlobStore& blobs, int64_t max_entries)
      : m_blobs(blobs),
        m_max_entries(max_entries) {}

  // The first missing digest of the tree below `root`, or nullopt when it is complete.
  util::Result<Missing> tree(const v2::Digest& root) {
    std::deque<v2::Digest> queue{root};
    while (!queue.empty()) {
      const v2::Digest d = queue.front();
      queue.pop_front();
      if (!m_seen.insert(d.hash()).second) {
        continue;
      }
      if (d.size_bytes() > k_max_directory_bytes) {
        return Missing(d);
      }
      std::string bytes;
      if (!reapi::is_empty_blob(d)) {
        auto read = m_blobs.read(reapi::from_proto(d));
        if (!read) {
          return Missing(d);
        }
        bytes = std::move(*read);
      }
      v2::Directory dir;
      if (!dir.ParseFromString(bytes)) {
        return Missing(d);
      }
      m_entries += dir.files_size() + dir.directories_size() + dir.symlinks_size();
      if (m_entries > m_max_entries) {
        return util::Error(util::ErrorCode::resource_exhausted,
                           "the directory tree has more than " + std::to_string(m_max_entries)
                               + " entries");
      }
      for (const auto& f : dir.files()) {
        if (!present(m_blobs, f.digest())) {
          return Missing(f.digest());
        }
      }
      for (const auto& child : dir.directories()) {
        queue.push_back(child.digest());
      }
    }
    return Missing();
  }

  // The first missing digest of everything `record` of `kind` needs.
  util::Result<Missing> record(AssetKind kind, const AssetRecord& record) {
    if (kind == AssetKind::directory) {
      CCREX_ASSIGN_OR_RETURN(auto missing, tree(record.target));
      if (missing) {
        return missing;
      }
    } else if (!present(m_blobs, record.target)) {
      return Missing(record.target);
    }
    for (const auto& d : record.referenced_blobs) {
      if (!present(m_blobs, d)) {
        return Missing(d);
      }
    }
    for (const auto& d : record.referenced_directories) {
      CCREX_ASSIGN_OR_RETURN(auto missing, tree(d));
      if (missing) {
        return missing;
      }
    }
    return Missing();
  }

private:
  BlobStore& m_blobs;
  int64_t m_max_entries;
  int64_t m_entries = 0;
  std::unordered_set<std::string> m_seen;
};

// What Fetch found: the URI that matched and its mapping.
struct Found {
  std::string uri;
  AssetRecord record;
};

// The fields FetchBlobRequest and FetchDirectoryRequest share.
struct FetchQuery {
  const std::string& instance;
  const RepeatedPtrField<std::string>& uris;
  const RepeatedPtrField<asset::Qualifier>& qualifiers;
  // 0: any age.
  int64_t oldest_ms = 0;
};

template <typename Request>
FetchQuery query_of(const Request& request) {
  FetchQuery q{request.instance_name(), request.uris(), request.qualifiers()};
  if (request.has_oldest_content_accepted()) {
    q.oldest_ms = to_ms(request.oldest_content_accepted());
  }
  return q;
}

// Answer a Fetch: the first URI with a usable mapping, or NOT_FOUND.
grpc::Status fetch(const Config& config,
                   BlobStore& blobs,
                   AssetStore& assets,
                   const FetchQuery& query,
                   AssetKind kind,
                   Found& found) {
  if (auto st = check_names(config, query.uris, query.qualifiers); !st.ok()) {
    return st;
  }
  const int64_t now = now_ms();
  for (const auto& uri : query.uris) {
    auto key = make_asset_key(query.instance, kind, uri, query.qualifiers);
    if (!key) {
      return invalid(key.error().message());
    }
    auto record = assets.get(*key);
    if (!record) {
      continue;
    }
    if (record->expires_at_ms != 0 && record->expires_at_ms <= now) {
      CCREX_LOG_DEBUG("asset " << uri << ": expired, removed");
      assets.remove(*key);
      continue;
    }
    if (record->pushed_at_ms < query.oldest_ms) {
      continue;
    }
    Completeness check(blobs, config.max_input_entries);
    auto missing = check.record(kind, *record);
    if (!missing) {
      return reapi::to_grpc(missing.error());
    }
    if (*missing) {
      CCREX_LOG_INFO("asset " << uri << ": " << reapi::to_string(**missing)
                              << " is no longer in the CAS; mapping removed");
      assets.remove(*key);
      continue;
    }
    found.uri = uri;
    found.record = std::move(*record);
    return grpc::Status::OK;
  }
  return {grpc::StatusCode::NOT_FOUND,
          "no " + std::string(kind == AssetKind::blob ? "blob" : "directory") + " was pushed for "
              + (query.uris.size() == 1 ? "this URI" : "these URIs")
              + " with these qualifiers (this server never downloads)"};
}

template <typename Response>
void fill_response(const Found& found,
                   const RepeatedPtrField<asset::Qualifier>& qualifiers,
                   Response& response) {
  *response.mutable_status() = rpc_status(grpc::StatusCode::OK, "");
  response.set_uri(found.uri);
  *response.mutable_qualifiers() = qualifiers;
  if (found.record.expires_at_ms != 0) {
    *response.mutable_expires_at() = from_ms(found.record.expires_at_ms);
  }
}

// Store a pushed mapping for every URI of `request`, after checking that its content is
// complete in the CAS.
template <typename Request>
grpc::Status push(const Config& config,
                  BlobStore& blobs,
                  AssetStore& assets,
                  const Request& request,
                  AssetKind kind,
                  const v2::Digest& target) {
  if (auto st = check_names(config, request.uris(), request.qualifiers()); !st.ok()) {
    return st;
  }
  if (auto st =
          check_digest(target, kind == AssetKind::blob ? "blob_digest" : "root_directory_digest");
      !st.ok()) {
    return st;
  }
  AssetRecord record;
  record.target = target;
  for (const auto& d : request.references_blobs()) {
    if (auto st = check_digest(d, "references_blobs"); !st.ok()) {
      return st;
    }
    record.referenced_blobs.push_back(d);
  }
  for (const auto& d : request.references_directories()) {
    if (auto st = check_digest(d, "references_directories"); !st.ok()) {
      return st;
    }
    record.referenced_directories.push_back(d);
  }
  if (record.referenced_blobs.size() + record.referenced_directories.size()
      > config.max_asset_uris) {
    return invalid("more than " + std::to_string(config.max_asset_uris)
                   + " referenced blobs and directories");
  }
  record.pushed_at_ms = now_ms();
  if (request.has_expire_at()) {
    const auto& t = request.expire_at();
    if (t.seconds() < 0 || t.nanos() < 0 || t.nanos() >= 1000000000) {
      return invalid("expire_at is not a valid time");
    }
    record.expires_at_ms = std::max<int64_t>(1, to_ms(t));
    if (record.expires_at_ms <= record.pushed_at_ms) {
      return invalid("expire_at is in the past");
    }
  }
  std::vector<AssetKey> keys;
  for (const auto& uri : request.uris()) {
    auto key = make_asset_key(request.instance_name(), kind, uri, request.qualifiers());
    if (!key) {
      return invalid(key.error().message());
    }
    keys.push_back(std::move(*key));
  }
  Completeness check(blobs, config.max_input_entries);
  auto missing = check.record(kind, record);
  if (!missing) {
    return reapi::to_grpc(missing.error());
  }
  if (*missing) {
    return {grpc::StatusCode::FAILED_PRECONDITION,
            "the pushed content is not in the CAS: " + reapi::to_string(**missing)
                + " is missing (upload every blob before pushing the mapping)"};
  }
  for (const auto& key : keys) {
    if (auto st = assets.put(key, record); !st) {
      return reapi::to_grpc(st.error());
    }
  }
  CCREX_LOG_DEBUG("asset " << request.uris(0) << ": now " << reapi::to_string(target));
  return grpc::Status::OK;
}

} // namespace

grpc::Status AssetFetchService::FetchBlob(grpc::ServerContext* context,
                                          const asset::FetchBlobRequest* request,
                                          asset::FetchBlobResponse* response) {
  return guarded("FetchBlob", [&]() -> grpc::Status {
    if (auto st = m_access.check(*context, Role::read, request->instance_name(), "FetchBlob");
        !st.ok()) {
      return st;
    }
    Found found;
    auto st = fetch(m_config, m_blobs, m_assets, query_of(*request), AssetKind::blob, found);
    if (!st.ok()) {
      return st;
    }
    fill_response(found, request->qualifiers(), *response);
    *response->mutable_blob_digest() = found.record.target;
    return grpc::Status::OK;
  });
}

grpc::Status AssetFetchService::FetchDirectory(grpc::ServerContext* context,
                                               const asset::FetchDirectoryRequest* request,
                                               asset::FetchDirectoryResponse* response) {
  return guarded("FetchDirectory", [&]() -> grpc::Status {
    if (auto st = m_access.check(*context, Role::read, request->instance_name(), "FetchDirectory");
        !st.ok()) {
      return st;
    }
    Found found;
    auto st = fetch(m_config, m_blobs, m_assets, query_of(*request), AssetKind::directory, found);
    if (!st.ok()) {
      return st;
    }
    fill_response(found, request->qualifiers(), *response);
    *response->mutable_root_directory_digest() = found.record.target;
    return grpc::Status::OK;
  });
}

grpc::Status AssetPushService::PushBlob(grpc::ServerContext* context,
                                        const asset::PushBlobRequest* request,
                                        asset::PushBlobResponse* /*response*/) {
  return guarded("PushBlob", [&]() -> grpc::Status {
    if (auto st = m_access.check(*context, Role::write_asset, request->instance_name(), "PushBlob");
        !st.ok()) {
      return st;
    }
    return push(m_config, m_blobs, m_assets, *request, AssetKind::blob, request->blob_digest());
  });
}

grpc::Status AssetPushService::PushDirectory(grpc::ServerContext* context,
                                             const asset::PushDirectoryRequest* request,
                                             asset::PushDirectoryResponse* /*response*/) {
  return guarded("PushDirectory", [&]() -> grpc::Status {
    if (auto st =
            m_access.check(*context, Role::write_asset, request->instance_name(), "PushDirectory");
        !st.ok()) {
      return st;
    }
    return push(m_config,
                m_blobs,
                m_assets,
                *request,
                AssetKind::directory,
                request->root_directory_digest());
  });
}

} // namespace ccrex::server
