#include "reapi/execution_client.h"

#include "reapi/digest.h"
#include "reapi/execute_inline.h"
#include "util/logging.h"

#include <algorithm>
#include <optional>

namespace ccrex::reapi {

void CancelToken::cancel() {
  std::lock_guard lock(m_mutex);
  m_cancelled = true;
  if (m_ctx) {
    m_ctx->TryCancel();
  }
}

bool CancelToken::cancelled() const {
  std::lock_guard lock(m_mutex);
  return m_cancelled;
}

void CancelToken::attach(grpc::ClientContext* ctx) {
  std::lock_guard lock(m_mutex);
  m_ctx = ctx;
  if (m_cancelled) {
    ctx->TryCancel();
  }
}

void CancelToken::detach() {
  std::lock_guard lock(m_mutex);
  m_ctx = nullptr;
}

namespace {

Failure make_failure(FailureKind kind, util::ErrorCode code, std::string message) {
  Failure f;
  f.kind = kind;
  f.error = util::Error(code, std::move(message));
  return f;
}

// Detaches the token when a stream attempt ends.
class Attachment {
public:
  Attachment(CancelToken* token, grpc::ClientContext* ctx) : m_token(token) {
    if (m_token) {
      m_token->attach(ctx);
    }
  }
  ~Attachment() {
    if (m_token) {
      m_token->detach();
    }
  }
  Attachment(const Attachment&) = delete;
  Attachment& operator=(const Attachment&) = delete;

private:
  CancelToken* m_token;
};

} // namespace

RemoteResult<ExecuteOutcome> outcome_of(const google::longrunning::Operation& operation) {
  const std::string& name = operation.name();
  if (operation.has_error()) {
    return make_failure(FailureKind::error,
                        util::ErrorCode::internal,
                        "operation " + name + " failed: " + operation.error().message());
  }
  ExecuteOutcome outcome;
  outcome.operation_name = name;
  if (!operation.has_response() || !operation.response().UnpackTo(&outcome.response)) {
    return make_failure(FailureKind::error,
                        util::ErrorCode::data_loss,
                        "operation " + name + " finished without an ExecuteResponse");
  }
  const auto& status = outcome.response.status();
  if (status.code() == grpc::StatusCode::FAILED_PRECONDITION) {
    Failure f = make_failure(FailureKind::missing_blobs,
                             util::ErrorCode::failed_precondition,
                             "execution: " + status.message());
    if (parse_missing_blobs(status, f.missing)) {
      return f;
    }
  }
  if (status.code() == grpc::StatusCode::OK && !outcome.response.has_result()) {
    return make_failure(FailureKind::error,
                        util::ErrorCode::data_loss,
                        "operation " + name + " succeeded without an ActionResult");
  }
  return outcome;
}

struct ExecutionClient::StreamResult {
  std::optional<google::longrunning::Operation> done;
  bool got_message = false;
  grpc::Status status;
};

ExecutionClient::ExecutionClient(std::shared_ptr<v2::Execution::StubInterface> stub,
                                 std::shared_ptr<const CallSettings> settings)
    : m_stub(std::move(stub)),
      m_settings(std::move(settings)) {}

std::unique_ptr<ExecutionClient>
ExecutionClient::create(const std::shared_ptr<grpc::Channel>& channel,
                        std::shared_ptr<const CallSettings> settings) {
  return std::make_unique<ExecutionClient>(v2::Execution::NewStub(channel), std::move(settings));
}

void ExecutionClient::prepare(grpc::ClientContext& ctx,
                              const v2::Digest& action,
                              const ExecuteOptions& options) const {
  m_settings->apply(ctx, action.hash());
  auto deadline = options.deadline;
  if (options.stream_timeout.count() > 0) {
    deadline = std::min(deadline, m_settings->retry_env.now() + options.stream_timeout);
  }
  if (deadline != std::chrono::system_clock::time_point::max()) {
    ctx.set_deadline(deadline);
  }
}

ExecutionClient::StreamResult
ExecutionClient::read_stream(grpc::ClientReaderInterface<google::longrunning::Operation>& reader,
                             std::string& name) const {
  StreamResult r;
  google::longrunning::Operation op;
  while (reader.Read(&op)) {
    r.got_message = true;
    if (name.empty()) {
      name = op.name();
    }
    if (op.done()) {
      r.done = op;
      break;
    }
  }
  r.status = reader.Finish();
  if (!r.done && r.status.ok()) {
    r.status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "stream ended without a result");
  }
  return r;
}

RemoteResult<ExecuteOutcome> ExecutionClient::execute(const v2::Digest& action,
                                                      const ExecuteOptions& options) const {
  const RetryPolicy& policy = m_settings->retry;
  const RetryEnv& env = m_settings->retry_env;
  const int max_execute =
      options.max_execute_calls > 0 ? options.max_execute_calls : policy.max_attempts;
  v2::ExecuteRequest request;
  request.set_instance_name(m_settings->instance_name);
  *request.mutable_action_digest() = action;
  request.set_skip_cache_lookup(options.skip_cache_lookup);
  set_execute_inline(request, options.inline_outputs);

  std::string name;
  int execute_calls = 0;
  int wait_calls = 0;
  int failures_in_a_row = 0;
  while (true) {
    if (options.cancel && options.cancel->cancelled()) {
      return make_failure(
          FailureKind::cancelled, util::ErrorCode::cancelled, "execution cancelled");
    }
    if (env.now() >= options.deadline) {
      return make_failure(FailureKind::timeout,
                          util::ErrorCode::deadline_exceeded,
                          "execution of " + to_string(action) + " did not finish in time");
    }
    const bool waiting = !name.empty();
    grpc::ClientContext ctx;
    prepare(ctx, action, options);
    StreamResult r;
    {
      Attachment attachment(options.cancel, &ctx);
      if (waiting) {
        ++wait_calls;
        v2::WaitExecutionRequest wait;
        wait.set_name(name);
        r = read_stream(*m_stub->WaitExecution(&ctx, wait), name);
      } else {
        ++execute_calls;
        r = read_stream(*m_stub->Execute(&ctx, request), name);
      }
    }
    if (r.done) {
      auto outcome = outcome_of(*r.done);
      if (outcome) {
        outcome->execute_calls = execute_calls;
        outcome->wait_calls = wait_calls;
      }
      return outcome;
    }
    const auto code = r.status.error_code();
    CCREX_LOG_DEBUG((waiting ? "WaitExecution " : "Execute ")
                    << to_string(action) << ": " << r.status.error_message());
    if (options.cancel && options.cancel->cancelled()) {
      continue; // reported at the top of the loop
    }
    if (waiting && code == grpc::StatusCode::NOT_FOUND) {
      name.clear(); // the operation is gone; start over if the budget allows
      if (execute_calls >= max_execute) {
        return failure_from_status(r.status, "WaitExecution");
      }
      continue;
    }
    const bool stream_deadline =
        code == grpc::StatusCode::DEADLINE_EXCEEDED && env.now() < options.deadline;
    if (code == grpc::StatusCode::DEADLINE_EXCEEDED && !stream_deadline) {
      continue; // overall deadline: reported at the top of the loop
    }
    if (!stream_deadline && !is_retryable(policy, code)) {
      return failure_from_status(r.status, waiting ? "WaitExecution" : "Execute");
    }
    failures_in_a_row = r.got_message ? 0 : failures_in_a_row + 1;
    if (stream_deadline && !name.empty()) {
      continue; // a quiet stream: resume at once
    }
    const bool budget_left =
        name.empty() ? execute_calls < max_execute : failures_in_a_row < policy.max_attempts;
    if (!budget_left) {
      return failure_from_status(r.status, waiting ? "WaitExecution" : "Execute");
    }
    if (failures_in_a_row > 0) {
      auto delay =
          backoff_delay(policy, failures_in_a_row, env.random(), retry_info_delay(r.status));
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(options.deadline - env.now());
      env.sleep(std::min(delay, std::max(left, std::chrono::milliseconds(0))));
    }
  }
}

} // namespace ccrex::reapi
