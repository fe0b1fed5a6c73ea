// Bearer tokens (--auth-tokens): a caller without a token, with a wrong one, or with one
// lacking the role gets nothing done, on every method of every service.

#include "hostile/hostile_support.h"

#include <gtest/gtest.h>

namespace ccrex::test {
namespace {

const std::string k_reader = "reader-3f1c9a7e5b2d4c6e8f0a1b2c3d4e5f60";
const std::string k_writer = "writer-8e7d6c5b4a39281706f5e4d3c2b1a098";
const std::string k_builder = "builder-0a1b2c3d4e5f60718293a4b5c6d7e8f9";
const std::string k_team_a = "team-a-5f4e3d2c1b0a99887766554433221100";

class Tokens : public ::testing::Test {
protected:
  void SetUp() override {
    const std::string file = m_dir.path() + "/tokens";
    ASSERT_TRUE(util::write_file_atomic(
        file,
        "# test tokens\n" + token_line(k_reader, "*", "read", "reader")
            + token_line(k_writer, "*", "read,write-cas,write-ac", "writer")
            + token_line(k_builder, "*", "read,write-cas,execute", "builder")
            + token_line(k_team_a, "team-a", "read,write-cas,write-ac,execute", "team-a"),
        0600));
    m_server = std::make_unique<ServerProcess>(
        std::vector<std::string>{"--workers", "1", "--auth-tokens", file});
    ASSERT_TRUE(m_server->ok()) << m_server->error();
    m_channel = plain_channel(m_server->address());
  }

  Caller as(const std::string& token) { return Caller(m_channel, token); }

  // An action whose blobs are uploaded by the builder: `echo genuine > out`.
  v2::Digest real_action(Caller& builder) {
    v2::Command cmd;
    cmd.add_arguments("/bin/sh");
    cmd.add_arguments("-c");
    cmd.add_arguments("echo genuine > out");
    cmd.add_output_paths("out");
    v2::Action action;
    EXPECT_TRUE(builder.upload(cmd.SerializeAsString()).ok());
    *action.mutable_command_digest() = reapi::digest_of(cmd.SerializeAsString());
    *action.mutable_input_root_digest() = reapi::digest_of(""); // the empty Directory
    EXPECT_TRUE(builder.upload(action.SerializeAsString()).ok());
    return reapi::digest_of(action.SerializeAsString());
  }

  util::TempDir m_dir;
  std::unique_ptr<ServerProcess> m_server;
  std::shared_ptr<grpc::Channel> m_channel;
};

TEST_F(Tokens, NoTokenIsUnauthenticatedEverywhere) {
  auto anonymous = as("");
  const auto results = anonymous.call_everything();
  EXPECT_EQ(results.size(), 12U);
  for (const auto& [method, st] : results) {
    EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << method << ": " << st.error_message();
    EXPECT_NE(st.error_message().find("bearer token"), std::string::npos) << method;
  }
}

TEST_F(Tokens, WrongTokenIsUnauthenticatedEverywhere) {
  // A made-up token, and the hash from the file presented as if it were the token.
  for (const std::string& token : {std::string("guess-0123456789"), util::sha256_hex(k_writer)}) {
    auto intruder = as(token);
    for (const auto& [method, st] : intruder.call_everything()) {
      EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED)
          << method << ": " << st.error_message();
      EXPECT_NE(st.error_message().find("not valid"), std::string::npos) << method;
    }
  }
  // A malformed authorization header is no better.
  grpc::ClientContext ctx;
  ctx.AddMetadata("authorization", "Basic " + k_writer);
  v2::GetCapabilitiesRequest req;
  v2::ServerCapabilities resp;
  EXPECT_EQ(as("").caps->GetCapabilities(&ctx, req, &resp).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_F(Tokens, ReadOnlyTokenCannotWriteOrExecute) {
  auto reader = as(k_reader);
  auto writer = as(k_writer);
  const std::string data = "uploaded by a reader";
  const auto st = reader.upload(data);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED) << st.error_message();
  EXPECT_NE(st.error_message().find("write-cas"), std::string::npos) << st.error_message();
  EXPECT_EQ(reader.bytestream_write(data).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(writer.missing(reapi::digest_of(data))) << "a reader's upload was stored";

  // Reads work.
  v2::ServerCapabilities caps;
  ASSERT_TRUE(reader.capabilities("", &caps).ok());
  EXPECT_FALSE(caps.cache_capabilities().action_cache_update_capabilities().update_enabled());
  EXPECT_FALSE(caps.execution_capabilities().exec_enabled());
  EXPECT_TRUE(reader.missing(reapi::digest_of(data)));
}

TEST_F(Tokens, ReadOnlyTokenCannotPoisonTheCache) {
  auto reader = as(k_reader);
  auto builder = as(k_builder);
  const auto action = real_action(builder);
  ASSERT_TRUE(builder.upload("PWNED\n").ok());
  v2::ActionResult poison;
  auto* f = poison.add_output_files();
  f->set_path("out");
  *f->mutable_digest() = reapi::digest_of("PWNED\n");
  const auto st = reader.update_result(action, poison);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED) << st.error_message();
  EXPECT_NE(st.error_message().find("write-ac"), std::string::npos) << st.error_message();
  EXPECT_EQ(reader.get_result(action).error_code(), grpc::StatusCode::NOT_FOUND);
  // A builder without write-ac cannot either.
  EXPECT_EQ(builder.update_result(action, poison).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Executing the action gives its genuine output.
  v2::ExecuteResponse resp;
  ASSERT_TRUE(builder.execute(action, nullptr, &resp).ok());
  ASSERT_EQ(resp.result().output_files_size(), 1);
  EXPECT_EQ(resp.result().output_files(0).digest().hash(), reapi::digest_of("genuine\n").hash());
}

TEST_F(Tokens, ReadOnlyTokenCannotExecuteOrWatch) {
  auto reader = as(k_reader);
  auto builder = as(k_builder);
  const auto action = real_action(builder);
  auto st = reader.execute(action);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED) << st.error_message();
  EXPECT_NE(st.error_message().find("execute"), std::string::npos) << st.error_message();
  std::string name;
  ASSERT_TRUE(builder.execute(action, &name).ok());
  ASSERT_FALSE(name.empty());
  EXPECT_EQ(reader.wait_execution(name).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(builder.wait_execution(name).ok());
}

TEST_F(Tokens, WriterTokenUpdatesTheCache) {
  auto writer = as(k_writer);
  ASSERT_TRUE(writer.upload("trusted output").ok());
  v2::ActionResult result;
  auto* f = result.add_output_files();
  f->set_path("out");
  *f->mutable_digest() = reapi::digest_of("trusted output");
  const auto action = reapi::digest_of("an action a CI job ran");
  const auto st = writer.update_result(action, result);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_TRUE(as(k_reader).get_result(action).ok());
  v2::ServerCapabilities caps;
  ASSERT_TRUE(writer.capabilities("", &caps).ok());
  EXPECT_TRUE(caps.cache_capabilities().action_cache_update_capabilities().update_enabled());
  EXPECT_FALSE(caps.execution_capabilities().exec_enabled());
}

TEST_F(Tokens, TokenRolesHoldOnlyOnTheirInstance) {
  auto team_a = as(k_team_a);
  for (const auto& [method, st] : team_a.call_everything("team-a")) {
    EXPECT_NE(st.error_code(), grpc::StatusCode::UNAUTHENTICATED) << method;
    EXPECT_NE(st.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << method << ": " << st.error_message();
  }
  for (const std::string instance : {"team-b", ""}) {
    for (const auto& [method, st] : team_a.call_everything(instance)) {
      EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED)
          << method << " on '" << instance << "': " << st.error_message();
    }
  }
}

TEST(TokenFileAtStartup, MistakesStopTheServer) {
  util::TempDir dir;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"plain-secret instance=* roles=read\n", "sha256:HEX"},
      {"sha256:" + util::sha256_hex("t") + " instance=* roles=read,admin\n", "unknown role"},
      {"sha256:" + util::sha256_hex("t") + " roles=read\n", "instance="},
      {"# nothing granted\n", "grants nothing"},
  };
  for (const auto& [text, expected] : cases) {
    const std::string file = dir.path() + "/tokens";
    ASSERT_TRUE(util::write_file_atomic(file, text));
    const auto r = run_server_to_exit(
        {"--listen", "127.0.0.1:0", "--cache-dir", dir.path() + "/store", "--auth-tokens", file});
    EXPECT_FALSE(r.timed_out) << text;
    EXPECT_NE(r.exit_code, 0) << text;
    EXPECT_NE(r.stderr_data.find(expected), std::string::npos) << r.stderr_data;
  }
  const auto r = run_server_to_exit({"--listen",
                                     "127.0.0.1:0",
                                     "--cache-dir",
                                     dir.path() + "/store",
                                     "--auth-tokens",
                                     dir.path() + "/absent"});
  EXPECT_FALSE(r.timed_out);
  EXPECT_NE(r.exit_code, 0);
}

} // namespace
} // namespace ccrex::test
