// A cache only the server writes: a default ccrex-server refuses UpdateActionResult from
// clients (PERMISSION_DENIED, with a message), says so in its Capabilities, never serves a
// refused result, and still caches the results of its own executions.

#include "conformance/execution_support.h"
#include "hostile/hostile_support.h"

#include <gtest/gtest.h>

namespace ccrex::test {
namespace {

class DefaultServer : public ExecutionFixture {
protected:
  bool accepts_client_results() const override { return false; }

  // A real action: `echo genuine > out`.
  v2::Digest genuine_action() {
    return action(command({"/bin/sh", "-c", "echo genuine > out"}, {"out"}));
  }

  // A result for `digest` whose output is "PWNED".
  grpc::Status poison(const v2::Digest& digest) {
    const auto evil = put("PWNED\n");
    v2::UpdateActionResultRequest req;
    *req.mutable_action_digest() = digest;
    auto* f = req.mutable_action_result()->add_output_files();
    f->set_path("out");
    *f->mutable_digest() = evil;
    v2::ActionResult stored;
    grpc::ClientContext ctx;
    return ac->UpdateActionResult(&ctx, req, &stored);
  }
};

TEST_F(DefaultServer, RefusesResultsFromClients) {
  const auto digest = genuine_action();
  const auto st = poison(digest);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED) << st.error_message();
  EXPECT_NE(st.error_message().find("--allow-ac-updates"), std::string::npos) << st.error_message();
  EXPECT_NE(st.error_message().find("own executions"), std::string::npos) << st.error_message();
  // The refused result is never served, neither by GetActionResult nor by Execute.
  EXPECT_EQ(ac_lookup(digest), grpc::StatusCode::NOT_FOUND);
  const auto resp = run_ok(digest);
  EXPECT_FALSE(resp.cached_result());
  ASSERT_EQ(resp.result().output_files_size(), 1);
  EXPECT_EQ(blob(resp.result().output_files(0).digest()), "genuine\n");
}

TEST_F(DefaultServer, CapabilitiesSayClientsCannotUpdate) {
  v2::GetCapabilitiesRequest req;
  v2::ServerCapabilities resp;
  grpc::ClientContext ctx;
  ASSERT_TRUE(caps->GetCapabilities(&ctx, req, &resp).ok());
  EXPECT_FALSE(resp.cache_capabilities().action_cache_update_capabilities().update_enabled());
  EXPECT_TRUE(resp.execution_capabilities().exec_enabled());
}

TEST_F(DefaultServer, OwnExecutionsEnterTheCache) {
  const auto digest = genuine_action();
  ASSERT_EQ(run_ok(digest).status().code(), 0);
  v2::ActionResult cached;
  ASSERT_EQ(ac_lookup(digest, &cached), grpc::StatusCode::OK);
  ASSERT_EQ(cached.output_files_size(), 1);
  EXPECT_EQ(blob(cached.output_files(0).digest()), "genuine\n");
  // And a poisoning attempt afterwards changes nothing.
  EXPECT_EQ(poison(digest).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(run_ok(digest).cached_result());
  ASSERT_EQ(ac_lookup(digest, &cached), grpc::StatusCode::OK);
  EXPECT_EQ(blob(cached.output_files(0).digest()), "genuine\n");
}

class TrustingServer : public DefaultServer {
protected:
  bool accepts_client_results() const override { return true; }
};

TEST_F(TrustingServer, AllowAcUpdatesAcceptsThem) {
  const auto digest = genuine_action();
  const auto st = poison(digest);
  EXPECT_TRUE(st.ok()) << st.error_message();
  v2::GetCapabilitiesRequest req;
  v2::ServerCapabilities resp;
  grpc::ClientContext ctx;
  ASSERT_TRUE(caps->GetCapabilities(&ctx, req, &resp).ok());
  EXPECT_TRUE(resp.cache_capabilities().action_cache_update_capabilities().update_enabled());
}

TEST(AcPolicy, AllowAcUpdatesDoesNotCombineWithTokens) {
  util::TempDir dir;
  ASSERT_TRUE(util::write_file_atomic(dir.path() + "/tokens", token_line("t", "*", "read", "x")));
  const auto r = run_server_to_exit({"--listen",
                                     "127.0.0.1:0",
                                     "--cache-dir",
                                     dir.path() + "/store",
                                     "--auth-tokens",
                                     dir.path() + "/tokens",
                                     "--allow-ac-updates"});
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.stderr_data.find("write-ac"), std::string::npos) << r.stderr_data;
}

} // namespace
} // namespace ccrex::test
