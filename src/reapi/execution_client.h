#pragma once

// ExecutionClient: runs an action with Execute and follows it to the end (REAPI §6.5).
//
// - The first Operation's name is remembered. When the stream breaks after that (error,
//   per-stream deadline, end without `done`), WaitExecution(name) takes over, with backoff
//   on errors; the backoff resets whenever a message arrives.
// - WaitExecution NOT_FOUND means the operation is gone: Execute again (bounded).
// - Errors before any Operation are retried with Execute when retryable (bounded).
// - A done Operation with `error` set, without a response, or with an OK response lacking a
//   result is an error (never retried: it would not change).
// - FAILED_PRECONDITION with MISSING violations, as call status or as
//   ExecuteResponse.status, becomes a missing_blobs Failure listing the digests.
// - Any other ExecuteResponse.status (e.g. DEADLINE_EXCEEDED: the action's own timeout) is
//   returned in the outcome, distinct from call-level failures.
//
// Every call carries the RequestMetadata header with the action digest as action_id.
// Thread safety: execute() is thread-safe; CancelToken::cancel() may be called from any
// thread while execute() runs.

#include "reapi/action_cache_client.h"
#include "reapi/call_settings.h"
#include "reapi/failure.h"
#include "reapi/proto.h"

#include <grpcpp/channel.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

namespace ccrex::reapi {

// Lets another thread stop an execute() in progress (it then fails with `cancelled`).
class CancelToken {
public:
  void cancel();
  bool cancelled() const;

  // Used by clients: cancel `ctx` if cancel() is (or was) called while it is attached.
  void attach(grpc::ClientContext* ctx);
  void detach();

private:
  mutable std::mutex m_mutex;
  grpc::ClientContext* m_ctx = nullptr;
  bool m_cancelled = false;
};

struct ExecuteOptions {
  bool skip_cache_lookup = false;
  // What the server should put in the response's ActionResult (REAPI 2.9 hints, see
  // execute_inline.h); ignored by older servers and not repeated on WaitExecution.
  InlineOptions inline_outputs;
  // Give up (timeout) at this point.
  std::chrono::system_clock::time_point deadline = std::chrono::system_clock::time_point::max();
  // Deadline of each Execute/WaitExecution stream; when it fires the client resumes with
  // WaitExecution (a silent but healthy server costs one reconnect). Zero: none.
  std::chrono::milliseconds stream_timeout{0};
  // Execute calls allowed in total (first call, retries before an Operation arrived, and
  // re-executions after WaitExecution NOT_FOUND). Zero: the retry policy's max_attempts.
  int max_execute_calls = 0;
  // Optional cancellation hook.
  CancelToken* cancel = nullptr;
};

struct ExecuteOutcome {
  // The server's ExecuteResponse: status (the action-level status), result,
  // cached_result, message, server_logs.
  v2::ExecuteResponse response;
  // Name of the operation that produced it.
  std::string operation_name;
  // Execute and WaitExecution calls made.
  int execute_calls = 0;
  int wait_calls = 0;
};

class ExecutionClient {
public:
  ExecutionClient(std::shared_ptr<v2::Execution::StubInterface> stub,
                  std::shared_ptr<const CallSettings> settings);
  static std::unique_ptr<ExecutionClient> create(const std::shared_ptr<grpc::Channel>& channel,
                                                 std::shared_ptr<const CallSettings> settings);

  // Execute `action` and wait for its result.
  RemoteResult<ExecuteOutcome> execute(const v2::Digest& action,
                                       const ExecuteOptions& options = {}) const;

private:
  struct StreamResult;
  StreamResult read_stream(grpc::ClientReaderInterface<google::longrunning::Operation>& reader,
                           std::string& name) const;
  void
  prepare(grpc::ClientContext& ctx, const v2::Digest& action, const ExecuteOptions& options) const;

  std::shared_ptr<v2::Execution::StubInterface> m_stub;
  std::shared_ptr<const CallSettings> m_settings;
};

// Turn a done Operation into an outcome or a Failure (see the class comment).
RemoteResult<ExecuteOutcome> outcome_of(const google::longrunning::Operation& operation);

} // namespace ccrex::reapi
