#pragma once

// ExecutionService: REAPI Execution (Execute, WaitExecution) with a local worker pool.
//
// Execute validates the request, checks that the Action, Command and the whole input tree
// are in the CAS (FAILED_PRECONDITION with one MISSING violation per absent blob),
// validates the Command and the tree (canonical Directory form, safe names, output path
// rules, platform properties the server offers, timeout <= max), answers from the
// ActionCache unless skip_cache_lookup/do_not_cache, and otherwise queues the action on the
// worker pool. Operations are kept for config.operation_retention after completion so
// WaitExecution can resume a broken stream. Operation names are
// "[{instance}/]operations/{32 hex digits}", 128 bits from the kernel's CSPRNG, so one
// client cannot guess another's operation.
//
// Limits (admission.h): an action that needs a worker takes a queue slot first; when the
// server's or the caller's share is used up, Execute answers RESOURCE_EXHAUSTED at once.
// Each operation counts the streams watching it; one that nobody watched for
// config.abandoned_grace is cancelled (a queued action is dropped, a running one has its
// processes killed) and ends with CANCELLED. Identical requests that share one operation
// keep it alive while any of them waits.
//
// Metrics (metrics.h): each cache lookup, queue slot, start and finished action is reported.
//
// Access (auth.h): both calls need the execute role on the instance (for WaitExecution, the
// instance the operation name starts with).
//
// Thread safety: gRPC calls it concurrently; shutdown() may be called from any thread.

#include "reapi/proto.h"
#include "server/action_cache.h"
#include "server/auth.h"
#include "server/blob_store.h"
#include "server/config.h"
#include "server/metrics.h"
#include "server/sandbox.h"

#include <memory>

namespace ccrex::server {

class ExecutionService final : public reapi::v2::Execution::Service {
public:
  ExecutionService(const Config& config,
                   BlobStore& store,
                   ActionCache& cache,
                   const Access& access,
                   Metrics& metrics);
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
  // What confines the actions this service runs.
  const Sandbox& sandbox() const;

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
  const Access& m_access;
};

} // namespace ccrex::server
