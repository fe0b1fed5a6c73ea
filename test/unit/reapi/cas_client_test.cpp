#include "reapi/cas_client.h"
#include "reapi_mocks.h"
#include "util/file.h"

#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <thread>

namespace ccrex::reapi {
namespace {

using ::testing::_;
using ::testing::Invoke;
using ::testing::Return;
using testing::scripted_reader;
using ::testing::StrictMock;
using testing::test_settings;
using testing::unavailable;

class CasClientTest : public ::testing::Test {
protected:
  std::shared_ptr<StrictMock<v2::MockContentAddressableStorageStub>> cas =
      std::make_shared<StrictMock<v2::MockContentAddressableStorageStub>>();
  std::shared_ptr<StrictMock<bytestream::MockByteStreamStub>> bs =
      std::make_shared<StrictMock<bytestream::MockByteStreamStub>>();
  std::shared_ptr<CallSettings> settings = test_settings();
  CasOptions options;

  CasClient client() { return CasClient(cas, bs, settings, options); }

  // Make every blob of more than `bytes` go through ByteStream.
  void set_batch_budget(int64_t bytes) {
    options.max_batch_bytes = 1024 + bytes; // CasClient keeps a 1 KiB request margin
  }
};

UploadBlob blob_of(const std::string& data) {
  return {digest_of(data), BlobSource::bytes(data)};
}

TEST_F(CasClientTest, FindMissingSplitsLargeRequestsAndSkipsTheEmptyBlob) {
  options.max_find_missing_digests = 3;
  std::vector<v2::Digest> digests{digest_of("")};
  for (int i = 0; i < 7; ++i) {
    digests.push_back(digest_of("blob" + std::to_string(i)));
  }
  std::vector<int> sizes;
  EXPECT_CALL(*cas, FindMissingBlobs(_, _, _))
      .Times(3)
      .WillRepeatedly([&](auto*, const v2::FindMissingBlobsRequest& req, auto* resp) {
        sizes.push_back(req.blob_digests_size());
        for (const auto& d : req.blob_digests()) {
          EXPECT_FALSE(is_empty_blob(d));
          *resp->add_missing_blob_digests() = d; // everything is missing
        }
        return grpc::Status::OK;
      });
  auto missing = client().find_missing(digests);
  ASSERT_TRUE(missing) << missing.error().to_string();
  EXPECT_EQ(sizes, (std::vector<int>{3, 3, 1}));
  EXPECT_EQ(missing->size(), 7U);
}

TEST_F(CasClientTest, FindMissingRetriesUnavailable) {
  EXPECT_CALL(*cas, FindMissingBlobs(_, _, _))
      .WillOnce(Return(unavailable()))
      .WillOnce(Return(grpc::Status::OK));
  EXPECT_TRUE(client().find_missing({digest_of("x")}));
}

TEST_F(CasClientTest, BatchesStayUnderTheBudgetAndLargeBlobsUseByteStream) {
  set_batch_budget(2 * (100 + options.batch_entry_overhead));
  std::vector<UploadBlob> blobs;
  for (int i = 0; i < 5; ++i) {
    blobs.push_back(blob_of(std::string(100, static_cast<char>('a' + i))));
  }
  blobs.push_back(blob_of("")); // never sent
  const auto big = blob_of(std::string(700, 'z'));
  blobs.push_back(big);

  std::vector<int> batch_sizes;
  std::set<std::string> uploaded;
  EXPECT_CALL(*cas, BatchUpdateBlobs(_, _, _))
      .Times(3)
      .WillRepeatedly([&](auto*, const v2::BatchUpdateBlobsRequest& req, auto* resp) {
        batch_sizes.push_back(req.requests_size());
        for (const auto& r : req.requests()) {
          EXPECT_EQ(to_string(digest_of(r.data())), to_string(r.digest()));
          uploaded.insert(r.data());
          auto* out = resp->add_responses();
          *out->mutable_digest() = r.digest();
        }
        return grpc::Status::OK;
      });
  std::string streamed;
  EXPECT_CALL(*bs, WriteRaw(_, _)).WillOnce([&](auto*, bytestream::WriteResponse* resp) {
    auto* writer =
        new ::testing::NiceMock<grpc::testing::MockClientWriter<bytestream::WriteRequest>>();
    ON_CALL(*writer, Write(_, _)).WillByDefault([&](const bytestream::WriteRequest& r, auto) {
      streamed += r.data();
      return true;
    });
    ON_CALL(*writer, WritesDone()).WillByDefault(Return(true));
    ON_CALL(*writer, Finish()).WillByDefault([resp, &streamed] {
      resp->set_committed_size(static_cast<int64_t>(streamed.size()));
      return grpc::Status::OK;
    });
    return writer;
  });
  ASSERT_TRUE(client().upload(blobs));
  EXPECT_EQ(batch_sizes, (std::vector<int>{2, 2, 1}));
  EXPECT_EQ(uploaded.size(), 5U);
  EXPECT_EQ(streamed, big.source.data);
}

TEST_F(CasClientTest, ReportsWhichBlobsFailed) {
  const auto good = blob_of("good");
  const auto bad = blob_of("bad");
  EXPECT_CALL(*cas, BatchUpdateBlobs(_, _, _))
      .WillOnce([&](auto*, const v2::BatchUpdateBlobsRequest& req, auto* resp) {
        for (const auto& r : req.requests()) {
          auto* out = resp->add_responses();
          *out->mutable_digest() = r.digest();
          if (r.data() == "bad") {
            out->mutable_status()->set_code(grpc::StatusCode::INVALID_ARGUMENT);
            out->mutable_status()->set_message("rejected");
          }
        }
        return grpc::Status::OK;
      });
  std::vector<BlobFailure> failures;
  auto st = client().upload({good, bad}, &failures);
  ASSERT_FALSE(st);
  ASSERT_EQ(failures.size(), 1U);
  EXPECT_EQ(to_string(failures[0].digest), to_string(bad.digest));
  EXPECT_EQ(failures[0].error.code(), util::ErrorCode::invalid_argument);
  EXPECT_NE(st.error().message().find(to_string(bad.digest)), std::string::npos);
}

TEST_F(CasClientTest, RetriesOnlyTheBlobsThatFailedTransiently) {
  const auto a = blob_of("a");
  const auto b = blob_of("b");
  std::vector<int> sizes;
  EXPECT_CALL(*cas, BatchUpdateBlobs(_, _, _))
      .Times(2)
      .WillRepeatedly([&](auto*, const v2::BatchUpdateBlobsRequest& req, auto* resp) {
        sizes.push_back(req.requests_size());
        for (const auto& r : req.requests()) {
          auto* out = resp->add_responses();
          *out->mutable_digest() = r.digest();
          if (r.data() == "b" && sizes.size() == 1) {
            out->mutable_status()->set_code(grpc::StatusCode::RESOURCE_EXHAUSTED);
          }
        }
        return grpc::Status::OK;
      });
  EXPECT_TRUE(client().upload({a, b}));
  EXPECT_EQ(sizes, (std::vector<int>{2, 1}));
}

TEST_F(CasClientTest, ByteStreamWriteSendsChunksWithOneResourceName) {
  set_batch_budget(10);
  options.chunk_bytes = 10;
  const auto blob = blob_of(std::string(35, 'q'));
  std::vector<bytestream::WriteRequest> sent;
  EXPECT_CALL(*bs, WriteRaw(_, _)).WillOnce([&](auto*, bytestream::WriteResponse* resp) {
    auto* writer = new StrictMock<grpc::testing::MockClientWriter<bytestream::WriteRequest>>();
    EXPECT_CALL(*writer, Write(_, _)).Times(4).WillRepeatedly([&](const auto& r, auto) {
      sent.push_back(r);
      return true;
    });
    EXPECT_CALL(*writer, WritesDone()).WillOnce(Return(true));
    EXPECT_CALL(*writer, Finish()).WillOnce([resp] {
      resp->set_committed_size(35);
      return grpc::Status::OK;
    });
    return writer;
  });
  ASSERT_TRUE(client().upload({blob}));
  ASSERT_EQ(sent.size(), 4U);
  auto rn = parse_write_resource(sent[0].resource_name());
  ASSERT_TRUE(rn) << sent[0].resource_name();
  EXPECT_EQ(to_string(rn->digest), to_string(blob.digest));
  EXPECT_FALSE(rn->upload_uuid.empty());
  for (size_t i = 0; i < sent.size(); ++i) {
    EXPECT_EQ(sent[i].write_offset(), static_cast<int64_t>(i * 10));
    EXPECT_EQ(sent[i].finish_write(), i == 3);
    EXPECT_EQ(sent[i].data().size(), i == 3 ? 5U : 10U);
    if (i > 0) {
      EXPECT_TRUE(sent[i].resource_name().empty());
    }
  }
}

TEST_F(CasClientTest, ByteStreamEarlyReturnWithFullCommittedSizeSucceeds) {
  set_batch_budget(10);
  options.chunk_bytes = 10;
  const auto blob = blob_of(std::string(50, 'e'));
  EXPECT_CALL(*bs, WriteRaw(_, _)).WillOnce([&](auto*, bytestream::WriteResponse* resp) {
    auto* writer = new StrictMock<grpc::testing::MockClientWriter<bytestream::WriteRequest>>();
    EXPECT_CALL(*writer, Write(_, _)).WillOnce(Return(false)); // server already has it
    EXPECT_CALL(*writer, WritesDone()).WillOnce(Return(false));
    EXPECT_CALL(*writer, Finish()).WillOnce([resp] {
      resp->set_committed_size(50);
      return grpc::Status::OK;
    });
    return writer;
  });
  EXPECT_TRUE(client().upload({blob}));
}

TEST_F(CasClientTest, ByteStreamWrongCommittedSizeFails) {
  set_batch_budget(10);
  const auto blob = blob_of(std::string(50, 'w'));
  EXPECT_CALL(*bs, WriteRaw(_, _)).WillOnce([&](auto*, bytestream::WriteResponse* resp) {
    auto* writer =
        new ::testing::NiceMock<grpc::testing::MockClientWriter<bytestream::WriteRequest>>();
    ON_CALL(*writer, Write(_, _)).WillByDefault(Return(true));
    ON_CALL(*writer, Finish()).WillByDefault([resp] {
      resp->set_committed_size(20);
      return grpc::Status::OK;
    });
    return writer;
  });
  EXPECT_FALSE(client().upload({blob}));
}

TEST_F(CasClientTest, FileThatChangedSinceHashingIsNotUploaded) {
  util::TempDir dir;
  const std::string path = dir.path() + "/f";
  ASSERT_TRUE(util::write_file_atomic(path, "new content"));
  UploadBlob blob{digest_of("old content"), BlobSource::file(path)};
  std::vector<BlobFailure> failures;
  EXPECT_FALSE(client().upload({blob}, &failures)); // StrictMock: no RPC at all
  ASSERT_EQ(failures.size(), 1U);
  EXPECT_EQ(failures[0].error.code(), util::ErrorCode::failed_precondition);
}

TEST_F(CasClientTest, BatchReadRejectsWrongBytes) {
  const auto d = digest_of("expected");
  EXPECT_CALL(*cas, BatchReadBlobs(_, _, _))
      .WillOnce([&](auto*, const v2::BatchReadBlobsRequest&, v2::BatchReadBlobsResponse* resp) {
        auto* r = resp->add_responses();
        *r->mutable_digest() = d;
        r->set_data("forged!!"); // same size, different content
        return grpc::Status::OK;
      });
  auto data = client().read_blob(d);
  ASSERT_FALSE(data);
  EXPECT_EQ(data.error().code(), util::ErrorCode::data_loss);
}

TEST_F(CasClientTest, BatchReadReportsNotFound) {
  const auto d = digest_of("absent");
  EXPECT_CALL(*cas, BatchReadBlobs(_, _, _))
      .WillOnce([&](auto*, const v2::BatchReadBlobsRequest&, v2::BatchReadBlobsResponse* resp) {
        auto* r = resp->add_responses();
        *r->mutable_digest() = d;
        r->mutable_status()->set_code(grpc::StatusCode::NOT_FOUND);
        return grpc::Status::OK;
      });
  auto data = client().read_blob(d);
  ASSERT_FALSE(data);
  EXPECT_EQ(data.error().code(), util::ErrorCode::not_found);
}

bytestream::ReadResponse chunk(const std::string& data) {
  bytestream::ReadResponse r;
  r.set_data(data);
  return r;
}

TEST_F(CasClientTest, ByteStreamReadResumesAtTheReceivedOffset) {
  set_batch_budget(10);
  const std::string content = "0123456789abcdefghij";
  const auto d = digest_of(content);
  std::vector<int64_t> offsets;
  EXPECT_CALL(*bs, ReadRaw(_, _))
      .Times(2)
      .WillRepeatedly([&](auto*, const bytestream::ReadRequest& req) {
        offsets.push_back(req.read_offset());
        EXPECT_EQ(req.resource_name(), read_resource("", d));
        if (offsets.size() == 1) {
          return scripted_reader<bytestream::ReadResponse>({chunk("0123456789")}, unavailable());
        }
        return scripted_reader<bytestream::ReadResponse>({chunk("abcdefghij")}, grpc::Status::OK);
      });
  auto data = client().read_blob(d);
  ASSERT_TRUE(data) << data.error().to_string();
  EXPECT_EQ(*data, content);
  EXPECT_EQ(offsets, (std::vector<int64_t>{0, 10}));
}

TEST_F(CasClientTest, ByteStreamReadToFileRejectsWrongBytesAndLeavesNoFile) {
  set_batch_budget(10);
  const auto d = digest_of(std::string(30, 'r'));
  EXPECT_CALL(*bs, ReadRaw(_, _)).WillOnce([&](auto*, const auto&) {
    return scripted_reader<bytestream::ReadResponse>({chunk(std::string(30, 'x'))},
                                                     grpc::Status::OK);
  });
  util::TempDir dir;
  const std::string path = dir.path() + "/out";
  auto st = client().read_blob_to_file(d, path);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), util::ErrorCode::data_loss);
  EXPECT_FALSE(util::path_exists(path));
}

TEST_F(CasClientTest, ByteStreamReadToFileWritesVerifiedContent) {
  set_batch_budget(10);
  const std::string content(30, 'k');
  EXPECT_CALL(*bs, ReadRaw(_, _)).WillOnce([&](auto*, const auto&) {
    return scripted_reader<bytestream::ReadResponse>(
        {chunk(content.substr(0, 12)), chunk(content.substr(12))}, grpc::Status::OK);
  });
  util::TempDir dir;
  const std::string path = dir.path() + "/out";
  ASSERT_TRUE(client().read_blob_to_file(digest_of(content), path, 0755));
  EXPECT_EQ(*util::read_file(path), content);
}

TEST_F(CasClientTest, ByteStreamReadRejectsExtraBytes) {
  set_batch_budget(10);
  const auto d = digest_of(std::string(20, 'a'));
  EXPECT_CALL(*bs, ReadRaw(_, _)).WillOnce([&](auto*, const auto&) {
    return scripted_reader<bytestream::ReadResponse>({chunk(std::string(25, 'a'))},
                                                     grpc::Status::OK);
  });
  EXPECT_FALSE(client().read_blob(d));
}

TEST_F(CasClientTest, EmptyBlobIsNeverTransferred) {
  auto c = client(); // StrictMock: any RPC fails the test
  EXPECT_TRUE(c.upload({blob_of("")}));
  auto data = c.read_blob(digest_of(""));
  ASSERT_TRUE(data);
  EXPECT_EQ(*data, "");
  auto missing = c.find_missing({digest_of("")});
  ASSERT_TRUE(missing);
  EXPECT_TRUE(missing->empty());
}

TEST_F(CasClientTest, BatchLimitFollowsTheServer) {
  auto c = client();
  EXPECT_EQ(c.batch_limit(), (int64_t{4} << 20) - 1024);
  c.set_server_batch_limit(1 << 20);
  EXPECT_EQ(c.batch_limit(), (int64_t{1} << 20) - 1024);
  c.set_server_batch_limit(int64_t{64} << 20); // never above gRPC's default receive limit
  EXPECT_EQ(c.batch_limit(), (int64_t{4} << 20) - 1024);
}

// Answer a BatchUpdateBlobs: every entry stored.
grpc::Status accept_all(const v2::BatchUpdateBlobsRequest& req,
                        v2::BatchUpdateBlobsResponse* resp) {
  for (const auto& r : req.requests()) {
    *resp->add_responses()->mutable_digest() = r.digest();
  }
  return grpc::Status::OK;
}

// Two compiles sharing a header upload it at the same time: the second waits for the first
// upload instead of sending the blob again.
TEST_F(CasClientTest, ConcurrentUploadsOfOneBlobSendItOnce) {
  const auto c = client();
  std::promise<void> entered;
  std::promise<void> release;
  const auto released = release.get_future().share();
  EXPECT_CALL(*cas, BatchUpdateBlobs(_, _, _))
      .WillOnce([&](auto*, const v2::BatchUpdateBlobsRequest& req, auto* resp) {
        entered.set_value();
        released.wait();
        return accept_all(req, resp);
      });
  const std::vector<UploadBlob> blobs{blob_of("a shared header")};
  std::thread first([&] { EXPECT_TRUE(c.upload(blobs)); });
  entered.get_future().wait();
  std::thread second([&] { EXPECT_TRUE(c.upload(blobs)); });
  while (c.waiting_uploads() == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  release.set_value();
  first.join();
  second.join();
}

// When the upload waited for fails, the waiting call sends the blob itself.
TEST_F(CasClientTest, WaiterSendsTheBlobWhenTheFirstUploadFailed) {
  const auto c = client();
  std::promise<void> entered;
  std::promise<void> release;
  const auto released = release.get_future().share();
  EXPECT_CALL(*cas, BatchUpdateBlobs(_, _, _))
      .WillOnce([&](auto*, const v2::BatchUpdateBlobsRequest& req, auto* resp) {
        entered.set_value();
        released.wait();
        for (const auto& r : req.requests()) {
          auto* out = resp->add_responses();
          *out->mutable_digest() = r.digest();
          out->mutable_status()->set_code(grpc::StatusCode::INVALID_ARGUMENT);
        }
        return grpc::Status::OK;
      })
      .WillOnce([&](auto*, const v2::BatchUpdateBlobsRequest& req, auto* resp) {
        return accept_all(req, resp);
      });
  const std::vector<UploadBlob> blobs{blob_of("a shared header")};
  std::thread first([&] { EXPECT_FALSE(c.upload(blobs)); });
  entered.get_future().wait();
  std::thread second([&] { EXPECT_TRUE(c.upload(blobs)); });
  while (c.waiting_uploads() == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  release.set_value();
  first.join();
  second.join();
}

// Blobs the server said it holds, or accepted, are not asked about again; a blob the server
// reported missing later is forgotten.
TEST_F(CasClientTest, UploadMissingAsksOnlyAboutUnknownBlobs) {
  options.blind_upload_bytes = 0;
  const auto c = client();
  const auto held = blob_of("held");
  const auto absent = blob_of("absent");
  const auto later = blob_of("later");
  std::vector<std::vector<std::string>> asked;
  EXPECT_CALL(*cas, FindMissingBlobs(_, _, _))
      .Times(2)
      .WillRepeatedly([&](auto*, const v2::FindMissingBlobsRequest& req, auto* resp) {
        asked.emplace_back();
        for (const auto& d : req.blob_digests()) {
          asked.back().push_back(to_string(d));
          if (to_string(d) != to_string(held.digest)) {
            *resp->add_missing_blob_digests() = d;
          }
        }
        return grpc::Status::OK;
      });
  EXPECT_CALL(*cas, BatchUpdateBlobs(_, _, _))
      .Times(2)
      .WillRepeatedly([&](auto*, const v2::BatchUpdateBlobsRequest& req, auto* resp) {
        return accept_all(req, resp);
      });
  BlobMap blobs;
  add_blob(blobs, held);
  add_blob(blobs, absent);
  ASSERT_TRUE(c.upload_missing(blobs));
  EXPECT_TRUE(c.holds_all(blobs));
  ASSERT_TRUE(c.upload_missing(blobs)); // no call at all
  add_blob(blobs, later);
  EXPECT_FALSE(c.holds_all(blobs));
  ASSERT_TRUE(c.upload_missing(blobs));
  ASSERT_EQ(asked.size(), 2U);
  EXPECT_EQ(asked[0].size(), 2U);
  EXPECT_EQ(asked[1], std::vector<std::string>{to_string(later.digest)});
  EXPECT_TRUE(c.holds_all(blobs));
  c.forget({absent.digest});
  EXPECT_FALSE(c.holds_all(blobs));
}

// A few small unknown blobs are sent without asking first; many bytes are asked about.
TEST_F(CasClientTest, SmallUnknownBlobsAreUploadedWithoutAsking) {
  options.blind_upload_bytes = 100;
  const auto c = client();
  std::vector<int> sent;
  EXPECT_CALL(*cas, BatchUpdateBlobs(_, _, _))
      .Times(2)
      .WillRepeatedly([&](auto*, const v2::BatchUpdateBlobsRequest& req, auto* resp) {
        sent.push_back(req.requests_size());
        return accept_all(req, resp);
      });
  EXPECT_CALL(*cas, FindMissingBlobs(_, _, _))
      .WillOnce([&](auto*, const v2::FindMissingBlobsRequest& req, auto* resp) {
        EXPECT_EQ(req.blob_digests_size(), 2);
        *resp->add_missing_blob_digests() = req.blob_digests(0);
        return grpc::Status::OK;
      });
  BlobMap small;
  add_blob(small, blob_of("a source"));
  add_blob(small, blob_of("a command"));
  ASSERT_TRUE(c.upload_missing(small));
  BlobMap large;
  add_blob(large, blob_of(std::string(80, 'a')));
  add_blob(large, blob_of(std::string(80, 'b')));
  ASSERT_TRUE(c.upload_missing(large));
  EXPECT_EQ(sent, (std::vector<int>{2, 1}));
}

} // namespace
} // namespace ccrex::reapi
