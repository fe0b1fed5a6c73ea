#include "reapi/retrier.h"

#include <google/rpc/error_details.pb.h>
#include <google/rpc/status.pb.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <thread>

namespace ccrex::reapi {

bool is_retryable(const RetryPolicy& policy, grpc::StatusCode code) {
  switch (code) {
  case grpc::StatusCode::UNAVAILABLE:
  case grpc::StatusCode::RESOURCE_EXHAUSTED:
  case grpc::StatusCode::ABORTED:
  case grpc::StatusCode::INTERNAL:
  case grpc::StatusCode::UNKNOWN:
    return true;
  case grpc::StatusCode::DEADLINE_EXCEEDED:
    return policy.retry_deadline_exceeded;
  default:
    return policy.extra_retryable_codes.count(code) > 0;
  }
}

std::optional<std::chrono::milliseconds> retry_info_delay(const grpc::Status& status) {
  if (status.error_details().empty()) {
    return std::nullopt;
  }
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) {
    return std::nullopt;
  }
  for (const auto& any : details.details()) {
    google::rpc::RetryInfo info;
    if (any.Is<google::rpc::RetryInfo>() && any.UnpackTo(&info) && info.has_retry_delay()) {
      const auto& d = info.retry_delay();
      const int64_t ms = d.seconds() * 1000 + d.nanos() / 1000000;
      return std::chrono::milliseconds(std::max<int64_t>(ms, 0));
    }
  }
  return std::nullopt;
}

RetryEnv RetryEnv::system() {
  RetryEnv env;
  env.sleep = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
  env.now = [] { return std::chrono::system_clock::now(); };
  env.random = [] {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
  };
  return env;
}

std::chrono::milliseconds backoff_delay(const RetryPolicy& policy,
                                        int retry,
                                        double random01,
                                        std::optional<std::chrono::milliseconds> hint) {
  const double base = static_cast<double>(policy.initial_backoff.count())
                      * std::pow(policy.multiplier, std::max(retry - 1, 0));
  const double capped = std::min(base, static_cast<double>(policy.max_backoff.count()));
  const double factor = 1.0 + policy.jitter * (2.0 * random01 - 1.0);
  auto delay = std::chrono::milliseconds(static_cast<int64_t>(std::llround(capped * factor)));
  if (hint && *hint > delay) {
    delay = *hint;
  }
  return delay;
}

Retrier::Retrier(RetryPolicy policy, RetryEnv env)
    : m_policy(std::move(policy)),
      m_env(std::move(env)) {}

grpc::Status Retrier::run(const Prepare& prepare, const Attempt& attempt) {
  m_attempts = 0;
  while (true) {
    grpc::ClientContext ctx;
    if (prepare) {
      prepare(ctx);
    }
    std::optional<std::chrono::system_clock::time_point> deadline = m_deadline;
    if (m_policy.attempt_timeout.count() > 0) {
      const auto attempt_deadline = m_env.now() + m_policy.attempt_timeout;
      deadline = deadline ? std::min(*deadline, attempt_deadline) : attempt_deadline;
    }
    if (deadline) {
      ctx.set_deadline(*deadline);
    }
    ++m_attempts;
    m_status = attempt(ctx);
    if (m_status.ok() || !is_retryable(m_policy, m_status.error_code())
        || m_attempts >= m_policy.max_attempts) {
      return m_status;
    }
    const auto delay =
        backoff_delay(m_policy, m_attempts, m_env.random(), retry_info_delay(m_status));
    if (m_deadline && m_env.now() + delay >= *m_deadline) {
      return m_status;
    }
    m_env.sleep(delay);
  }
}

} // namespace ccrex::reapi
