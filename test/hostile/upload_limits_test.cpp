// ByteStream uploads cannot exhaust the server: a declared size beyond the largest blob is
// refused at once, unfinished uploads count against the store's cap and expire, a stream
// that goes quiet is ended, and one client cannot open streams without end.

#include "hostile/hostile_support.h"

#include <gtest/gtest.h>

#include <thread>

namespace ccrex::test {
namespace {

using namespace std::chrono_literals;

class UploadLimits : public ::testing::Test {
protected:
  void start(std::vector<std::string> args) {
    m_server = std::make_unique<ServerProcess>(std::move(args));
    ASSERT_TRUE(m_server->ok()) << m_server->error();
    m_caller = std::make_unique<Caller>(plain_channel(m_server->address()), "");
  }

  // An open Write stream of `data`'s digest (declared size: `declared`, or data's size).
  struct OpenWrite {
    grpc::ClientContext ctx;
    bs::WriteResponse resp;
    std::unique_ptr<grpc::ClientWriter<bs::WriteRequest>> writer;
  };
  std::unique_ptr<OpenWrite> open_write(std::chrono::seconds deadline = 30s) {
    auto w = std::make_unique<OpenWrite>();
    w->ctx.set_deadline(std::chrono::system_clock::now() + deadline);
    w->writer = m_caller->bytestream->Write(&w->ctx, &w->resp);
    return w;
  }
  static bs::WriteRequest chunk(const v2::Digest& d, const std::string& data, bool finish) {
    bs::WriteRequest req;
    req.set_resource_name(reapi::write_resource("", "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d", d));
    req.set_data(data);
    req.set_finish_write(finish);
    return req;
  }

  // Send all but the last byte of `data` on a fresh stream, then hang up; return the
  // stream's status (the server's answer when it refused the bytes).
  grpc::Status partial_upload(const std::string& data) {
    auto w = open_write();
    const auto d = reapi::digest_of(data);
    bs::WriteRequest req = chunk(d, data.substr(0, data.size() - 1), false);
    req.set_resource_name(reapi::write_resource("", random_name(), d));
    w->writer->Write(req);
    w->writer->WritesDone();
    return w->writer->Finish();
  }

  std::string random_name() {
    return "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dc" + std::to_string(100 + m_uploads++);
  }

  std::unique_ptr<ServerProcess> m_server;
  std::unique_ptr<Caller> m_caller;
  int m_uploads = 0;
};

TEST_F(UploadLimits, DeclaredSizeBeyondTheLargestBlobIsRefusedAtOnce) {
  start({"--max-size", "64M"});
  v2::Digest huge = reapi::digest_of("x");
  huge.set_size_bytes(int64_t{1} << 40); // 1 TiB
  auto w = open_write(10s);
  w->writer->Write(chunk(huge, "x", false));
  // No WritesDone: an accepting server would wait for the rest until the deadline.
  const auto st = w->writer->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << st.error_message();
}

TEST_F(UploadLimits, UnfinishedUploadsCountAgainstTheCapAndExpire) {
  start({"--max-size", "4M", "--partial-upload-expiry", "2"});
  const std::string three_mb(3 << 20, 'a');
  const std::string other(3 << 20, 'b');
  EXPECT_FALSE(partial_upload(three_mb).ok()); // ends before finish_write: kept for resuming
  // A second unfinished upload would hold 6 MB of a 4 MB store.
  const auto st = partial_upload(other);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << st.error_message();
  // Once the first expired, its bytes are free again.
  std::this_thread::sleep_for(3s);
  const auto later = partial_upload(other);
  EXPECT_NE(later.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << later.error_message();
}

TEST_F(UploadLimits, IdleStreamsAreEnded) {
  start({"--stream-idle-timeout", "2"});
  const std::string data = "half of it";
  auto w = open_write(60s);
  w->writer->Write(chunk(reapi::digest_of(data), data.substr(0, 4), false));
  const auto start_time = std::chrono::steady_clock::now();
  const auto st = w->writer->Finish(); // the client sends nothing more
  EXPECT_FALSE(st.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start_time, 30s)
      << "an idle stream held its thread until the client's own deadline";
}

TEST_F(UploadLimits, StreamsPerClientAreCapped) {
  start({"--max-streams-per-client", "2"});
  const std::string data = "some bytes";
  std::vector<std::unique_ptr<OpenWrite>> open;
  for (int i = 0; i < 2; ++i) {
    open.push_back(open_write());
    auto req = chunk(reapi::digest_of(data + std::to_string(i)), "so", false);
    ASSERT_TRUE(open.back()->writer->Write(req));
  }
  std::this_thread::sleep_for(500ms); // both handlers hold their streams
  auto third = open_write(10s);
  third->writer->Write(chunk(reapi::digest_of(data), "so", false));
  const auto st = third->writer->Finish();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << st.error_message();
  for (auto& w : open) {
    w->ctx.TryCancel();
    w->writer->Finish();
  }
}

} // namespace
} // namespace ccrex::test
