#pragma once

// RemoteExecutor: the narrow interface the agent uses to reach a REAPI server. Every method
// returns a Failure whose kind tells the caller what to do (see reapi/failure.h): fall back
// on timeout or unavailable, re-upload on missing_blobs, report an error otherwise. A cache
// miss is not a failure (an empty optional), and neither is a compile error (a result with
// a non-zero exit code).
//
// GrpcRemoteExecutor implements it over one channel with the clients of this module;
// test/support/fake_remote.h has an in-memory one for tests.
//
// Thread safety: implementations must be thread-safe; the agent calls them from its workers.

#include "reapi/action_cache_client.h"
#include "reapi/blob.h"
#include "reapi/capabilities.h"
#include "reapi/cas_client.h"
#include "reapi/execution_client.h"
#include "reapi/failure.h"

#include <sys/types.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ccrex::reapi {

using RemoteStatus = util::Result<void, Failure>;

class RemoteExecutor {
public:
  virtual ~RemoteExecutor() = default;

  // Return the cached result of `action`, or nullopt on a miss.
  virtual RemoteResult<std::optional<v2::ActionResult>>
  lookup(const v2::Digest& action, const InlineOptions& inline_options) = 0;
  // Execute `action` (its blobs must be uploaded) and wait for the result.
  virtual RemoteResult<ExecuteOutcome> execute(const v2::Digest& action,
                                               const ExecuteOptions& options) = 0;
  // Upload those of `blobs` that the server does not have.
  virtual RemoteStatus upload_missing(const BlobMap& blobs) = 0;
  // Upload exactly `blobs`, without asking what is missing.
  virtual RemoteStatus upload(const std::vector<UploadBlob>& blobs) = 0;
  // Return the verified content of `digest`.
  virtual RemoteResult<std::string> read_blob(const v2::Digest& digest) = 0;
  // Write the verified content of `digest` to `path` atomically with `mode`.
  virtual RemoteStatus
  read_blob_to_file(const v2::Digest& digest, const std::string& path, mode_t mode) = 0;
  // Store `result` for `action` (cache-only mode; its blobs must be uploaded first).
  virtual RemoteStatus update_action_result(const v2::Digest& action,
                                            const v2::ActionResult& result) = 0;
  // Stop assuming the server holds `digests` (it reported them missing). Implementations
  // that remember nothing ignore it.
  virtual void forget(const std::vector<v2::Digest>& digests) { (void)digests; }
};

// Everything an Execute needs in the CAS.
struct ActionInputs {
  v2::Digest action_digest;
  // The Action and Command messages and the input root's blobs (InputRoot::blobs).
  BlobMap blobs;
  // The input root's Directory messages (InputRoot::directories), used to re-upload the
  // whole subtree below a Directory the server reports missing.
  std::map<std::string, v2::Directory> directories;
};

// Upload what is missing, execute, and on a missing_blobs failure forget and upload exactly
// the named blobs (subtrees for Directories; everything when none were named) and execute
// again, for at most `max_rounds` executions in total (REAPI §6.4).
RemoteResult<ExecuteOutcome> upload_and_execute(RemoteExecutor& remote,
                                                const ActionInputs& inputs,
                                                const ExecuteOptions& options,
                                                int max_rounds = 3);

// Return the blobs to re-upload for `missing`: each named blob, plus every blob below a
// named Directory. Fails if a digest is not among `inputs.blobs` (and not the empty blob).
util::Result<std::vector<UploadBlob>> blobs_to_reupload(const ActionInputs& inputs,
                                                        const std::vector<v2::Digest>& missing);

class GrpcRemoteExecutor final : public RemoteExecutor {
public:
  // Use `channel` with `settings`; no call is made until the first method.
  GrpcRemoteExecutor(const std::shared_ptr<grpc::Channel>& channel, CallSettings settings);
  // Build from the individual clients (tests inject clients on mock stubs).
  GrpcRemoteExecutor(std::unique_ptr<CapabilitiesClient> capabilities,
                     std::unique_ptr<CasClient> cas,
                     std::unique_ptr<ActionCacheClient> action_cache,
                     std::unique_ptr<ExecutionClient> execution);

  // Return the server's checked capabilities (fetched once).
  util::Result<ServerInfo> server_info();

  RemoteResult<std::optional<v2::ActionResult>>
  lookup(const v2::Digest& action, const InlineOptions& inline_options) override;
  RemoteResult<ExecuteOutcome> execute(const v2::Digest& action,
                                       const ExecuteOptions& options) override;
  RemoteStatus upload_missing(const BlobMap& blobs) override;
  RemoteStatus upload(const std::vector<UploadBlob>& blobs) override;
  RemoteResult<std::string> read_blob(const v2::Digest& digest) override;
  RemoteStatus
  read_blob_to_file(const v2::Digest& digest, const std::string& path, mode_t mode) override;
  RemoteStatus update_action_result(const v2::Digest& action,
                                    const v2::ActionResult& result) override;
  void forget(const std::vector<v2::Digest>& digests) override;

  // Whether every blob of `blobs` is known to be on the server (no call is made).
  bool holds_all(const BlobMap& blobs) const;
  // Whether upload_missing(blobs) would be one upload, sent without asking what is missing
  // (CasClient::uploads_without_asking).
  bool uploads_without_asking(const BlobMap& blobs) const;
  // Return the verified contents of `digests` keyed by "hash/size", in as few batch
  // requests as the server's limits allow.
  RemoteResult<std::map<std::string, std::string>>
  read_blobs(const std::vector<v2::Digest>& digests);

private:
  RemoteStatus ensure_capabilities();

  std::unique_ptr<CapabilitiesClient> m_capabilities;
  std::unique_ptr<CasClient> m_cas;
  std::unique_ptr<ActionCacheClient> m_action_cache;
  std::unique_ptr<ExecutionClient> m_execution;
};

} // namespace ccrex::reapi
