#include "reapi/execute_inline.h"
#include "reapi/execution_client.h"
#include "reapi_mocks.h"

#include <grpcpp/test/client_context_test_peer.h>
#include <gtest/gtest.h>

namespace ccrex::reapi {
namespace {

using google::longrunning::Operation;
using ::testing::_;
using testing::scripted_reader;
using ::testing::StrictMock;
using testing::test_settings;
using testing::unavailable;

Operation pending_op(const std::string& name) {
  Operation op;
  op.set_name(name);
  return op;
}

Operation done_op(const std::string& name, int exit_code, bool cached = false) {
  v2::ExecuteResponse resp;
  resp.mutable_result()->set_exit_code(exit_code);
  resp.set_cached_result(cached);
  resp.set_message("done");
  Operation op = pending_op(name);
  op.set_done(true);
  op.mutable_response()->PackFrom(resp);
  return op;
}

google::rpc::Status missing_status(const std::vector<v2::Digest>& digests) {
  google::rpc::Status st;
  st.set_code(grpc::StatusCode::FAILED_PRECONDITION);
  st.set_message("missing inputs");
  google::rpc::PreconditionFailure failure;
  for (const auto& d : digests) {
    auto* v = failure.add_violations();
    v->set_type("MISSING");
    v->set_subject("blobs/" + to_string(d));
  }
  auto* other = failure.add_violations();
  other->set_type("OTHER");
  other->set_subject("ignored");
  st.add_details()->PackFrom(failure);
  return st;
}

class ExecutionClientTest : public ::testing::Test {
protected:
  std::shared_ptr<StrictMock<v2::MockExecutionStub>> stub =
      std::make_shared<StrictMock<v2::MockExecutionStub>>();
  std::shared_ptr<std::vector<std::chrono::milliseconds>> sleeps =
      std::make_shared<std::vector<std::chrono::milliseconds>>();
  std::shared_ptr<CallSettings> settings = test_settings(sleeps);
  v2::Digest action = digest_of("action");

  ExecutionClient client() { return ExecutionClient(stub, settings); }
};

TEST_F(ExecutionClientTest, ReturnsTheExecuteResponse) {
  EXPECT_CALL(*stub, ExecuteRaw(_, _))
      .WillOnce([&](grpc::ClientContext* ctx, const v2::ExecuteRequest& req) {
        EXPECT_EQ(to_string(req.action_digest()), to_string(action));
        EXPECT_TRUE(req.skip_cache_lookup());
        // The RequestMetadata header names the tool and the action.
        grpc::testing::ClientContextTestPeer peer(ctx);
        auto md = peer.GetSendInitialMetadata();
        auto it = md.find(std::string(k_request_metadata_header));
        EXPECT_NE(it, md.end());
        if (it != md.end()) {
          v2::RequestMetadata rm;
          EXPECT_TRUE(rm.ParseFromString(it->second));
          EXPECT_EQ(rm.tool_details().tool_name(), "ccrex");
          EXPECT_EQ(rm.action_id(), action.hash());
          EXPECT_EQ(rm.tool_invocation_id(), "invocation-1");
          EXPECT_EQ(rm.action_mnemonic(), "CppCompile");
        }
        return scripted_reader<Operation>({pending_op("op1"), done_op("op1", 3, true)},
                                          grpc::Status::OK);
      });
  ExecuteOptions options;
  options.skip_cache_lookup = true;
  auto outcome = client().execute(action, options);
  ASSERT_TRUE(outcome) << outcome.error().to_string();
  EXPECT_EQ(outcome->response.result().exit_code(), 3);
  EXPECT_TRUE(outcome->response.cached_result());
  EXPECT_EQ(outcome->operation_name, "op1");
}

// The inline hints of ExecuteOptions reach the server in the ExecuteRequest.
TEST_F(ExecutionClientTest, SendsTheInlineHints) {
  EXPECT_CALL(*stub, ExecuteRaw(_, _))
      .WillOnce([&](grpc::ClientContext*, const v2::ExecuteRequest& req) {
        const InlineOptions got = execute_inline_of(req);
        EXPECT_TRUE(got.inline_stdout);
        EXPECT_TRUE(got.inline_stderr);
        EXPECT_EQ(got.inline_output_files, std::vector<std::string>{"a.o"});
        EXPECT_FALSE(req.skip_cache_lookup());
        return scripted_reader<Operation>({done_op("op1", 0)}, grpc::Status::OK);
      });
  ExecuteOptions options;
  options.inline_outputs.inline_stdout = true;
  options.inline_outputs.inline_stderr = true;
  options.inline_outputs.inline_output_files = {"a.o"};
  ASSERT_TRUE(client().execute(action, options));
}

TEST_F(ExecutionClientTest, ResumesWithWaitExecutionAfterABrokenStream) {
  EXPECT_CALL(*stub, ExecuteRaw(_, _)).WillOnce([&](auto*, const auto&) {
    return scripted_reader<Operation>({pending_op("operations/42")}, unavailable("reset"));
  });
  EXPECT_CALL(*stub, WaitExecutionRaw(_, _))
      .WillOnce([&](auto*, const v2::WaitExecutionRequest& req) {
        EXPECT_EQ(req.name(), "operations/42");
        return scripted_reader<Operation>({}, unavailable("still down"));
      })
      .WillOnce([&](auto*, const v2::WaitExecutionRequest& req) {
        EXPECT_EQ(req.name(), "operations/42");
        return scripted_reader<Operation>({done_op("operations/42", 0)}, grpc::Status::OK);
      });
  auto outcome = client().execute(action);
  ASSERT_TRUE(outcome) << outcome.error().to_string();
  EXPECT_EQ(outcome->execute_calls, 1);
  EXPECT_EQ(outcome->wait_calls, 2);
  // One backoff: after the WaitExecution that failed without any message.
  ASSERT_EQ(sleeps->size(), 1U);
  EXPECT_EQ(sleeps->at(0).count(), 100);
}

TEST_F(ExecutionClientTest, CleanEndWithoutDoneAlsoResumes) {
  EXPECT_CALL(*stub, ExecuteRaw(_, _)).WillOnce([&](auto*, const auto&) {
    return scripted_reader<Operation>({pending_op("op")}, grpc::Status::OK);
  });
  EXPECT_CALL(*stub, WaitExecutionRaw(_, _)).WillOnce([&](auto*, const auto&) {
    return scripted_reader<Operation>({done_op("op", 0)}, grpc::Status::OK);
  });
  EXPECT_TRUE(client().execute(action));
}

TEST_F(ExecutionClientTest, WaitExecutionNotFoundExecutesAgain) {
  EXPECT_CALL(*stub, ExecuteRaw(_, _))
      .WillOnce([&](auto*, const auto&) {
        return scripted_reader<Operation>({pending_op("old")}, unavailable());
      })
      .WillOnce([&](auto*, const auto&) {
        return scripted_reader<Operation>({pending_op("new"), done_op("new", 0)}, grpc::Status::OK);
      });
  EXPECT_CALL(*stub, WaitExecutionRaw(_, _)).WillOnce([&](auto*, const auto&) {
    return scripted_reader<Operation>({}, grpc::Status(grpc::StatusCode::NOT_FOUND, "expired"));
  });
  auto outcome = client().execute(action);
  ASSERT_TRUE(outcome) << outcome.error().to_string();
  EXPECT_EQ(outcome->operation_name, "new");
  EXPECT_EQ(outcome->execute_calls, 2);
}

TEST_F(ExecutionClientTest, ReExecutionAfterNotFoundIsBounded) {
  EXPECT_CALL(*stub, ExecuteRaw(_, _)).Times(2).WillRepeatedly([&](auto*, const auto&) {
    return scripted_reader<Operation>({pending_op("op")}, unavailable());
  });
  EXPECT_CALL(*stub, WaitExecutionRaw(_, _)).Times(2).WillRepeatedly([&](auto*, const auto&) {
    return scripted_reader<Operation>({}, grpc::Status(grpc::StatusCode::NOT_FOUND, "gone"));
  });
  ExecuteOptions options;
  options.max_execute_calls = 2;
  auto outcome = client().execute(action, options);
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().error.code(), util::ErrorCode::not_found);
}

TEST_F(ExecutionClientTest, RetriesExecuteBeforeAnyOperationThenGivesUp) {
  settings->retry.max_attempts = 3;
  EXPECT_CALL(*stub, ExecuteRaw(_, _)).Times(3).WillRepeatedly([&](auto*, const auto&) {
    return scripted_reader<Operation>({}, unavailable("connection refused"));
  });
  auto outcome = client().execute(action);
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().kind, FailureKind::unavailable);
  EXPECT_EQ(*sleeps,
            (std::vector<std::chrono::milliseconds>{std::chrono::milliseconds(100),
                                                    std::chrono::milliseconds(200)}));
}

TEST_F(ExecutionClientTest, OperationErrorIsAFailureWithoutRetry) {
  EXPECT_CALL(*stub, ExecuteRaw(_, _)).WillOnce([&](auto*, const auto&) {
    Operation op = pending_op("op");
    op.set_done(true);
    op.mutable_error()->set_code(grpc::StatusCode::INTERNAL);
    op.mutable_error()->set_message("worker exploded");
    return scripted_reader<Operation>({op}, grpc::Status::OK);
  });
  auto outcome = client().execute(action);
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().kind, FailureKind::error);
  EXPECT_NE(outcome.error().error.message().find("worker exploded"), std::string::npos);
}

TEST_F(ExecutionClientTest, DoneWithoutResponseOrResultIsAnError) {
  Operation no_response = pending_op("op");
  no_response.set_done(true);
  EXPECT_EQ(outcome_of(no_response).error().error.code(), util::ErrorCode::data_loss);

  Operation no_result = pending_op("op");
  no_result.set_done(true);
  no_result.mutable_response()->PackFrom(v2::ExecuteResponse());
  EXPECT_EQ(outcome_of(no_result).error().error.code(), util::ErrorCode::data_loss);
}

TEST_F(ExecutionClientTest, ActionTimeoutIsAnOutcomeNotACallFailure) {
  v2::ExecuteResponse resp;
  resp.mutable_status()->set_code(grpc::StatusCode::DEADLINE_EXCEEDED);
  resp.mutable_result()->set_exit_code(-1);
  Operation op = pending_op("op");
  op.set_done(true);
  op.mutable_response()->PackFrom(resp);
  auto outcome = outcome_of(op);
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->response.status().code(), grpc::StatusCode::DEADLINE_EXCEEDED);
}

TEST_F(ExecutionClientTest, MissingBlobsInTheCallStatusAreListed) {
  const std::vector<v2::Digest> missing{digest_of("input.c"), digest_of("command")};
  const auto details = missing_status(missing);
  EXPECT_CALL(*stub, ExecuteRaw(_, _)).WillOnce([&](auto*, const auto&) {
    return scripted_reader<Operation>({},
                                      grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                                                   details.message(),
                                                   details.SerializeAsString()));
  });
  auto outcome = client().execute(action);
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().kind, FailureKind::missing_blobs);
  ASSERT_EQ(outcome.error().missing.size(), 2U);
  EXPECT_EQ(to_string(outcome.error().missing[0]), to_string(missing[0]));
  EXPECT_EQ(to_string(outcome.error().missing[1]), to_string(missing[1]));
}

TEST_F(ExecutionClientTest, MissingBlobsInTheExecuteResponseAreListed) {
  v2::ExecuteResponse resp;
  *resp.mutable_status() = missing_status({digest_of("evicted")});
  Operation op = pending_op("op");
  op.set_done(true);
  op.mutable_response()->PackFrom(resp);
  auto outcome = outcome_of(op);
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().kind, FailureKind::missing_blobs);
  ASSERT_EQ(outcome.error().missing.size(), 1U);
  EXPECT_EQ(to_string(outcome.error().missing[0]), to_string(digest_of("evicted")));
}

TEST(ParseMissingBlobs, IgnoresMalformedSubjects) {
  google::rpc::Status st;
  google::rpc::PreconditionFailure failure;
  for (const char* subject : {"blobs/abc/3", "blobs/", "files/x", "blobs/sha256/x/1"}) {
    auto* v = failure.add_violations();
    v->set_type("MISSING");
    v->set_subject(subject);
  }
  st.add_details()->PackFrom(failure);
  std::vector<v2::Digest> missing;
  EXPECT_TRUE(parse_missing_blobs(st, missing)); // MISSING present, none parseable
  EXPECT_TRUE(missing.empty());
  EXPECT_FALSE(parse_missing_blobs(google::rpc::Status(), missing));
}

TEST_F(ExecutionClientTest, NonRetryableCallErrorIsReturnedAtOnce) {
  EXPECT_CALL(*stub, ExecuteRaw(_, _)).WillOnce([&](auto*, const auto&) {
    return scripted_reader<Operation>({}, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "bad"));
  });
  auto outcome = client().execute(action);
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().kind, FailureKind::error);
  EXPECT_EQ(outcome.error().error.code(), util::ErrorCode::invalid_argument);
  EXPECT_TRUE(sleeps->empty());
}

TEST_F(ExecutionClientTest, PassedDeadlineIsATimeout) {
  ExecuteOptions options;
  options.deadline = std::chrono::system_clock::now() - std::chrono::seconds(1);
  auto outcome = client().execute(action, options); // StrictMock: no call is made
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().kind, FailureKind::timeout);
}

TEST_F(ExecutionClientTest, CancelledTokenStopsTheExecution) {
  CancelToken token;
  EXPECT_CALL(*stub, ExecuteRaw(_, _)).WillOnce([&](auto*, const auto&) {
    token.cancel(); // as if another thread cancelled while the stream was open
    return scripted_reader<Operation>({pending_op("op")},
                                      grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
  });
  ExecuteOptions options;
  options.cancel = &token;
  auto outcome = client().execute(action, options);
  ASSERT_FALSE(outcome);
  EXPECT_EQ(outcome.error().kind, FailureKind::cancelled);
}

} // namespace
} // namespace ccrex::reapi
