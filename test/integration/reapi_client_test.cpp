// The reapi clients and GrpcRemoteExecutor against a real ccrex LocalServer in-process.

#include "reapi/channel.h"
#include "reapi/merkle_tree.h"
#include "reapi/remote.h"
#include "server/local_server.h"
#include "util/file.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <chrono>

namespace ccrex::reapi {
namespace {

class ReapiIntegrationTest : public ::testing::Test {
protected:
  // Where the server listens; a unix socket unless a test asks for TCP.
  virtual std::string listen_address() { return "unix:" + m_dir.path() + "/server.sock"; }

  void SetUp() override {
    // The sandbox user of a server run as root must reach the store (sandbox.h).
    ::chmod(m_dir.path().c_str(), 0711);
    server::Config cfg;
    cfg.cache_dir = m_dir.path() + "/cache";
    cfg.listen = {listen_address()};
    cfg.workers = 2;
    auto started = server::LocalServer::start(cfg);
    ASSERT_TRUE(started) << started.error().to_string();
    m_server = std::move(*started);
    ChannelOptions options;
    options.endpoint = m_server->addresses().at(0);
    auto channel = make_channel(options);
    ASSERT_TRUE(channel) << channel.error().message();
    m_channel = *channel;
    settings.tool_invocation_id = "integration";
    settings.call_timeout = std::chrono::seconds(10);
    auto shared = std::make_shared<const CallSettings>(settings);
    cas = CasClient::create(m_channel, shared);
    remote = std::make_unique<GrpcRemoteExecutor>(m_channel, settings);
  }

  void TearDown() override {
    remote.reset();
    cas.reset();
    m_channel.reset();
    m_server.reset();
  }

  // An action running `script` with /bin/sh in working directory "sub", collecting "out".
  ActionInputs make_action(const std::string& script) {
    MerkleTree tree;
    EXPECT_TRUE(
        tree.add_file("sub/in.txt", digest_of("input\n"), false, BlobSource::bytes("input\n")));
    EXPECT_TRUE(tree.add_directory("sub/empty"));
    auto root = tree.build();
    ActionInputs inputs;
    inputs.blobs = root.blobs;
    inputs.directories = root.directories;
    v2::Command command;
    command.add_arguments("/bin/sh");
    command.add_arguments("-c");
    command.add_arguments(script);
    auto* env = command.add_environment_variables();
    env->set_name("PATH");
    env->set_value("/usr/bin:/bin");
    command.add_output_files("out");
    command.set_working_directory("sub");
    v2::Action action;
    *action.mutable_command_digest() = add_message(inputs.blobs, command);
    *action.mutable_input_root_digest() = root.root_digest;
    inputs.action_digest = add_message(inputs.blobs, action);
    return inputs;
  }

  util::TempDir m_dir{"ccrex-reapi-it-"};
  std::unique_ptr<server::LocalServer> m_server;
  std::shared_ptr<grpc::Channel> m_channel;
  CallSettings settings;
  std::unique_ptr<CasClient> cas;
  std::unique_ptr<GrpcRemoteExecutor> remote;
};

TEST_F(ReapiIntegrationTest, CapabilitiesAreAccepted) {
  auto info = remote->server_info();
  ASSERT_TRUE(info) << info.error().to_string();
  EXPECT_TRUE(info->exec_enabled);
  EXPECT_GE(info->chosen_api, k_client_low_api);
}

TEST_F(ReapiIntegrationTest, UploadThenNothingIsMissing) {
  std::vector<UploadBlob> blobs;
  std::vector<v2::Digest> digests;
  for (const std::string data : {"one", "two", "three", ""}) {
    blobs.push_back({digest_of(data), BlobSource::bytes(data)});
    digests.push_back(digest_of(data));
  }
  auto missing = cas->find_missing(digests);
  ASSERT_TRUE(missing) << missing.error().to_string();
  EXPECT_EQ(missing->size(), 3U); // the empty blob is never missing
  ASSERT_TRUE(cas->upload(blobs));
  missing = cas->find_missing(digests);
  ASSERT_TRUE(missing);
  EXPECT_TRUE(missing->empty());
  auto back = cas->read_blobs(digests);
  ASSERT_TRUE(back) << back.error().to_string();
  EXPECT_EQ(back->at(to_string(digest_of("three"))), "three");
}

class ReapiTcpTest : public ReapiIntegrationTest {
protected:
  std::string listen_address() override { return "127.0.0.1:0"; }
};

TEST_F(ReapiTcpTest, LargeBlobGoesThroughByteStream) {
  std::string big(5 * 1024 * 1024 + 123, '\0');
  for (size_t i = 0; i < big.size(); ++i) {
    big[i] = static_cast<char>((i * 2654435761U) >> 13);
  }
  const std::string path = m_dir.path() + "/big.bin";
  ASSERT_TRUE(util::write_file_atomic(path, big));
  const UploadBlob blob{digest_of(big), BlobSource::file(path)};
  ASSERT_GT(blob.digest.size_bytes(), cas->batch_limit());
  ASSERT_TRUE(cas->upload({blob}));
  // Uploading again hits the server's "already have it" path.
  ASSERT_TRUE(cas->upload({blob}));
  auto data = cas->read_blob(blob.digest);
  ASSERT_TRUE(data) << data.error().to_string();
  EXPECT_TRUE(*data == big);
  const std::string out = m_dir.path() + "/big.out";
  ASSERT_TRUE(cas->read_blob_to_file(blob.digest, out, 0600));
  EXPECT_TRUE(*util::read_file(out) == big);
}

TEST_F(ReapiIntegrationTest, ActionCacheMissThenHit) {
  const auto inputs = make_action("true");
  auto miss = remote->lookup(inputs.action_digest, {});
  ASSERT_TRUE(miss) << miss.error().to_string();
  EXPECT_FALSE(miss->has_value());

  ASSERT_TRUE(remote->upload_missing(inputs.blobs));
  ASSERT_TRUE(remote->upload({{digest_of("out\n"), BlobSource::bytes("out\n")}}));
  v2::ActionResult result;
  result.set_exit_code(0);
  auto* file = result.add_output_files();
  file->set_path("out");
  *file->mutable_digest() = digest_of("out\n");
  auto st = remote->update_action_result(inputs.action_digest, result);
  ASSERT_TRUE(st) << st.error().to_string();

  auto hit = remote->lookup(inputs.action_digest, {});
  ASSERT_TRUE(hit) << hit.error().to_string();
  ASSERT_TRUE(hit->has_value());
  ASSERT_EQ((*hit)->output_files_size(), 1);
  EXPECT_EQ((*hit)->output_files(0).digest().hash(), digest_of("out\n").hash());
}

TEST_F(ReapiIntegrationTest, ExecuteWithWorkingDirectoryAndDownloadOutput) {
  const auto inputs = make_action("cat in.txt > out && echo hi >> out && echo to-stdout");
  auto outcome = upload_and_execute(*remote, inputs, {});
  ASSERT_TRUE(outcome) << outcome.error().to_string();
  const auto& response = outcome->response;
  ASSERT_EQ(response.status().code(), 0) << response.status().message();
  EXPECT_FALSE(response.cached_result());
  const auto& result = response.result();
  EXPECT_EQ(result.exit_code(), 0);
  ASSERT_EQ(result.output_files_size(), 1);
  EXPECT_EQ(result.output_files(0).path(), "out"); // relative to the working directory
  const std::string local = m_dir.path() + "/out";
  ASSERT_TRUE(remote->read_blob_to_file(result.output_files(0).digest(), local, 0644));
  EXPECT_EQ(*util::read_file(local), "input\nhi\n");
  auto out = remote->read_blob(result.stdout_digest());
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, "to-stdout\n");

  auto again = remote->execute(inputs.action_digest, {});
  ASSERT_TRUE(again) << again.error().to_string();
  EXPECT_TRUE(again->response.cached_result());
}

TEST_F(ReapiIntegrationTest, NonZeroExitIsAResultNotAFailure) {
  const auto inputs = make_action("echo oops >&2; exit 3");
  auto outcome = upload_and_execute(*remote, inputs, {});
  ASSERT_TRUE(outcome) << outcome.error().to_string();
  EXPECT_EQ(outcome->response.result().exit_code(), 3);
  auto err = remote->read_blob(outcome->response.result().stderr_digest());
  ASSERT_TRUE(err);
  EXPECT_EQ(*err, "oops\n");
}

TEST_F(ReapiIntegrationTest, MissingBlobIsNamedThenReuploaded) {
  const auto inputs = make_action("echo hi > out");
  const auto input_file = digest_of("input\n");
  std::vector<UploadBlob> all_but_one;
  for (const auto& [key, blob] : inputs.blobs) {
    if (key != to_string(input_file)) {
      all_but_one.push_back(blob);
    }
  }
  ASSERT_TRUE(remote->upload(all_but_one));
  auto first = remote->execute(inputs.action_digest, {});
  ASSERT_FALSE(first);
  ASSERT_EQ(first.error().kind, FailureKind::missing_blobs) << first.error().to_string();
  ASSERT_EQ(first.error().missing.size(), 1U);
  EXPECT_EQ(to_string(first.error().missing[0]), to_string(input_file));

  auto todo = blobs_to_reupload(inputs, first.error().missing);
  ASSERT_TRUE(todo);
  ASSERT_TRUE(remote->upload(*todo));
  auto second = remote->execute(inputs.action_digest, {});
  ASSERT_TRUE(second) << second.error().to_string();
  EXPECT_EQ(second->response.result().exit_code(), 0);
}

TEST_F(ReapiIntegrationTest, StoppedServerIsUnavailableQuickly) {
  m_server->shutdown();
  CallSettings quick = settings;
  quick.retry.max_attempts = 2;
  quick.call_timeout = std::chrono::seconds(2);
  GrpcRemoteExecutor down(m_channel, quick);
  const auto start = std::chrono::steady_clock::now();
  auto result = down.lookup(digest_of("action"), {});
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(result);
  EXPECT_TRUE(result.error().kind == FailureKind::unavailable
              || result.error().kind == FailureKind::timeout)
      << result.error().to_string();
  EXPECT_LT(elapsed, std::chrono::seconds(5));

  ExecuteOptions options;
  options.deadline = std::chrono::system_clock::now() + std::chrono::seconds(2);
  auto executed = down.execute(digest_of("action"), options);
  ASSERT_FALSE(executed);
  EXPECT_NE(executed.error().kind, FailureKind::error) << executed.error().to_string();
}

} // namespace
} // namespace ccrex::reapi
