// Checks of ccrex-test-engine, the engine that lies (test/support/test_engine_main.cpp):
// started the way tests start ccrex-server, it serves the real storage services and answers
// Execute as the chosen broken engine would, always in the REAPI stream shape.

#include "execution_support.h"
#include "support/test_engine.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace ccrex::test {
namespace {

class TestEngine : public ::testing::Test {
protected:
  // Start the engine in `mode`; false (with a test failure) when it does not come up.
  bool start(const std::string& mode) {
    m_engine = start_test_engine(mode, {"--workers", "1"});
    EXPECT_TRUE(m_engine->ok()) << m_engine->error();
    if (!m_engine->ok()) {
      return false;
    }
    m_channel = grpc::CreateChannel(m_engine->address(), grpc::InsecureChannelCredentials());
    m_cas = v2::ContentAddressableStorage::NewStub(m_channel);
    m_ac = v2::ActionCache::NewStub(m_channel);
    m_caps = v2::Capabilities::NewStub(m_channel);
    m_exec = v2::Execution::NewStub(m_channel);
    return true;
  }

  void TearDown() override {
    m_cas.reset();
    m_ac.reset();
    m_caps.reset();
    m_exec.reset();
    m_channel.reset();
    m_engine.reset();
  }

  v2::Digest put(const std::string& data) {
    v2::BatchUpdateBlobsRequest req;
    auto* r = req.add_requests();
    *r->mutable_digest() = reapi::digest_of(data);
    r->set_data(data);
    v2::BatchUpdateBlobsResponse resp;
    grpc::ClientContext ctx;
    const auto st = m_cas->BatchUpdateBlobs(&ctx, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    return reapi::digest_of(data);
  }

  std::string blob(const v2::Digest& d) {
    if (reapi::is_empty_blob(d)) {
      return {};
    }
    v2::BatchReadBlobsRequest req;
    *req.add_digests() = d;
    v2::BatchReadBlobsResponse resp;
    grpc::ClientContext ctx;
    EXPECT_TRUE(m_cas->BatchReadBlobs(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.responses_size(), 1);
    return resp.responses_size() == 1 ? resp.responses(0).data() : std::string();
  }

  // An action that writes out.o (output_paths and output_files) and prints "ran".
  v2::Digest compile_action() {
    v2::Command cmd;
    for (const char* a : {"/bin/sh", "-c", "echo ran; echo obj > out.o"}) {
      cmd.add_arguments(a);
    }
    auto* env = cmd.add_environment_variables();
    env->set_name("PATH");
    env->set_value("/usr/bin:/bin");
    cmd.add_output_paths("out.o");
    cmd.add_output_files("out.o");
    std::map<std::string, std::string> blobs;
    v2::Action action;
    *action.mutable_input_root_digest() = InputTree().build(blobs);
    for (const auto& [key, data] : blobs) {
      if (!data.empty()) {
        put(data);
      }
    }
    *action.mutable_command_digest() = put(cmd.SerializeAsString());
    return put(action.SerializeAsString());
  }

  // Execute `action`; check the stream shape every engine must keep.
  ExecOutcome execute(const v2::Digest& action) {
    v2::ExecuteRequest req;
    *req.mutable_action_digest() = action;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    auto out = read_stream(*m_exec->Execute(&ctx, req));
    EXPECT_TRUE(out.status.ok()) << out.status.error_message();
    EXPECT_TRUE(out.done);
    EXPECT_FALSE(out.operations.empty());
    if (!out.operations.empty()) {
      EXPECT_TRUE(out.operations.back().done());
      EXPECT_FALSE(out.operations.back().name().empty());
    }
    return out;
  }

  grpc::Status lookup(const v2::Digest& action, v2::ActionResult* result) {
    v2::GetActionResultRequest req;
    *req.mutable_action_digest() = action;
    grpc::ClientContext ctx;
    return m_ac->GetActionResult(&ctx, req, result);
  }

  void expect_capabilities() {
    v2::GetCapabilitiesRequest req;
    v2::ServerCapabilities c;
    grpc::ClientContext ctx;
    ASSERT_TRUE(m_caps->GetCapabilities(&ctx, req, &c).ok());
    EXPECT_TRUE(c.execution_capabilities().exec_enabled());
    EXPECT_EQ(c.high_api_version().minor(), 2);
  }

  static bool has_outputs(const v2::ActionResult& r) {
    return r.output_files_size() + r.output_directories_size() + r.output_symlinks_size()
               + r.output_file_symlinks_size() + r.output_directory_symlinks_size()
           > 0;
  }

  std::unique_ptr<ServerProcess> m_engine;
  std::shared_ptr<grpc::Channel> m_channel;
  std::unique_ptr<v2::ContentAddressableStorage::Stub> m_cas;
  std::unique_ptr<v2::ActionCache::Stub> m_ac;
  std::unique_ptr<v2::Capabilities::Stub> m_caps;
  std::unique_ptr<v2::Execution::Stub> m_exec;
};

TEST_F(TestEngine, NoneBehavesLikeTheServer) {
  ASSERT_TRUE(start("none"));
  expect_capabilities();
  const auto action = compile_action();
  const auto out = execute(action);
  EXPECT_EQ(out.response.status().code(), 0);
  EXPECT_EQ(out.response.result().exit_code(), 0);
  ASSERT_EQ(out.response.result().output_files_size(), 1);
  EXPECT_EQ(blob(out.response.result().output_files(0).digest()), "obj\n");
  EXPECT_EQ(blob(out.response.result().stdout_digest()), "ran\n");
  v2::ActionResult cached;
  EXPECT_TRUE(lookup(action, &cached).ok());
}

TEST_F(TestEngine, EmptyResultHasNoOutputsAndIsCached) {
  ASSERT_TRUE(start("empty-result"));
  expect_capabilities();
  const auto action = compile_action();
  const auto out = execute(action);
  EXPECT_EQ(out.response.status().code(), 0);
  EXPECT_FALSE(out.response.cached_result());
  EXPECT_EQ(out.response.result().exit_code(), 0);
  EXPECT_FALSE(has_outputs(out.response.result()));
  EXPECT_EQ(blob(out.response.result().stdout_digest()), ""); // it never ran the command
  v2::ActionResult cached;
  const auto st = lookup(action, &cached);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(cached.exit_code(), 0);
  EXPECT_FALSE(has_outputs(cached));
}

TEST_F(TestEngine, Exit127SaysTheProgramIsMissing) {
  ASSERT_TRUE(start("exit-127"));
  const auto out = execute(compile_action());
  EXPECT_EQ(out.response.status().code(), 0);
  EXPECT_EQ(out.response.result().exit_code(), 127);
  EXPECT_FALSE(has_outputs(out.response.result()));
  EXPECT_EQ(blob(out.response.result().stderr_digest()), "sh: 1: sh: not found\n");
}

TEST_F(TestEngine, SignalGivesExit139) {
  ASSERT_TRUE(start("signal"));
  const auto out = execute(compile_action());
  EXPECT_EQ(out.response.status().code(), 0);
  EXPECT_EQ(out.response.result().exit_code(), 139);
  EXPECT_FALSE(has_outputs(out.response.result()));
}

TEST_F(TestEngine, CachedFailureIsServedForEveryAction) {
  ASSERT_TRUE(start("cached-failure"));
  const auto out = execute(compile_action());
  EXPECT_EQ(out.response.status().code(), 0);
  EXPECT_TRUE(out.response.cached_result());
  EXPECT_EQ(out.response.result().exit_code(), 1);
  EXPECT_FALSE(has_outputs(out.response.result()));
  const std::string stderr_text = blob(out.response.result().stderr_digest());
  EXPECT_EQ(stderr_text, "error: fabricated failure from the engine's cache\n");
  // Any action at all, even one never uploaded, "has" that failed result.
  v2::ActionResult cached;
  const auto st = lookup(reapi::digest_of("never executed"), &cached);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(cached.exit_code(), 1);
  EXPECT_EQ(blob(cached.stderr_digest()), stderr_text);
}

TEST_F(TestEngine, ExecStatusCarriesAnErrorAndAnEmptySuccess) {
  ASSERT_TRUE(start("exec-status"));
  const auto out = execute(compile_action());
  EXPECT_EQ(out.response.status().code(), grpc::StatusCode::INTERNAL);
  EXPECT_FALSE(out.response.status().message().empty());
  EXPECT_EQ(out.response.result().exit_code(), 0);
  EXPECT_FALSE(has_outputs(out.response.result()));
  // WaitExecution finds the finished operation again.
  v2::WaitExecutionRequest wait;
  wait.set_name(out.operations.back().name());
  grpc::ClientContext ctx;
  const auto again = read_stream(*m_exec->WaitExecution(&ctx, wait));
  EXPECT_TRUE(again.status.ok()) << again.status.error_message();
  EXPECT_TRUE(again.done);
  EXPECT_EQ(again.response.status().code(), grpc::StatusCode::INTERNAL);
}

TEST_F(TestEngine, UnknownModeDoesNotStart) {
  auto engine = start_test_engine("tell-the-truth");
  EXPECT_FALSE(engine->ok());
  auto bad_option = start_test_engine("none", {"--api-versions", "2.7"});
  EXPECT_FALSE(bad_option->ok());
}

} // namespace
} // namespace ccrex::test
