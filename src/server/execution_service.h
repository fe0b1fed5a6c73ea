#pragma once

// ExecutionService: REAPI Execution (Execute, WaitExecution) with a local worker pool.
//
// Execute validates the request, checks that the Action, Command and the whole input tree
// are in the CAS (FAILED_PRECONDITION with one MISSING violation per absent blob),
// validates the Command and the tree (canonical Directory form, safe names, output path
// rules, platform properties the server offers, timeout <= max), answers from the
// ActionCache unless skip_cache_lookup/do_not_cache, and otherwise queues the action on the
// worker pool. Operations are kept for config.operation_retention after completion so
// WaitExecution can resume a broken stream.
//
// Thread safety: gRPC calls it concurrently; shutdown() may be called from any thread.

#include "reapi/proto.h"
#include "server/action_cache.h"
#include "server/blob_store.h"
#include "server/config.h"

#include <memory>

namespace ccrex::server {

class ExecutionService final : public reapi::v2::Execution::Service {
public:
  ExecutionService(const Config& config, BlobStore& store, ActionCache& cache);
  ~ExecutionService() override;
  ExecutionService(const ExecutionService&) = delete;
  ExecutionService& operator=(const ExecutionService&) = delete;

  grpc::Status Execute(grpc::ServerContext* context,
                       const reapi::v2::ExecuteRequest* request,
                       grpc::ServerWriter<google::longrunning::Operation>* writer) override;
  grpc::Status WaitExecution(grpc::ServerContext* context,
                             const reapi::v2::WaitExecutionRequest* request,
                             grpc::ServerWriter<google::longrunning::Operation>* writer) override;

  // Kill running actions, fail queued ones and wake every waiting stream.
  void shutdown();

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

} // namespace ccrex::server
