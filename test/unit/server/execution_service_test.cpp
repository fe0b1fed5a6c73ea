// In-process tests of the Execution service for behaviour that needs non-default settings
// (resend interval, operation retention); the protocol itself is covered by the
// conformance suite against the real binary.

#include "reapi/digest.h"
#include "server/blob_store.h"
#include "server/local_server.h"
#include "util/file.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <chrono>
#include <thread>

namespace ccrex::server {
namespace {

namespace v2 = reapi::v2;
using namespace std::chrono_literals;

class ExecutionServiceTest : public ::testing::Test {
protected:
  void start(const std::function<void(Config&)>& tweak) {
    // The sandbox user of a server run as root must reach the store (sandbox.h).
    ::chmod(m_dir.path().c_str(), 0711);
    Config cfg;
    cfg.cache_dir = m_dir.path();
    cfg.listen = {"127.0.0.1:0"};
    cfg.workers = 1;
    tweak(cfg);
    auto srv = LocalServer::start(cfg);
    ASSERT_TRUE(srv) << srv.error().message();
    m_server = std::move(srv).value();
    m_exec = v2::Execution::NewStub(m_server->in_process_channel());
  }

  v2::Digest put(const std::string& data) {
    EXPECT_TRUE(m_server->store().put_computed(data));
    return reapi::digest_of(data);
  }

  v2::Digest action(const std::string& script) {
    v2::Command cmd;
    for (const char* a : {"sh", "-c"}) {
      cmd.add_arguments(a);
    }
    cmd.add_arguments(script);
    auto* env = cmd.add_environment_variables();
    env->set_name("PATH");
    env->set_value("/usr/bin:/bin");
    v2::Action a;
    *a.mutable_command_digest() = put(cmd.SerializeAsString());
    *a.mutable_input_root_digest() = reapi::digest_of("");
    return put(a.SerializeAsString());
  }

  std::vector<google::longrunning::Operation>
  read_all(grpc::ClientReaderInterface<google::longrunning::Operation>& reader, grpc::Status* st) {
    std::vector<google::longrunning::Operation> ops;
    google::longrunning::Operation op;
    while (reader.Read(&op)) {
      ops.push_back(op);
    }
    *st = reader.Finish();
    return ops;
  }

  util::TempDir m_dir{"ccrex-exec-service-test-"};
  std::unique_ptr<LocalServer> m_server;
  std::unique_ptr<v2::Execution::Stub> m_exec;
};

TEST_F(ExecutionServiceTest, IdleStreamsGetTheStateResent) {
  start([](Config& c) { c.operation_resend_interval = 300ms; });
  v2::ExecuteRequest req;
  *req.mutable_action_digest() = action("sleep 2");
  grpc::ClientContext ctx;
  auto reader = m_exec->Execute(&ctx, req);
  grpc::Status st;
  const auto ops = read_all(*reader, &st);
  ASSERT_TRUE(st.ok()) << st.error_message();
  // Stage changes give at most 4 messages (CACHE_CHECK, QUEUED, EXECUTING, COMPLETED);
  // two seconds of execution at a 300 ms interval add several repeats.
  size_t executing = 0;
  for (const auto& op : ops) {
    v2::ExecuteOperationMetadata meta;
    ASSERT_TRUE(op.metadata().UnpackTo(&meta));
    executing += meta.stage() == v2::ExecutionStage::EXECUTING ? 1 : 0;
    EXPECT_EQ(op.name(), ops.front().name());
  }
  EXPECT_GE(executing, 4U);
  EXPECT_TRUE(ops.back().done());
}

TEST_F(ExecutionServiceTest, FinishedOperationsExpireAfterTheRetention) {
  start([](Config& c) { c.operation_retention = 1s; });
  v2::ExecuteRequest req;
  *req.mutable_action_digest() = action("true");
  std::string name;
  {
    grpc::ClientContext ctx;
    auto reader = m_exec->Execute(&ctx, req);
    grpc::Status st;
    const auto ops = read_all(*reader, &st);
    ASSERT_TRUE(st.ok());
    name = ops.back().name();
  }
  v2::WaitExecutionRequest wait;
  wait.set_name(name);
  {
    grpc::ClientContext ctx;
    auto reader = m_exec->WaitExecution(&ctx, wait);
    grpc::Status st;
    EXPECT_EQ(read_all(*reader, &st).size(), 1U);
    EXPECT_TRUE(st.ok());
  }
  std::this_thread::sleep_for(1500ms);
  grpc::ClientContext ctx;
  auto reader = m_exec->WaitExecution(&ctx, wait);
  grpc::Status st;
  EXPECT_TRUE(read_all(*reader, &st).empty());
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ExecutionServiceTest, ShutdownEndsWaitingStreams) {
  start([](Config&) {});
  v2::ExecuteRequest req;
  *req.mutable_action_digest() = action("sleep 30");
  grpc::ClientContext ctx;
  auto reader = m_exec->Execute(&ctx, req);
  google::longrunning::Operation op;
  ASSERT_TRUE(reader->Read(&op));
  std::this_thread::sleep_for(200ms);
  const auto start_time = std::chrono::steady_clock::now();
  m_server->shutdown();
  while (reader->Read(&op)) {
    EXPECT_FALSE(op.done());
  }
  const auto st = reader->Finish();
  EXPECT_FALSE(st.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start_time, 5s);
}

} // namespace
} // namespace ccrex::server
