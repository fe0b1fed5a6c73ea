// Calls to methods the server does not serve come from any client, as many and as large as
// it likes, and go to one thread of their own (server/unimplemented_service.h). A flood of
// them must not stop the server answering what it serves, every one must get its answer,
// and a server told to stop in the middle of one must exit cleanly rather than crash or
// hang on the calls still in flight.

#include "hostile/hostile_support.h"
#include "support/reapi_fixture.h"

#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <chrono>
#include <csignal>
#include <memory>
#include <string>
#include <vector>

namespace ccrex::test {
namespace {

using namespace std::chrono_literals;

// Unknown-method calls, all started at once on one queue.
class Flood {
public:
  Flood(const std::shared_ptr<grpc::Channel>& channel, int count, size_t payload_bytes)
      : m_stub(channel) {
    const std::string payload(payload_bytes, 'x');
    grpc::Slice slice(payload);
    for (int i = 0; i < count; ++i) {
      auto call = std::make_unique<Call>();
      call->method = "/no.such.Service/Method" + std::to_string(i % 7);
      call->ctx.set_deadline(std::chrono::system_clock::now() + 60s);
      const grpc::ByteBuffer request(&slice, 1);
      call->rpc = m_stub.PrepareUnaryCall(&call->ctx, call->method, request, &m_queue);
      call->rpc->StartCall();
      call->rpc->Finish(&call->response, &call->status, call.get());
      m_calls.push_back(std::move(call));
    }
  }
  ~Flood() {
    m_queue.Shutdown();
    void* tag = nullptr;
    bool ok = false;
    while (m_queue.Next(&tag, &ok)) {
    }
  }
  Flood(const Flood&) = delete;
  Flood& operator=(const Flood&) = delete;

  // Wait for every call to end; return how many ended UNIMPLEMENTED naming their method
  // (-1 when one did not end within its deadline).
  int named_unimplemented() {
    int named = 0;
    for (size_t i = 0; i < m_calls.size(); ++i) {
      void* tag = nullptr;
      bool ok = false;
      if (m_queue.AsyncNext(&tag, &ok, std::chrono::system_clock::now() + 90s)
          != grpc::CompletionQueue::GOT_EVENT) {
        return -1;
      }
      const auto* call = static_cast<const Call*>(tag);
      if (call->status.error_code() == grpc::StatusCode::UNIMPLEMENTED
          && call->status.error_message().find(call->method) != std::string::npos) {
        ++named;
      }
    }
    return named;
  }

private:
  struct Call {
    std::string method;
    grpc::ClientContext ctx;
    grpc::ByteBuffer response;
    grpc::Status status;
    std::unique_ptr<grpc::GenericClientAsyncResponseReader> rpc;
  };
  grpc::GenericStub m_stub;
  grpc::CompletionQueue m_queue;
  std::vector<std::unique_ptr<Call>> m_calls;
};

using UnknownMethods = ReapiFixture;

TEST_F(UnknownMethods, AFloodIsAnsweredAndTheServerKeepsServing) {
  constexpr int k_calls = 400;
  Flood flood(plain_channel(server().address()), k_calls, 256 << 10);
  // While the flood is answered, what the server serves is answered too.
  v2::GetCapabilitiesRequest req;
  v2::ServerCapabilities got;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 60s);
  const auto st = caps->GetCapabilities(&ctx, req, &got);
  EXPECT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(flood.named_unimplemented(), k_calls);
}

TEST_F(UnknownMethods, AServerStoppedDuringAFloodExitsCleanly) {
  Flood flood(plain_channel(server().address()), 400, 64 << 10);
  const int status = server().kill_and_wait(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status)) << "wait status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  // Every call ends, answered or cut off by the shutdown; none is left hanging.
  EXPECT_GE(flood.named_unimplemented(), 0);
}

} // namespace
} // namespace ccrex::test
