#pragma once

// Helpers for the reapi unit tests: call settings that never sleep, and scripted streams
// built on the generated gMock stubs and grpcpp/test/mock_stream.h.

#include "reapi/call_settings.h"
#include "reapi/digest.h"
#include "reapi/proto.h"

#include <build/bazel/remote/execution/v2/remote_execution_mock.grpc.pb.h>
#include <gmock/gmock.h>
#include <google/bytestream/bytestream_mock.grpc.pb.h>
#include <grpcpp/test/mock_stream.h>

#include <chrono>
#include <memory>
#include <vector>

namespace ccrex::reapi::testing {

// Settings whose retries record their delays instead of sleeping, with jitter fixed at 0.
inline std::shared_ptr<CallSettings>
test_settings(std::shared_ptr<std::vector<std::chrono::milliseconds>> sleeps = nullptr) {
  auto s = std::make_shared<CallSettings>();
  s->tool_invocation_id = "invocation-1";
  s->retry_env.sleep = [sleeps](std::chrono::milliseconds d) {
    if (sleeps) {
      sleeps->push_back(d);
    }
  };
  s->retry_env.random = [] { return 0.5; };
  return s;
}

// A reader that returns `messages` one by one, then ends with `end`. Owned by the caller
// of the stub method (the client), as gRPC's Raw methods require.
template <typename R>
grpc::testing::MockClientReader<R>* scripted_reader(std::vector<R> messages, grpc::Status end) {
  auto* reader = new ::testing::NiceMock<grpc::testing::MockClientReader<R>>();
  auto index = std::make_shared<size_t>(0);
  ON_CALL(*reader, Read(::testing::_)).WillByDefault([messages, index](R* out) {
    if (*index >= messages.size()) {
      return false;
    }
    *out = messages[(*index)++];
    return true;
  });
  ON_CALL(*reader, Finish()).WillByDefault(::testing::Return(end));
  return reader;
}

inline grpc::Status unavailable(const std::string& why = "try again") {
  return {grpc::StatusCode::UNAVAILABLE, why};
}

} // namespace ccrex::reapi::testing
