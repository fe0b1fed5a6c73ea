#pragma once

// ReapiFixture: a gtest fixture that starts a real ccrex-server process on 127.0.0.1:0 and
// offers generated stubs plus a few helpers to put and get blobs.

#include "reapi/digest.h"
#include "reapi/proto.h"
#include "support/server_process.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <vector>

namespace ccrex::test {

class ReapiFixture : public ::testing::Test {
protected:
  // Extra ccrex-server arguments for this fixture (override in a subclass).
  virtual std::vector<std::string> server_args() const { return {"--workers", "2"}; }
  // Whether the server accepts UpdateActionResult from clients (--allow-ac-updates): the
  // protocol checks of the ActionCache need it; ccrex-server refuses by default.
  virtual bool accepts_client_results() const { return true; }
  // The store directory ("" for a fresh temporary one) and a command that runs the server
  // (see ServerProcess), for fixtures that run it as another user.
  virtual std::string server_cache_dir() const { return {}; }
  virtual std::vector<std::string> server_wrapper() const { return {}; }

  void SetUp() override {
    auto options = server_args();
    if (accepts_client_results()) {
      options.emplace_back("--allow-ac-updates");
    }
    m_server = std::make_unique<ServerProcess>(
        options, "127.0.0.1:0", server_cache_dir(), server_wrapper());
    ASSERT_TRUE(m_server->ok()) << m_server->error();
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);
    m_channel =
        grpc::CreateCustomChannel(m_server->address(), grpc::InsecureChannelCredentials(), args);
    cas = reapi::v2::ContentAddressableStorage::NewStub(m_channel);
    ac = reapi::v2::ActionCache::NewStub(m_channel);
    caps = reapi::v2::Capabilities::NewStub(m_channel);
    exec = reapi::v2::Execution::NewStub(m_channel);
    bytestream = reapi::bytestream::ByteStream::NewStub(m_channel);
  }

  void TearDown() override {
    // Close the client side first so the server's shutdown has no connection to drain.
    cas.reset();
    ac.reset();
    caps.reset();
    exec.reset();
    bytestream.reset();
    m_channel.reset();
    m_server.reset();
  }

  // Upload `data` with BatchUpdateBlobs and return its digest (asserts success).
  reapi::v2::Digest put(const std::string& data) {
    reapi::v2::BatchUpdateBlobsRequest req;
    auto* r = req.add_requests();
    *r->mutable_digest() = reapi::digest_of(data);
    r->set_data(data);
    reapi::v2::BatchUpdateBlobsResponse resp;
    grpc::ClientContext ctx;
    const auto st = cas->BatchUpdateBlobs(&ctx, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(resp.responses_size(), 1);
    if (resp.responses_size() == 1) {
      EXPECT_EQ(resp.responses(0).status().code(), 0) << resp.responses(0).status().message();
    }
    return reapi::digest_of(data);
  }

  // Upload a message's serialized bytes and return their digest.
  reapi::v2::Digest put_message(const google::protobuf::Message& m) {
    return put(m.SerializeAsString());
  }

  // Read a blob with BatchReadBlobs; returns the per-blob status code and fills `data`.
  int get(const reapi::v2::Digest& d, std::string* data) {
    reapi::v2::BatchReadBlobsRequest req;
    *req.add_digests() = d;
    reapi::v2::BatchReadBlobsResponse resp;
    grpc::ClientContext ctx;
    const auto st = cas->BatchReadBlobs(&ctx, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    if (resp.responses_size() != 1) {
      return -1;
    }
    *data = resp.responses(0).data();
    return resp.responses(0).status().code();
  }

  ServerProcess& server() { return *m_server; }

  // Call `method` (any name, served or not) with an empty request through a generic stub
  // on a channel of its own; return the final status.
  grpc::Status raw_call(const std::string& method) {
    grpc::GenericStub stub(
        grpc::CreateChannel(m_server->address(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    grpc::Slice empty("");
    const grpc::ByteBuffer request(&empty, 1);
    grpc::ByteBuffer response;
    std::promise<grpc::Status> done;
    stub.UnaryCall(&ctx, method, grpc::StubOptions(), &request, &response, [&](grpc::Status st) {
      done.set_value(std::move(st));
    });
    return done.get_future().get();
  }

  std::unique_ptr<reapi::v2::ContentAddressableStorage::Stub> cas;
  std::unique_ptr<reapi::v2::ActionCache::Stub> ac;
  std::unique_ptr<reapi::v2::Capabilities::Stub> caps;
  std::unique_ptr<reapi::v2::Execution::Stub> exec;
  std::unique_ptr<reapi::bytestream::ByteStream::Stub> bytestream;

private:
  std::unique_ptr<ServerProcess> m_server;
  std::shared_ptr<grpc::Channel> m_channel;
};

} // namespace ccrex::test
