#include "server/cas_service.h"

#include "reapi/compression.h"
#include "server/grpc_util.h"
#include "server/result_inlining.h"
#include "util/file.h"
#include "util/strings.h"

#include <deque>
#include <unordered_set>

namespace ccrex::server {
namespace {

namespace v2 = reapi::v2;

// Walk the tree below `root` breadth first, each distinct directory once, in a stable
// order (so page tokens, which are offsets into this walk, stay valid between pages).
// Directories missing from the CAS are skipped: GetTree returns what exists.
std::vector<v2::Directory> walk_tree(BlobStore& store, const v2::Digest& root) {
  std::vector<v2::Directory> out;
  std::deque<v2::Digest> queue{root};
  std::unordered_set<std::string> seen{root.hash()};
  while (!queue.empty()) {
    const v2::Digest d = queue.front();
    queue.pop_front();
    auto bytes = store.read(reapi::from_proto(d));
    v2::Directory dir;
    if (!bytes || !dir.ParseFromString(*bytes)) {
      continue;
    }
    for (const auto& child : dir.directories()) {
      if (seen.insert(child.digest().hash()).second) {
        queue.push_back(child.digest());
      }
    }
    out.push_back(std::move(dir));
  }
  return out;
}

} // namespace

grpc::Status CasService::FindMissingBlobs(grpc::ServerContext* context,
                                          const v2::FindMissingBlobsRequest* request,
                                          v2::FindMissingBlobsResponse* response) {
  return guarded("FindMissingBlobs", [&]() -> grpc::Status {
    if (auto st =
            m_access.check(*context, Role::read, request->instance_name(), "FindMissingBlobs");
        !st.ok()) {
      return st;
    }
    for (const auto& d : request->blob_digests()) {
      if (auto st = check_digest(d, "blob_digests"); !st.ok()) {
        return st;
      }
    }
    for (const auto& d : request->blob_digests()) {
      if (!m_store.contains(reapi::from_proto(d))) {
        *response->add_missing_blob_digests() = d;
      }
    }
    return grpc::Status::OK;
  });
}

grpc::Status CasService::BatchUpdateBlobs(grpc::ServerContext* context,
                                          const v2::BatchUpdateBlobsRequest* request,
                                          v2::BatchUpdateBlobsResponse* response) {
  return guarded("BatchUpdateBlobs", [&]() -> grpc::Status {
    if (auto st =
            m_access.check(*context, Role::write_cas, request->instance_name(), "BatchUpdateBlobs");
        !st.ok()) {
      return st;
    }
    int64_t total = 0;
    for (const auto& r : request->requests()) {
      total += static_cast<int64_t>(r.data().size());
    }
    if (total > m_config.max_batch_bytes) {
      return {grpc::StatusCode::INVALID_ARGUMENT,
              "batch of " + std::to_string(total) + " bytes exceeds the limit of "
                  + std::to_string(m_config.max_batch_bytes) + "; use ByteStream"};
    }
    m_metrics.cas_bytes_received(total);
    for (const auto& r : request->requests()) {
      auto* out = response->add_responses();
      *out->mutable_digest() = r.digest();
      if (auto st = reapi::validate(r.digest()); !st) {
        *out->mutable_status() =
            rpc_status(grpc::StatusCode::INVALID_ARGUMENT, st.error().message());
        continue;
      }
      auto st = m_store.put(reapi::from_proto(r.digest()), r.data());
      if (!st) {
        const grpc::Status g = reapi::to_grpc(st.error());
        *out->mutable_status() = rpc_status(g.error_code(), g.error_message());
        continue;
      }
      *out->mutable_status() = rpc_status(grpc::StatusCode::OK, "");
    }
    return grpc::Status::OK;
  });
}

grpc::Status CasService::BatchReadBlobs(grpc::ServerContext* context,
                                        const v2::BatchReadBlobsRequest* request,
                                        v2::BatchReadBlobsResponse* response) {
  return guarded("BatchReadBlobs", [&]() -> grpc::Status {
    if (auto st = m_access.check(*context, Role::read, request->instance_name(), "BatchReadBlobs");
        !st.ok()) {
      return st;
    }
    int64_t total = 0;
    for (const auto& d : request->digests()) {
      if (auto st = check_digest(d, "digests"); !st.ok()) {
        return st;
      }
      total += d.size_bytes();
    }
    if (total > m_config.max_batch_bytes) {
      return {grpc::StatusCode::INVALID_ARGUMENT,
              "batch of " + std::to_string(total) + " bytes exceeds the limit of "
                  + std::to_string(m_config.max_batch_bytes) + "; use ByteStream"};
    }
    for (const auto& d : request->digests()) {
      auto* out = response->add_responses();
      *out->mutable_digest() = d;
      auto data = m_store.read(reapi::from_proto(d));
      if (!data) {
        const grpc::Status g = reapi::to_grpc(data.error());
        *out->mutable_status() = rpc_status(g.error_code(), g.error_message());
        continue;
      }
      m_metrics.cas_bytes_sent(static_cast<int64_t>(data->size()));
      out->set_data(std::move(data).value());
      *out->mutable_status() = rpc_status(grpc::StatusCode::OK, "");
    }
    return grpc::Status::OK;
  });
}

grpc::Status CasService::GetTree(grpc::ServerContext* context,
                                 const v2::GetTreeRequest* request,
                                 grpc::ServerWriter<v2::GetTreeResponse>* writer) {
  return guarded("GetTree", [&]() -> grpc::Status {
    if (auto st = m_access.check(*context, Role::read, request->instance_name(), "GetTree");
        !st.ok()) {
      return st;
    }
    if (auto st = check_digest(request->root_digest(), "root_digest"); !st.ok()) {
      return st;
    }
    if (request->page_size() < 0) {
      return {grpc::StatusCode::INVALID_ARGUMENT, "negative page_size"};
    }
    if (!m_store.contains(reapi::from_proto(request->root_digest()))) {
      return {grpc::StatusCode::NOT_FOUND,
              "root directory " + reapi::to_string(request->root_digest()) + " not in CAS"};
    }
    int64_t offset = 0;
    if (!request->page_token().empty()) {
      auto parsed = util::parse_int(request->page_token());
      if (!parsed) {
        return {grpc::StatusCode::INVALID_ARGUMENT, "invalid page_token"};
      }
      offset = *parsed;
    }
    const auto dirs = walk_tree(m_store, request->root_digest());
    const int64_t page = request->page_size() > 0 ? request->page_size() : 1000;
    while (offset < static_cast<int64_t>(dirs.size()) && !context->IsCancelled()) {
      v2::GetTreeResponse resp;
      const int64_t end = std::min<int64_t>(offset + page, static_cast<int64_t>(dirs.size()));
      for (int64_t i = offset; i < end; ++i) {
        *resp.add_directories() = dirs[static_cast<size_t>(i)];
      }
      offset = end;
      if (offset < static_cast<int64_t>(dirs.size())) {
        resp.set_next_page_token(std::to_string(offset));
      }
      writer->Write(resp);
      // With an explicit page size the client asks for one page per call.
      if (request->page_size() > 0) {
        break;
      }
    }
    return grpc::Status::OK;
  });
}

grpc::Status CapabilitiesService::GetCapabilities(grpc::ServerContext* context,
                                                  const v2::GetCapabilitiesRequest* request,
                                                  v2::ServerCapabilities* response) {
  return guarded("GetCapabilities", [&]() -> grpc::Status {
    const std::string& instance = request->instance_name();
    if (auto st = m_access.check(*context, Role::read, instance, "GetCapabilities"); !st.ok()) {
      return st;
    }
    describe(response,
             m_access.allows(*context, Role::write_ac, instance),
             m_access.allows(*context, Role::execute, instance));
    return grpc::Status::OK;
  });
}

void CapabilitiesService::describe(v2::ServerCapabilities* response,
                                   bool update_enabled,
                                   bool exec_enabled) const {
  auto* cache = response->mutable_cache_capabilities();
  cache->add_digest_function(v2::DigestFunction::SHA256);
  cache->mutable_action_cache_update_capabilities()->set_update_enabled(update_enabled);
  cache->set_max_batch_total_size_bytes(m_config.max_batch_bytes);
  cache->set_symlink_absolute_path_strategy(v2::SymlinkAbsolutePathStrategy::DISALLOWED);
  if (offers_compressed_blobs(m_config)) {
    reapi::add_supported_compressor(*cache, reapi::Compressor::zstd);
  }
  auto* exec = response->mutable_execution_capabilities();
  exec->set_digest_function(v2::DigestFunction::SHA256);
  exec->set_exec_enabled(exec_enabled);
  // The configured range (default 2.0-2.2: 2.0 for older clients such as Bazel 4, 2.2 the
  // newest the packaged protos describe). Nothing below the range is accepted with a
  // warning, so deprecated equals low.
  const ApiVersions& versions = m_config.api_versions;
  for (auto* v :
       {response->mutable_deprecated_api_version(), response->mutable_low_api_version()}) {
    v->set_major(2);
    v->set_minor(versions.low_minor);
  }
  response->mutable_high_api_version()->set_major(2);
  response->mutable_high_api_version()->set_minor(versions.high_minor);
}

grpc::Status ActionCacheService::GetActionResult(grpc::ServerContext* context,
                                                 const v2::GetActionResultRequest* request,
                                                 v2::ActionResult* response) {
  return guarded("GetActionResult", [&]() -> grpc::Status {
    if (auto st = m_access.check(*context, Role::read, request->instance_name(), "GetActionResult");
        !st.ok()) {
      return st;
    }
    if (auto st = check_digest(request->action_digest(), "action_digest"); !st.ok()) {
      return st;
    }
    auto result = m_cache.get(request->instance_name(), request->action_digest());
    const std::string short_hash = request->action_digest().hash().substr(0, 12);
    m_metrics.action_cache_lookup(request->instance_name(), result.has_value());
    if (!result) {
      CCREX_LOG_DEBUG("ac " << short_hash << ": not found");
      return {grpc::StatusCode::NOT_FOUND,
              "no result for action " + reapi::to_string(request->action_digest())};
    }
    CCREX_LOG_DEBUG("ac " << short_hash << ": found, exit " << result->exit_code());
    reapi::InlineOptions wanted;
    wanted.inline_stdout = request->inline_stdout();
    wanted.inline_stderr = request->inline_stderr();
    wanted.inline_output_files.assign(request->inline_output_files().begin(),
                                      request->inline_output_files().end());
    inline_outputs(m_store, wanted, *result);
    *response = std::move(*result);
    return grpc::Status::OK;
  });
}

grpc::Status ActionCacheService::UpdateActionResult(grpc::ServerContext* context,
                                                    const v2::UpdateActionResultRequest* request,
                                                    v2::ActionResult* response) {
  return guarded("UpdateActionResult", [&]() -> grpc::Status {
    if (auto st = m_access.check(
            *context, Role::write_ac, request->instance_name(), "UpdateActionResult");
        !st.ok()) {
      return st;
    }
    if (auto st = check_digest(request->action_digest(), "action_digest"); !st.ok()) {
      return st;
    }
    for (const auto& f : request->action_result().output_files()) {
      if (auto st = check_digest(f.digest(), "output_files.digest"); !st.ok()) {
        return st;
      }
      if (!util::is_safe_relative_path(f.path())) {
        return {grpc::StatusCode::INVALID_ARGUMENT, "unsafe output path '" + f.path() + "'"};
      }
    }
    auto st =
        m_cache.put(request->instance_name(), request->action_digest(), request->action_result());
    if (!st) {
      return reapi::to_grpc(st.error());
    }
    CCREX_LOG_INFO("ac " << request->action_digest().hash().substr(0, 12) << ": updated");
    auto stored = m_cache.get(request->instance_name(), request->action_digest());
    *response = stored ? std::move(*stored) : request->action_result();
    return grpc::Status::OK;
  });
}

} // namespace ccrex::server
