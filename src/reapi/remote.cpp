#include "reapi/remote.h"

#include "reapi/digest.h"

#include <set>

namespace ccrex::reapi {
namespace {

Failure as_failure(const util::Error& error) {
  return failure_from_error(error);
}

// Add `key` and, for a Directory, everything below it to `keys`.
void collect(const ActionInputs& inputs, const std::string& key, std::set<std::string>& keys) {
  if (!keys.insert(key).second) {
    return;
  }
  auto dir = inputs.directories.find(key);
  if (dir == inputs.directories.end()) {
    return;
  }
  for (const auto& file : dir->second.files()) {
    if (!is_empty_blob(file.digest())) {
      keys.insert(to_string(file.digest()));
    }
  }
  for (const auto& child : dir->second.directories()) {
    if (!is_empty_blob(child.digest())) {
      collect(inputs, to_string(child.digest()), keys);
    }
  }
}

} // namespace

util::Result<std::vector<UploadBlob>> blobs_to_reupload(const ActionInputs& inputs,
                                                        const std::vector<v2::Digest>& missing) {
  std::set<std::string> keys;
  for (const auto& d : missing) {
    if (!is_empty_blob(d)) {
      collect(inputs, to_string(d), keys);
    }
  }
  std::vector<UploadBlob> out;
  for (const auto& key : keys) {
    auto it = inputs.blobs.find(key);
    if (it == inputs.blobs.end()) {
      return util::internal_error("the server reports blob " + key
                                  + " missing, which is not an input of this action");
    }
    out.push_back(it->second);
  }
  return out;
}

RemoteResult<ExecuteOutcome> upload_and_execute(RemoteExecutor& remote,
                                                const ActionInputs& inputs,
                                                const ExecuteOptions& options,
                                                int max_rounds) {
  if (auto st = remote.upload_missing(inputs.blobs); !st) {
    return st.error();
  }
  for (int round = 1;; ++round) {
    auto outcome = remote.execute(inputs.action_digest, options);
    if (outcome || outcome.error().kind != FailureKind::missing_blobs || round >= max_rounds) {
      return outcome;
    }
    std::vector<UploadBlob> todo;
    if (outcome.error().missing.empty()) {
      std::vector<v2::Digest> all;
      for (const auto& [key, blob] : inputs.blobs) {
        todo.push_back(blob);
        all.push_back(blob.digest);
      }
      remote.forget(all);
    } else {
      remote.forget(outcome.error().missing);
      auto named = blobs_to_reupload(inputs, outcome.error().missing);
      if (!named) {
        return as_failure(named.error());
      }
      todo = std::move(*named);
    }
    if (auto st = remote.upload(todo); !st) {
      return st.error();
    }
  }
}

GrpcRemoteExecutor::GrpcRemoteExecutor(const std::shared_ptr<grpc::Channel>& channel,
                                       CallSettings settings) {
  auto shared = std::make_shared<const CallSettings>(std::move(settings));
  m_capabilities = CapabilitiesClient::create(channel, shared);
  m_cas = CasClient::create(channel, shared);
  m_action_cache = ActionCacheClient::create(channel, shared);
  m_execution = ExecutionClient::create(channel, shared);
}

GrpcRemoteExecutor::GrpcRemoteExecutor(std::unique_ptr<CapabilitiesClient> capabilities,
                                       std::unique_ptr<CasClient> cas,
                                       std::unique_ptr<ActionCacheClient> action_cache,
                                       std::unique_ptr<ExecutionClient> execution)
    : m_capabilities(std::move(capabilities)),
      m_cas(std::move(cas)),
      m_action_cache(std::move(action_cache)),
      m_execution(std::move(execution)) {}

util::Result<ServerInfo> GrpcRemoteExecutor::server_info() {
  CCREX_ASSIGN_OR_RETURN(auto info, m_capabilities->get());
  m_cas->set_server_batch_limit(info.max_batch_total_size_bytes);
  m_cas->set_compression(info.zstd_blobs);
  return info;
}

RemoteStatus GrpcRemoteExecutor::ensure_capabilities() {
  auto info = server_info();
  if (!info) {
    return as_failure(info.error());
  }
  if (info->incompatible != Incompatibility::none) {
    return as_failure(util::unsupported(info->incompatible_detail));
  }
  return {};
}

RemoteResult<std::optional<v2::ActionResult>>
GrpcRemoteExecutor::lookup(const v2::Digest& action, const InlineOptions& inline_options) {
  CCREX_TRY(ensure_capabilities());
  auto result = m_action_cache->get(action, inline_options);
  if (!result) {
    return as_failure(result.error());
  }
  return std::move(*result);
}

RemoteResult<ExecuteOutcome> GrpcRemoteExecutor::execute(const v2::Digest& action,
                                                         const ExecuteOptions& options) {
  CCREX_TRY(ensure_capabilities());
  auto info = server_info();
  if (!info) {
    return as_failure(info.error());
  }
  if (!info->exec_enabled) {
    return as_failure(util::unsupported("the server does not offer remote execution"));
  }
  return m_execution->execute(action, options);
}

RemoteStatus GrpcRemoteExecutor::upload_missing(const BlobMap& blobs) {
  CCREX_TRY(ensure_capabilities());
  if (auto st = m_cas->upload_missing(blobs); !st) {
    return as_failure(st.error());
  }
  return {};
}

RemoteStatus GrpcRemoteExecutor::upload(const std::vector<UploadBlob>& blobs) {
  CCREX_TRY(ensure_capabilities());
  if (auto st = m_cas->upload(blobs); !st) {
    return as_failure(st.error());
  }
  return {};
}

RemoteResult<std::string> GrpcRemoteExecutor::read_blob(const v2::Digest& digest) {
  CCREX_TRY(ensure_capabilities());
  auto data = m_cas->read_blob(digest);
  if (!data) {
    return as_failure(data.error());
  }
  return std::move(*data);
}

RemoteStatus GrpcRemoteExecutor::read_blob_to_file(const v2::Digest& digest,
                                                   const std::string& path,
                                                   mode_t mode) {
  CCREX_TRY(ensure_capabilities());
  if (auto st = m_cas->read_blob_to_file(digest, path, mode); !st) {
    return as_failure(st.error());
  }
  return {};
}

RemoteStatus GrpcRemoteExecutor::update_action_result(const v2::Digest& action,
                                                      const v2::ActionResult& result) {
  CCREX_TRY(ensure_capabilities());
  if (auto st = m_action_cache->update(action, result); !st) {
    return as_failure(st.error());
  }
  return {};
}

void GrpcRemoteExecutor::forget(const std::vector<v2::Digest>& digests) {
  m_cas->forget(digests);
}

bool GrpcRemoteExecutor::holds_all(const BlobMap& blobs) const {
  return m_cas->holds_all(blobs);
}

bool GrpcRemoteExecutor::uploads_without_asking(const BlobMap& blobs) const {
  return m_cas->uploads_without_asking(blobs);
}

RemoteResult<std::map<std::string, std::string>>
GrpcRemoteExecutor::read_blobs(const std::vector<v2::Digest>& digests) {
  CCREX_TRY(ensure_capabilities());
  auto data = m_cas->read_blobs(digests);
  if (!data) {
    return as_failure(data.error());
  }
  return std::move(*data);
}

} // namespace ccrex::reapi
