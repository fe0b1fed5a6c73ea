#include "reapi/retrier.h"

#include <google/rpc/error_details.pb.h>
#include <google/rpc/status.pb.h>
#include <gtest/gtest.h>

#include <vector>

namespace ccrex::reapi {
namespace {

using std::chrono::milliseconds;

class RetrierTest : public ::testing::Test {
protected:
  std::vector<milliseconds> sleeps;
  std::chrono::system_clock::time_point now{std::chrono::seconds(1000)};

  RetryEnv env() {
    RetryEnv e;
    e.sleep = [this](milliseconds d) {
      sleeps.push_back(d);
      now += d;
    };
    e.now = [this] { return now; };
    e.random = [] { return 0.5; }; // no jitter
    return e;
  }
};

grpc::Status fail(grpc::StatusCode code) {
  return {code, "nope"};
}

TEST_F(RetrierTest, RetriesTransientCodesWithExponentialBackoff) {
  RetryPolicy policy;
  policy.max_attempts = 4;
  Retrier retrier(policy, env());
  std::vector<grpc::Status> script{fail(grpc::StatusCode::UNAVAILABLE),
                                   fail(grpc::StatusCode::RESOURCE_EXHAUSTED),
                                   fail(grpc::StatusCode::ABORTED),
                                   grpc::Status::OK};
  size_t i = 0;
  auto st = retrier.run(nullptr, [&](grpc::ClientContext&) { return script[i++]; });
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(retrier.attempts(), 4);
  EXPECT_EQ(sleeps,
            (std::vector<milliseconds>{milliseconds(100), milliseconds(200), milliseconds(400)}));
}

TEST_F(RetrierTest, StopsAfterMaxAttemptsWithTheLastStatus) {
  RetryPolicy policy;
  policy.max_attempts = 3;
  Retrier retrier(policy, env());
  auto st =
      retrier.run(nullptr, [](grpc::ClientContext&) { return fail(grpc::StatusCode::INTERNAL); });
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(retrier.attempts(), 3);
  EXPECT_EQ(retrier.status().error_code(), grpc::StatusCode::INTERNAL);
  EXPECT_EQ(sleeps.size(), 2U);
}

TEST_F(RetrierTest, DoesNotRetryPermanentErrors) {
  for (auto code : {grpc::StatusCode::INVALID_ARGUMENT,
                    grpc::StatusCode::NOT_FOUND,
                    grpc::StatusCode::PERMISSION_DENIED,
                    grpc::StatusCode::UNIMPLEMENTED}) {
    Retrier retrier(RetryPolicy{}, env());
    retrier.run(nullptr, [&](grpc::ClientContext&) { return fail(code); });
    EXPECT_EQ(retrier.attempts(), 1) << code;
  }
  EXPECT_TRUE(sleeps.empty());
}

TEST_F(RetrierTest, DeadlineExceededIsConfigurable) {
  RetryPolicy policy;
  policy.retry_deadline_exceeded = false;
  Retrier no(policy, env());
  no.run(nullptr, [](grpc::ClientContext&) { return fail(grpc::StatusCode::DEADLINE_EXCEEDED); });
  EXPECT_EQ(no.attempts(), 1);
  policy.retry_deadline_exceeded = true;
  policy.max_attempts = 2;
  Retrier yes(policy, env());
  yes.run(nullptr, [](grpc::ClientContext&) { return fail(grpc::StatusCode::DEADLINE_EXCEEDED); });
  EXPECT_EQ(yes.attempts(), 2);
}

TEST_F(RetrierTest, BackoffIsCappedAndJittered) {
  RetryPolicy policy;
  policy.max_backoff = milliseconds(1000);
  EXPECT_EQ(backoff_delay(policy, 1, 0.5, std::nullopt), milliseconds(100));
  EXPECT_EQ(backoff_delay(policy, 4, 0.5, std::nullopt), milliseconds(800));
  EXPECT_EQ(backoff_delay(policy, 10, 0.5, std::nullopt), milliseconds(1000));
  EXPECT_EQ(backoff_delay(policy, 1, 0.0, std::nullopt), milliseconds(90));
  EXPECT_EQ(backoff_delay(policy, 1, 1.0, std::nullopt), milliseconds(110));
}

TEST_F(RetrierTest, HonoursRetryInfo) {
  google::rpc::Status details;
  details.set_code(grpc::StatusCode::UNAVAILABLE);
  google::rpc::RetryInfo info;
  info.mutable_retry_delay()->set_seconds(2);
  info.mutable_retry_delay()->set_nanos(500000000);
  details.add_details()->PackFrom(info);
  const grpc::Status with_hint(grpc::StatusCode::UNAVAILABLE, "busy", details.SerializeAsString());
  ASSERT_EQ(retry_info_delay(with_hint), milliseconds(2500));

  Retrier retrier(RetryPolicy{}, env());
  int calls = 0;
  retrier.run(nullptr,
              [&](grpc::ClientContext&) { return ++calls == 1 ? with_hint : grpc::Status::OK; });
  EXPECT_EQ(sleeps, (std::vector<milliseconds>{milliseconds(2500)}));
}

TEST_F(RetrierTest, SetsPerAttemptDeadlineAndFreshContexts) {
  RetryPolicy policy;
  policy.attempt_timeout = milliseconds(3000);
  policy.max_attempts = 2;
  Retrier retrier(policy, env());
  std::vector<std::chrono::system_clock::time_point> deadlines;
  std::vector<const grpc::ClientContext*> contexts;
  int prepared = 0;
  retrier.run([&](grpc::ClientContext&) { ++prepared; },
              [&](grpc::ClientContext& ctx) {
                deadlines.push_back(ctx.deadline());
                return fail(grpc::StatusCode::UNAVAILABLE);
              });
  EXPECT_EQ(prepared, 2);
  ASSERT_EQ(deadlines.size(), 2U);
  const auto first = std::chrono::system_clock::time_point(std::chrono::seconds(1003));
  EXPECT_EQ(std::chrono::time_point_cast<milliseconds>(deadlines[0]),
            std::chrono::time_point_cast<milliseconds>(first));
  // The second attempt starts after the 100 ms backoff.
  EXPECT_EQ(std::chrono::time_point_cast<milliseconds>(deadlines[1]),
            std::chrono::time_point_cast<milliseconds>(first + milliseconds(100)));
}

TEST_F(RetrierTest, OverallDeadlineStopsRetries) {
  Retrier retrier(RetryPolicy{}, env());
  retrier.set_deadline(now + milliseconds(250));
  retrier.run(nullptr, [](grpc::ClientContext&) { return fail(grpc::StatusCode::UNAVAILABLE); });
  // 100 ms, then 200 ms would end after the deadline: stop after two attempts.
  EXPECT_EQ(retrier.attempts(), 2);
}

TEST_F(RetrierTest, ExtraCodesCanBeRetried) {
  RetryPolicy policy;
  policy.max_attempts = 2;
  policy.extra_retryable_codes = {grpc::StatusCode::CANCELLED};
  Retrier retrier(policy, env());
  retrier.run(nullptr, [](grpc::ClientContext&) { return fail(grpc::StatusCode::CANCELLED); });
  EXPECT_EQ(retrier.attempts(), 2);
}

} // namespace
} // namespace ccrex::reapi
