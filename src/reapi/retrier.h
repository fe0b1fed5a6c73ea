#pragma once

// Retries of one gRPC invocation with exponential backoff, jitter and the server's
// google.rpc.RetryInfo hint (REAPI §11.11).
//
//   RetryPolicy policy;                 // 100 ms start, x2, cap 5 s, 6 attempts
//   Retrier retrier(policy);
//   v2::ActionResult result;
//   grpc::Status st = retrier.run(
//       [&](grpc::ClientContext& ctx) { settings.apply(ctx); },
//       [&](grpc::ClientContext& ctx) { return stub.GetActionResult(&ctx, request, &result); });
//   if (!st.ok()) { log(st.error_message() << " after " << retrier.attempts() << " attempts"); }
//
// Every attempt gets a fresh ClientContext, prepared by the first callback (metadata) and
// given the per-attempt deadline. The attempt callback must be safe to repeat; code that
// keeps progress across attempts (ByteStream reads resuming at an offset) captures it.
//
// Thread safety: a Retrier is used by one thread at a time; make one per invocation.

#include <grpcpp/client_context.h>
#include <grpcpp/support/status.h>

#include <chrono>
#include <functional>
#include <optional>
#include <set>

namespace ccrex::reapi {

struct RetryPolicy {
  // Total number of attempts, the first one included (Bazel: 1 + 5 retries).
  int max_attempts = 6;
  // Delay before the first retry; each further retry multiplies it by `multiplier`.
  std::chrono::milliseconds initial_backoff{100};
  double multiplier = 2.0;
  // Upper bound of a single delay (before jitter).
  std::chrono::milliseconds max_backoff{5000};
  // Relative jitter: a delay d becomes a uniform value in [d * (1 - jitter), d * (1 + jitter)].
  double jitter = 0.1;
  // Deadline of each attempt; zero means none.
  std::chrono::milliseconds attempt_timeout{0};
  // Whether DEADLINE_EXCEEDED is retried (it is by default; per-attempt timeouts rely on it).
  bool retry_deadline_exceeded = true;
  // Codes retried in addition to UNAVAILABLE, RESOURCE_EXHAUSTED, ABORTED, INTERNAL, UNKNOWN.
  std::set<grpc::StatusCode> extra_retryable_codes;
};

// Return whether `policy` retries `code`.
bool is_retryable(const RetryPolicy& policy, grpc::StatusCode code);

// Return the RetryInfo delay carried in the details of `status`, if any.
std::optional<std::chrono::milliseconds> retry_info_delay(const grpc::Status& status);

// Time and randomness used by retries; tests replace them to run without sleeping.
struct RetryEnv {
  std::function<void(std::chrono::milliseconds)> sleep;
  std::function<std::chrono::system_clock::time_point()> now;
  // Uniform value in [0, 1).
  std::function<double()> random;

  // The real clock, std::this_thread::sleep_for and a thread-local PRNG.
  static RetryEnv system();
};

// Return the delay before retry number `retry` (1 for the first retry) under `policy`,
// jittered with `random01`, and raised to `hint` (the server's RetryInfo) when longer.
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy,
                                        int retry,
                                        double random01,
                                        std::optional<std::chrono::milliseconds> hint);

class Retrier {
public:
  using Prepare = std::function<void(grpc::ClientContext&)>;
  using Attempt = std::function<grpc::Status(grpc::ClientContext&)>;

  explicit Retrier(RetryPolicy policy, RetryEnv env = RetryEnv::system());

  // Stop retrying at `deadline` (no sleep may end after it); each attempt's deadline is
  // also capped by it. Default: none.
  void set_deadline(std::chrono::system_clock::time_point deadline) { m_deadline = deadline; }

  // Run `attempt` until it succeeds, fails with a non-retryable code, or the attempts or the
  // deadline are used up. Return the final status (also kept in status()).
  grpc::Status run(const Prepare& prepare, const Attempt& attempt);

  const grpc::Status& status() const { return m_status; }
  // Number of attempts made by the last run().
  int attempts() const { return m_attempts; }

private:
  RetryPolicy m_policy;
  RetryEnv m_env;
  std::optional<std::chrono::system_clock::time_point> m_deadline;
  grpc::Status m_status;
  int m_attempts = 0;
};

} // namespace ccrex::reapi
