// A store whose file system turns read-only while the server runs: uploads fail with a clear
// status (the server does not crash), blobs and action results already stored keep being
// served, the server says so once in its log, and uploads work again once the file system
// is writable.

#include "reapi/digest.h"
#include "reapi/proto.h"
#include "server/stage_root.h"
#include "support/server_process.h"
#include "util/file.h"
#include "util/strings.h"
#include "util/subprocess.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <signal.h>

namespace ccrex::test {
namespace {

namespace v2 = reapi::v2;
namespace bs = reapi::bytestream;

class ReadOnlyStore : public ::testing::Test {
protected:
  void SetUp() override {
    if (!server::stage_root_supported()) {
      GTEST_SKIP() << "mount namespaces are not available on this machine";
    }
    mount_point = dir.path() + "/store";
    log_path = dir.path() + "/server.log";
    ASSERT_TRUE(util::make_dirs(mount_point));
    // The server runs in its own mount namespace with its store on a tmpfs that the test
    // remounts read-only from inside that namespace (root ignores file modes, not mounts).
    server = std::make_unique<ServerProcess>(
        std::vector<std::string>{"--allow-ac-updates"},
        "127.0.0.1:0",
        mount_point + "/cache",
        std::vector<std::string>{
            "/usr/bin/unshare",
            "--mount",
            "--propagation",
            "private",
            "/bin/sh",
            "-c",
            "mount -t tmpfs -o size=64m tmpfs \"$0\" && log=$1 && shift && exec \"$@\" 2>\"$log\"",
            mount_point,
            log_path});
    ASSERT_TRUE(server->ok()) << server->error();
    auto channel = grpc::CreateChannel(server->address(), grpc::InsecureChannelCredentials());
    cas = v2::ContentAddressableStorage::NewStub(channel);
    ac = v2::ActionCache::NewStub(channel);
    bytestream = bs::ByteStream::NewStub(channel);
  }

  // Remount the store's tmpfs inside the server's mount namespace; return the error output
  // when that fails (empty on success).
  std::string remount(const std::string& mode) {
    util::SubprocessOptions options;
    options.argv = {"/usr/bin/nsenter",
                    "-t",
                    std::to_string(server->pid()),
                    "-m",
                    "mount",
                    "-o",
                    "remount," + mode,
                    mount_point};
    auto r = util::run_subprocess(options);
    if (!r) {
      return r.error().message();
    }
    return r->exit_code == 0
               ? ""
               : "mount exited with " + std::to_string(r->exit_code) + ": " + r->stderr_data;
  }

  // Upload `data` with BatchUpdateBlobs; return the blob's status.
  google::rpc::Status batch_upload(const std::string& data) {
    v2::BatchUpdateBlobsRequest req;
    auto* r = req.add_requests();
    *r->mutable_digest() = reapi::digest_of(data);
    r->set_data(data);
    v2::BatchUpdateBlobsResponse resp;
    grpc::ClientContext ctx;
    const auto st = cas->BatchUpdateBlobs(&ctx, req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    if (resp.responses_size() != 1) {
      ADD_FAILURE() << "no response for the blob";
      return {};
    }
    return resp.responses(0).status();
  }

  // Upload `data` through ByteStream in 64 KiB chunks; return the call's status.
  grpc::Status stream_upload(const std::string& data) {
    const auto d = reapi::digest_of(data);
    grpc::ClientContext ctx;
    bs::WriteResponse resp;
    auto writer = bytestream->Write(&ctx, &resp);
    for (size_t off = 0; off < data.size(); off += 64 << 10) {
      bs::WriteRequest req;
      if (off == 0) {
        req.set_resource_name(reapi::write_resource("", "read-only", d));
      }
      req.set_write_offset(static_cast<int64_t>(off));
      req.set_data(data.substr(off, 64 << 10));
      req.set_finish_write(off + (64 << 10) >= data.size());
      if (!writer->Write(req)) {
        break;
      }
    }
    writer->WritesDone();
    return writer->Finish();
  }

  std::string read_blob(const v2::Digest& d) {
    v2::BatchReadBlobsRequest req;
    *req.add_digests() = d;
    v2::BatchReadBlobsResponse resp;
    grpc::ClientContext ctx;
    EXPECT_TRUE(cas->BatchReadBlobs(&ctx, req, &resp).ok());
    EXPECT_EQ(resp.responses_size(), 1);
    if (resp.responses_size() != 1 || resp.responses(0).status().code() != 0) {
      return "<not readable>";
    }
    return resp.responses(0).data();
  }

  grpc::Status update_result(const v2::Digest& action, const v2::ActionResult& result) {
    v2::UpdateActionResultRequest req;
    *req.mutable_action_digest() = action;
    *req.mutable_action_result() = result;
    v2::ActionResult resp;
    grpc::ClientContext ctx;
    return ac->UpdateActionResult(&ctx, req, &resp);
  }

  util::TempDir dir;
  std::string mount_point;
  std::string log_path;
  std::unique_ptr<ServerProcess> server;
  std::unique_ptr<v2::ContentAddressableStorage::Stub> cas;
  std::unique_ptr<v2::ActionCache::Stub> ac;
  std::unique_ptr<bs::ByteStream::Stub> bytestream;
};

TEST_F(ReadOnlyStore, UploadsFailClearlyReadsKeepWorkingAndWritesResume) {
  const std::string stored = "stored before the store turned read-only";
  const std::string large_stored(3 << 20, 's');
  ASSERT_EQ(batch_upload(stored).code(), 0);
  ASSERT_TRUE(stream_upload(large_stored).ok());
  const auto action = reapi::digest_of("an action");
  v2::ActionResult result;
  auto* out = result.add_output_files();
  out->set_path("a.o");
  *out->mutable_digest() = reapi::digest_of(stored);
  ASSERT_TRUE(update_result(action, result).ok());

  if (const auto err = remount("ro"); !err.empty()) {
    GTEST_SKIP() << "cannot remount the store read-only (nsenter or mount not permitted): " << err;
  }
  // Uploads fail with a status that says why, through both upload paths.
  for (int i = 0; i < 3; ++i) {
    const auto st = batch_upload("new blob " + std::to_string(i));
    EXPECT_NE(st.code(), 0);
    EXPECT_NE(st.message().find("Read-only file system"), std::string::npos) << st.message();
  }
  const auto streamed = stream_upload(std::string(1 << 20, 'n'));
  EXPECT_FALSE(streamed.ok());
  EXPECT_NE(streamed.error_message().find("Read-only file system"), std::string::npos)
      << streamed.error_message();
  const auto updated = update_result(reapi::digest_of("another action"), result);
  EXPECT_FALSE(updated.ok());
  EXPECT_NE(updated.error_message().find("Read-only file system"), std::string::npos)
      << updated.error_message();

  // Reads keep working: blobs, the large blob and the action result stored before.
  EXPECT_EQ(read_blob(reapi::digest_of(stored)), stored);
  EXPECT_EQ(read_blob(reapi::digest_of(large_stored)), large_stored);
  v2::GetActionResultRequest get;
  *get.mutable_action_digest() = action;
  v2::ActionResult got;
  grpc::ClientContext get_ctx;
  ASSERT_TRUE(ac->GetActionResult(&get_ctx, get, &got).ok());
  EXPECT_EQ(got.output_files(0).digest().hash(), reapi::digest_of(stored).hash());
  v2::FindMissingBlobsRequest find;
  *find.add_blob_digests() = reapi::digest_of(stored);
  *find.add_blob_digests() = reapi::digest_of("new blob 0");
  v2::FindMissingBlobsResponse missing;
  grpc::ClientContext find_ctx;
  ASSERT_TRUE(cas->FindMissingBlobs(&find_ctx, find, &missing).ok());
  ASSERT_EQ(missing.missing_blob_digests_size(), 1);
  EXPECT_EQ(missing.missing_blob_digests(0).hash(), reapi::digest_of("new blob 0").hash());
  EXPECT_EQ(::kill(server->pid(), 0), 0) << "the server died";

  // Writable again: uploads work, and what failed before can be stored now.
  ASSERT_EQ(remount("rw"), "");
  EXPECT_EQ(batch_upload("new blob 0").code(), 0);
  EXPECT_EQ(read_blob(reapi::digest_of("new blob 0")), "new blob 0");
  EXPECT_TRUE(stream_upload(std::string(1 << 20, 'n')).ok());
  EXPECT_TRUE(update_result(reapi::digest_of("another action"), result).ok());

  // One line in the log says the store cannot be written, however many uploads failed,
  // and one says when it can again.
  server->kill_and_wait(SIGTERM);
  const auto log = util::read_file(log_path);
  ASSERT_TRUE(log) << log.error().message();
  size_t read_only_lines = 0;
  size_t writable_lines = 0;
  for (const auto& line : util::split(*log, '\n')) {
    read_only_lines += line.find("Read-only file system") != std::string::npos ? 1 : 0;
    writable_lines += line.find("writable again") != std::string::npos ? 1 : 0;
  }
  EXPECT_EQ(read_only_lines, 1U) << *log;
  EXPECT_EQ(writable_lines, 1U) << *log;
}

} // namespace
} // namespace ccrex::test
