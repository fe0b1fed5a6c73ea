// The store survives `kill -9` at any moment, during uploads and executions: after a restart every
// blob the server reports is complete and correct, and `ccrex-server --check` finds no damage.

#include "reapi/digest.h"
#include "reapi/proto.h"
#include "support/server_process.h"
#include "util/file.h"
#include "util/subprocess.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <filesystem>
#include <random>
#include <thread>

namespace ccrex::test {
namespace {

namespace v2 = reapi::v2;
namespace bs = reapi::bytestream;

std::string random_blob(std::mt19937& rng, size_t max_size) {
  std::string s(std::uniform_int_distribution<size_t>(1, max_size)(rng), '\0');
  for (auto& c : s) {
    c = static_cast<char>(rng());
  }
  return s;
}

// Upload blobs as fast as possible until `stop`; remember every digest attempted.
void hammer(const std::string& address,
            int seed,
            std::atomic<bool>& stop,
            std::vector<v2::Digest>& attempted) {
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  auto cas = v2::ContentAddressableStorage::NewStub(channel);
  auto bytestream = bs::ByteStream::NewStub(channel);
  std::mt19937 rng(static_cast<unsigned>(seed));
  while (!stop) {
    if (rng() % 2 == 0) {
      v2::BatchUpdateBlobsRequest req;
      for (int i = 0; i < 8; ++i) {
        const std::string data = random_blob(rng, 64 << 10);
        auto* r = req.add_requests();
        *r->mutable_digest() = reapi::digest_of(data);
        r->set_data(data);
        attempted.push_back(r->digest());
      }
      v2::BatchUpdateBlobsResponse resp;
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
      if (!cas->BatchUpdateBlobs(&ctx, req, &resp).ok()) {
        return; // server gone
      }
    } else {
      const std::string data = random_blob(rng, 3 << 20);
      const auto d = reapi::digest_of(data);
      attempted.push_back(d);
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
      bs::WriteResponse resp;
      auto writer = bytestream->Write(&ctx, &resp);
      for (size_t off = 0; off < data.size(); off += 256 << 10) {
        bs::WriteRequest req;
        if (off == 0) {
          req.set_resource_name(reapi::write_resource("", "crash", d));
        }
        req.set_write_offset(static_cast<int64_t>(off));
        req.set_data(data.substr(off, 256 << 10));
        req.set_finish_write(off + (256 << 10) >= data.size());
        if (!writer->Write(req)) {
          break;
        }
      }
      writer->WritesDone();
      if (!writer->Finish().ok() && stop) {
        return;
      }
    }
  }
}

// Execute actions that write outputs (so the ActionCache is written) until `stop`.
void execute_loop(const std::string& address, int seed, std::atomic<bool>& stop) {
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  auto cas = v2::ContentAddressableStorage::NewStub(channel);
  auto exec = v2::Execution::NewStub(channel);
  for (int i = 0; !stop; ++i) {
    v2::Command cmd;
    cmd.add_arguments("/bin/sh");
    cmd.add_arguments("-c");
    cmd.add_arguments("head -c 200000 /dev/urandom > out; echo "
                      + std::to_string(seed * 100000 + i));
    cmd.add_output_files("out");
    v2::Action action;
    *action.mutable_command_digest() = reapi::digest_of_message(cmd);
    *action.mutable_input_root_digest() = reapi::digest_of("");
    v2::BatchUpdateBlobsRequest up;
    for (const google::protobuf::Message* m : {static_cast<google::protobuf::Message*>(&cmd),
                                               static_cast<google::protobuf::Message*>(&action)}) {
      auto* r = up.add_requests();
      r->set_data(m->SerializeAsString());
      *r->mutable_digest() = reapi::digest_of(r->data());
    }
    v2::BatchUpdateBlobsResponse up_resp;
    grpc::ClientContext up_ctx;
    up_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    if (!cas->BatchUpdateBlobs(&up_ctx, up, &up_resp).ok()) {
      return;
    }
    v2::ExecuteRequest req;
    *req.mutable_action_digest() = reapi::digest_of_message(action);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    auto reader = exec->Execute(&ctx, req);
    google::longrunning::Operation op;
    while (reader->Read(&op)) {
    }
    if (!reader->Finish().ok() && stop) {
      return;
    }
  }
}

TEST(Crash, KillNineDuringUploadsAndExecutionsLeavesNoTornBlob) {
  util::TempDir dir;
  const std::string cache = dir.path() + "/cache";
  // One list per uploading thread: threads never share one.
  std::vector<v2::Digest> attempted[6];
  for (int round = 0; round < 3; ++round) {
    ServerProcess server({}, "127.0.0.1:0", cache);
    ASSERT_TRUE(server.ok()) << server.error();
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (int t = 0; t < 2; ++t) {
      threads.emplace_back(hammer,
                           server.address(),
                           round * 10 + t,
                           std::ref(stop),
                           std::ref(attempted[round * 2 + t]));
    }
    threads.emplace_back(execute_loop, server.address(), round, std::ref(stop));
    std::this_thread::sleep_for(std::chrono::milliseconds(400 + round * 300));
    const int status = server.kill_and_wait(SIGKILL);
    stop = true;
    for (auto& t : threads) {
      t.join();
    }
    ASSERT_TRUE(WIFSIGNALED(status));
  }

  // The offline check re-hashes every stored blob.
  util::SubprocessOptions check;
  check.argv = {server_binary(), "--check", "--cache-dir", cache};
  const auto res = util::run_subprocess(check);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->exit_code, 0) << res->stdout_data << res->stderr_data;
  EXPECT_NE(res->stdout_data.find(" 0 damaged blob(s), 0 unreadable and 0 stale"),
            std::string::npos)
      << res->stdout_data;
  size_t results = 0;
  for (const auto& shard : std::filesystem::directory_iterator(cache + "/ac")) {
    results += static_cast<size_t>(std::distance(std::filesystem::directory_iterator(shard),
                                                 std::filesystem::directory_iterator()));
  }
  EXPECT_GT(results, 0U) << "no action ran before the kills";

  // Every blob the restarted server says it has reads back with the right content.
  ServerProcess server({}, "127.0.0.1:0", cache);
  ASSERT_TRUE(server.ok()) << server.error();
  auto channel = grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials());
  auto cas = v2::ContentAddressableStorage::NewStub(channel);
  auto bytestream = bs::ByteStream::NewStub(channel);
  size_t present = 0;
  for (const auto& list : attempted) {
    for (const auto& d : list) {
      grpc::ClientContext ctx;
      bs::ReadRequest req;
      req.set_resource_name(reapi::read_resource("", d));
      auto reader = bytestream->Read(&ctx, req);
      std::string data;
      bs::ReadResponse resp;
      while (reader->Read(&resp)) {
        data += resp.data();
      }
      const auto st = reader->Finish();
      if (st.error_code() == grpc::StatusCode::NOT_FOUND) {
        continue; // never completed before the kill: absent is fine, torn is not
      }
      ASSERT_TRUE(st.ok()) << st.error_message();
      EXPECT_EQ(reapi::digest_of(data).hash(), d.hash());
      ++present;
    }
  }
  EXPECT_GT(present, 0U);
}

} // namespace
} // namespace ccrex::test
