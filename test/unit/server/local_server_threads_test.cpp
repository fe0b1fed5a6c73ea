#include "server/config.h"
#include "server/local_server.h"
#include "util/file.h"
#include "util/strings.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <dirent.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

namespace ccrex::server {
namespace {

// The names of this process's threads.
std::vector<std::string> thread_names() {
  std::vector<std::string> names;
  DIR* dir = ::opendir("/proc/self/task");
  if (dir == nullptr) {
    return names;
  }
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] == '.') {
      continue;
    }
    auto comm = util::read_file(std::string("/proc/self/task/") + entry->d_name + "/comm");
    if (comm) {
      names.emplace_back(util::trim(*comm));
    }
  }
  ::closedir(dir);
  return names;
}

size_t count_named(const std::vector<std::string>& names, const std::string& name) {
  return static_cast<size_t>(std::count(names.begin(), names.end(), name));
}

// A call to `method` with an empty message, made through a completion queue (the client's
// callback API would start gRPC's callback threads in this process itself).
grpc::Status call(const std::shared_ptr<grpc::Channel>& channel, const std::string& method) {
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue queue;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  grpc::Slice empty("");
  const grpc::ByteBuffer request(&empty, 1);
  grpc::ByteBuffer response;
  grpc::Status status;
  auto rpc = stub.PrepareUnaryCall(&ctx, method, request, &queue);
  rpc->StartCall();
  rpc->Finish(&response, &status, &status);
  void* tag = nullptr;
  bool ok = false;
  EXPECT_TRUE(queue.Next(&tag, &ok));
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
  return status;
}

// The services are synchronous ones, polled by gRPC's synchronous-server threads. Any
// callback service (a callback generic service for unknown methods, say) would make gRPC
// hand all polling to its shared callback threads, which sleep 100 ms after each idle
// second, during which arriving calls wait (unimplemented_service.h). None of those
// threads may exist while the server answers both kinds of call.
TEST(LocalServerThreads, NoCallbackThreads) {
  util::TempDir dir("server-threads-");
  Config cfg;
  cfg.cache_dir = dir.path() + "/store";
  cfg.listen = {"unix:" + dir.path() + "/s.sock"};
  cfg.workers = 1;
  cfg.sandbox.enabled = false;
  auto srv = LocalServer::start(cfg);
  ASSERT_TRUE(srv) << srv.error().message();
  auto channel = grpc::CreateChannel((*srv)->addresses()[0], grpc::InsecureChannelCredentials());
  const auto served =
      call(channel, "/build.bazel.remote.execution.v2.Capabilities/GetCapabilities");
  EXPECT_TRUE(served.ok()) << served.error_message();
  const auto unknown = call(channel, "/no.such.Service/Method");
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_NE(unknown.error_message().find("/no.such.Service/Method"), std::string::npos);

  const auto names = thread_names();
  // The names looked for are gRPC's: its synchronous server's pollers are there by theirs.
  EXPECT_GE(count_named(names, "grpcpp_sync_ser"), 1U) << util::join(names, ", ");
  EXPECT_EQ(count_named(names, "nexting_thread"), 0U) << util::join(names, ", ");
}

} // namespace
} // namespace ccrex::server
