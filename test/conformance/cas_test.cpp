// Conformance checks for the storage services of ccrex-server (CAS, ByteStream,
// ActionCache, Capabilities), driven over a real socket against the real binary.
// Numbers in test names refer to the check list in the REAPI notes (C = CAS/ByteStream,
// A = ActionCache, P = Capabilities).

#include "support/reapi_fixture.h"
#include "util/sha256.h"

#include <gtest/gtest.h>

#include <string>

namespace ccrex::test {
namespace {

namespace v2 = reapi::v2;
namespace bs = reapi::bytestream;

v2::Digest make_digest(const std::string& hash, int64_t size) {
  v2::Digest d;
  d.set_hash(hash);
  d.set_size_bytes(size);
  return d;
}

std::string big_blob(size_t size, char seed) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) {
    s[i] = static_cast<char>(seed + static_cast<char>(i * 31 % 251));
  }
  return s;
}

using Cas = ReapiFixture;

TEST_F(Cas, C1_FindMissingReportsUnknown) {
  v2::FindMissingBlobsRequest req;
  *req.add_blob_digests() = reapi::digest_of("one");
  *req.add_blob_digests() = reapi::digest_of("two");
  v2::FindMissingBlobsResponse resp;
  grpc::ClientContext ctx;
  ASSERT_TRUE(cas->FindMissingBlobs(&ctx, req, &resp).ok());
  ASSERT_EQ(resp.missing_blob_digests_size(), 2);
  EXPECT_EQ(resp.missing_blob_digests(0).hash(), reapi::digest_of("one").hash());
}

TEST_F(Cas, C2_EmptyBlobIsNeverMissing) {
  v2::FindMissingBlobsRequest req;
  *req.add_blob_digests() = reapi::digest_of("");
  v2::FindMissingBlobsResponse resp;
  grpc::ClientContext ctx;
  ASSERT_TRUE(cas->FindMissingBlobs(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.missing_blob_digests_size(), 0);
}

TEST_F(Cas, C3_EmptyHashWithSizeOrSizeZeroWithOtherHashIsMissing) {
  v2::FindMissingBlobsRequest req;
  *req.add_blob_digests() = make_digest(std::string(util::k_empty_sha256), 5);
  *req.add_blob_digests() = make_digest(reapi::digest_of("x").hash(), 0);
  v2::FindMissingBlobsResponse resp;
  grpc::ClientContext ctx;
  ASSERT_TRUE(cas->FindMissingBlobs(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.missing_blob_digests_size(), 2);
}

TEST_F(Cas, C4_BatchUpdateThenBatchRead) {
  const std::vector<std::string> blobs = {"alpha", "beta", big_blob(100000, 'c')};
  for (const auto& b : blobs) {
    put(b);
  }
  v2::BatchReadBlobsRequest req;
  for (const auto& b : blobs) {
    *req.add_digests() = reapi::digest_of(b);
  }
  v2::BatchReadBlobsResponse resp;
  grpc::ClientContext ctx;
  ASSERT_TRUE(cas->BatchReadBlobs(&ctx, req, &resp).ok());
  ASSERT_EQ(resp.responses_size(), 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(resp.responses(i).status().code(), 0);
    EXPECT_EQ(resp.responses(i).data(), blobs[static_cast<size_t>(i)]);
  }
}

TEST_F(Cas, C5_BatchUpdateRejectsWrongHashOrSizePerEntry) {
  v2::BatchUpdateBlobsRequest req;
  auto* good = req.add_requests();
  *good->mutable_digest() = reapi::digest_of("good");
  good->set_data("good");
  auto* bad_hash = req.add_requests();
  *bad_hash->mutable_digest() = reapi::digest_of("other");
  bad_hash->set_data("bad1");
  auto* bad_size = req.add_requests();
  *bad_size->mutable_digest() = make_digest(reapi::digest_of("bad2").hash(), 7);
  bad_size->set_data("bad2");
  v2::BatchUpdateBlobsResponse resp;
  grpc::ClientContext ctx;
  ASSERT_TRUE(cas->BatchUpdateBlobs(&ctx, req, &resp).ok());
  ASSERT_EQ(resp.responses_size(), 3);
  EXPECT_EQ(resp.responses(0).status().code(), grpc::StatusCode::OK);
  EXPECT_EQ(resp.responses(1).status().code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(resp.responses(2).status().code(), grpc::StatusCode::INVALID_ARGUMENT);
  std::string data;
  EXPECT_EQ(get(reapi::digest_of("good"), &data), 0);
  EXPECT_EQ(get(reapi::digest_of("other"), &data), grpc::StatusCode::NOT_FOUND);
}

TEST_F(Cas, C6_BatchAboveAdvertisedLimitIsRejected) {
  v2::GetCapabilitiesRequest creq;
  v2::ServerCapabilities scaps;
  grpc::ClientContext cctx;
  ASSERT_TRUE(caps->GetCapabilities(&cctx, creq, &scaps).ok());
  const int64_t limit = scaps.cache_capabilities().max_batch_total_size_bytes();
  ASSERT_GT(limit, 0);
  v2::BatchUpdateBlobsRequest req;
  for (int i = 0; i < 3; ++i) {
    const std::string data = big_blob(static_cast<size_t>(limit / 2), static_cast<char>('a' + i));
    auto* r = req.add_requests();
    *r->mutable_digest() = reapi::digest_of(data);
    r->set_data(data);
  }
  v2::BatchUpdateBlobsResponse resp;
  grpc::ClientContext ctx;
  EXPECT_EQ(cas->BatchUpdateBlobs(&ctx, req, &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(Cas, C7_BatchReadUnknownIsNotFoundPerEntry) {
  std::string data;
  EXPECT_EQ(get(reapi::digest_of("never stored"), &data), grpc::StatusCode::NOT_FOUND);
}

TEST_F(Cas, C8_MalformedHashesAreInvalid) {
  for (const std::string& hash : std::vector<std::string>{
           std::string("ABC"), std::string(64, 'A'), std::string(63, 'a'), std::string(64, 'g')}) {
    v2::FindMissingBlobsRequest req;
    *req.add_blob_digests() = make_digest(hash, 1);
    v2::FindMissingBlobsResponse resp;
    grpc::ClientContext ctx;
    EXPECT_EQ(cas->FindMissingBlobs(&ctx, req, &resp).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT)
        << hash;
  }
  v2::FindMissingBlobsRequest req;
  *req.add_blob_digests() = make_digest(reapi::digest_of("x").hash(), -1);
  v2::FindMissingBlobsResponse resp;
  grpc::ClientContext ctx;
  EXPECT_EQ(cas->FindMissingBlobs(&ctx, req, &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

// Write `data` through ByteStream in `chunk`-sized messages; return the status.
grpc::Status bs_write(bs::ByteStream::Stub& stub,
                      const std::string& resource,
                      const std::string& data,
                      size_t chunk,
                      int64_t* committed) {
  grpc::ClientContext ctx;
  bs::WriteResponse resp;
  auto writer = stub.Write(&ctx, &resp);
  size_t off = 0;
  do {
    bs::WriteRequest req;
    if (off == 0) {
      req.set_resource_name(resource);
    }
    req.set_write_offset(static_cast<int64_t>(off));
    const size_t n = std::min(chunk, data.size() - off);
    req.set_data(data.substr(off, n));
    off += n;
    req.set_finish_write(off == data.size());
    if (!writer->Write(req)) {
      break;
    }
  } while (off < data.size());
  writer->WritesDone();
  const auto st = writer->Finish();
  *committed = resp.committed_size();
  return st;
}

std::string bs_read(bs::ByteStream::Stub& stub,
                    const std::string& resource,
                    int64_t offset,
                    int64_t limit,
                    grpc::Status* status) {
  grpc::ClientContext ctx;
  bs::ReadRequest req;
  req.set_resource_name(resource);
  req.set_read_offset(offset);
  req.set_read_limit(limit);
  auto reader = stub.Read(&ctx, req);
  std::string out;
  bs::ReadResponse resp;
  while (reader->Read(&resp)) {
    out += resp.data();
  }
  *status = reader->Finish();
  return out;
}

TEST_F(Cas, C9_ByteStreamRoundTripWithAndWithoutInstance) {
  const std::string data = big_blob(10u << 20, 'q');
  const auto d = reapi::digest_of(data);
  for (const std::string& instance : std::vector<std::string>{"", "main/linux"}) {
    int64_t committed = 0;
    const auto st = bs_write(
        *bytestream, reapi::write_resource(instance, "uuid-1", d), data, 64 << 10, &committed);
    ASSERT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(committed, d.size_bytes());
    grpc::Status rst;
    EXPECT_EQ(bs_read(*bytestream, reapi::read_resource(instance, d), 0, 0, &rst), data);
    EXPECT_TRUE(rst.ok()) << rst.error_message();
  }
}

TEST_F(Cas, C10_WriteWithBadOffsetFails) {
  const std::string data = "0123456789";
  grpc::ClientContext ctx;
  bs::WriteResponse resp;
  auto writer = bytestream->Write(&ctx, &resp);
  bs::WriteRequest req;
  req.set_resource_name(reapi::write_resource("", "u1", reapi::digest_of(data)));
  req.set_data("01234");
  writer->Write(req);
  bs::WriteRequest req2;
  req2.set_write_offset(7); // should be 5
  req2.set_data("789");
  req2.set_finish_write(true);
  writer->Write(req2);
  writer->WritesDone();
  EXPECT_EQ(writer->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  std::string got;
  EXPECT_EQ(get(reapi::digest_of(data), &got), grpc::StatusCode::NOT_FOUND);
}

TEST_F(Cas, C11_WriteWithMismatchingContentIsRejected) {
  int64_t committed = 0;
  const auto d = reapi::digest_of("expected");
  EXPECT_EQ(bs_write(*bytestream, reapi::write_resource("", "u", d), "actual!!", 3, &committed)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  std::string got;
  EXPECT_EQ(get(d, &got), grpc::StatusCode::NOT_FOUND);
}

TEST_F(Cas, C12_WriteOfExistingBlobCompletes) {
  const std::string data = "already here";
  put(data);
  int64_t committed = 0;
  const auto st = bs_write(
      *bytestream, reapi::write_resource("", "u", reapi::digest_of(data)), data, 4, &committed);
  EXPECT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(committed, static_cast<int64_t>(data.size()));
}

TEST_F(Cas, C13_ReadWithOffsetAndLimit) {
  const std::string data = "abcdefghijklmnopqrstuvwxyz";
  const auto d = put(data);
  grpc::Status st;
  EXPECT_EQ(bs_read(*bytestream, reapi::read_resource("", d), 5, 3, &st), "fgh");
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(bs_read(*bytestream, reapi::read_resource("", d), 20, 0, &st), "uvwxyz");
  EXPECT_TRUE(st.ok());
  EXPECT_EQ(bs_read(*bytestream, reapi::read_resource("", d), 27, 0, &st), "");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  bs_read(*bytestream, reapi::read_resource("", d), -1, 0, &st);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  bs_read(*bytestream, reapi::read_resource("", d), 0, -1, &st);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(Cas, C14_ReadUnknownBlobIsNotFound) {
  grpc::Status st;
  bs_read(*bytestream, reapi::read_resource("", reapi::digest_of("nope")), 0, 0, &st);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(Cas, C15_EmptyBlobReadAndWrite) {
  const auto d = reapi::digest_of("");
  int64_t committed = -1;
  EXPECT_TRUE(bs_write(*bytestream, reapi::write_resource("", "u", d), "", 1, &committed).ok());
  EXPECT_EQ(committed, 0);
  grpc::Status st;
  EXPECT_EQ(bs_read(*bytestream, reapi::read_resource("", d), 0, 0, &st), "");
  EXPECT_TRUE(st.ok());
}

TEST_F(Cas, C16_QueryWriteStatusCompleteUnknownAndPartial) {
  const std::string data = "resumable upload content";
  const auto d = reapi::digest_of(data);
  const std::string resource = reapi::write_resource("", "resume-1", d);
  grpc::ClientContext qctx;
  bs::QueryWriteStatusRequest q;
  q.set_resource_name(resource);
  bs::QueryWriteStatusResponse qr;
  EXPECT_EQ(bytestream->QueryWriteStatus(&qctx, q, &qr).error_code(), grpc::StatusCode::NOT_FOUND);

  { // Send the first 10 bytes and break the stream without finish_write.
    grpc::ClientContext ctx;
    bs::WriteResponse resp;
    auto writer = bytestream->Write(&ctx, &resp);
    bs::WriteRequest req;
    req.set_resource_name(resource);
    req.set_data(data.substr(0, 10));
    writer->Write(req);
    writer->WritesDone();
    EXPECT_FALSE(writer->Finish().ok());
  }
  grpc::ClientContext qctx2;
  ASSERT_TRUE(bytestream->QueryWriteStatus(&qctx2, q, &qr).ok());
  EXPECT_EQ(qr.committed_size(), 10);
  EXPECT_FALSE(qr.complete());

  { // Resume from the committed size.
    grpc::ClientContext ctx;
    bs::WriteResponse resp;
    auto writer = bytestream->Write(&ctx, &resp);
    bs::WriteRequest req;
    req.set_resource_name(resource);
    req.set_write_offset(10);
    req.set_data(data.substr(10));
    req.set_finish_write(true);
    writer->Write(req);
    writer->WritesDone();
    ASSERT_TRUE(writer->Finish().ok());
    EXPECT_EQ(resp.committed_size(), static_cast<int64_t>(data.size()));
  }
  grpc::ClientContext qctx3;
  ASSERT_TRUE(bytestream->QueryWriteStatus(&qctx3, q, &qr).ok());
  EXPECT_TRUE(qr.complete());
  EXPECT_EQ(qr.committed_size(), static_cast<int64_t>(data.size()));
  std::string got;
  EXPECT_EQ(get(d, &got), 0);
  EXPECT_EQ(got, data);
}

TEST_F(Cas, C17_ResourceNamesWithInstanceAndMetadata) {
  const std::string data = "metadata";
  const auto d = reapi::digest_of(data);
  int64_t committed = 0;
  const std::string resource =
      "a/b/c/uploads/8b4f3c1e-uuid/blobs/" + reapi::to_string(d) + "/extra/meta";
  EXPECT_TRUE(bs_write(*bytestream, resource, data, 100, &committed).ok());
  grpc::Status st;
  EXPECT_EQ(bs_read(*bytestream, "a/b/c/blobs/" + reapi::to_string(d), 0, 0, &st), data);
  EXPECT_TRUE(st.ok());
  // Malformed names are rejected, not crashed on.
  for (const std::string& bad :
       std::vector<std::string>{"",
                                "blobs",
                                "blobs/xyz/1",
                                "x/blobs/" + d.hash(),
                                "uploads/u/blobs/" + d.hash() + "/abc",
                                "compressed-blobs/lz4/" + reapi::to_string(d),
                                "compressed-blobs/zstd/" + d.hash()}) {
    bs_read(*bytestream, bad, 0, 0, &st);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad;
  }
}

TEST_F(Cas, C18_GetTreePagesReturnEveryDirectoryOnce) {
  v2::Directory leaf; // empty
  const auto leaf_d = put_message(leaf);
  v2::Directory mid;
  auto* f = mid.add_files();
  f->set_name("file.txt");
  *f->mutable_digest() = put("hello");
  auto* e = mid.add_directories();
  e->set_name("empty");
  *e->mutable_digest() = leaf_d;
  const auto mid_d = put_message(mid);
  v2::Directory root;
  auto* a = root.add_directories();
  a->set_name("a");
  *a->mutable_digest() = mid_d;
  auto* b = root.add_directories();
  b->set_name("b");
  *b->mutable_digest() = mid_d; // same subtree twice: reported once
  const auto root_d = put_message(root);

  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    v2::GetTreeRequest req;
    *req.mutable_root_digest() = root_d;
    req.set_page_size(1);
    req.set_page_token(token);
    grpc::ClientContext ctx;
    auto reader = cas->GetTree(&ctx, req);
    v2::GetTreeResponse resp;
    token.clear();
    while (reader->Read(&resp)) {
      for (const auto& dir : resp.directories()) {
        seen.push_back(reapi::digest_of_message(dir).hash());
      }
      token = resp.next_page_token();
    }
    ASSERT_TRUE(reader->Finish().ok());
    ASSERT_LT(++pages, 10);
  } while (!token.empty());
  std::sort(seen.begin(), seen.end());
  std::vector<std::string> want = {root_d.hash(), mid_d.hash(), leaf_d.hash()};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(seen, want);
}

TEST_F(Cas, C19_GetTreeUnknownRootIsNotFound) {
  v2::GetTreeRequest req;
  *req.mutable_root_digest() = reapi::digest_of("no such directory");
  grpc::ClientContext ctx;
  auto reader = cas->GetTree(&ctx, req);
  v2::GetTreeResponse resp;
  while (reader->Read(&resp)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
}

using ActionCacheConformance = ReapiFixture;

TEST_F(ActionCacheConformance, A1_UnknownIsNotFound) {
  v2::GetActionResultRequest req;
  *req.mutable_action_digest() = reapi::digest_of("unknown action");
  v2::ActionResult res;
  grpc::ClientContext ctx;
  EXPECT_EQ(ac->GetActionResult(&ctx, req, &res).error_code(), grpc::StatusCode::NOT_FOUND);
}

v2::ActionResult result_with(const v2::Digest& out, const v2::Digest& stdout_d) {
  v2::ActionResult r;
  auto* f = r.add_output_files();
  f->set_path("out/a.o");
  *f->mutable_digest() = out;
  *r.mutable_stdout_digest() = stdout_d;
  r.set_exit_code(0);
  r.mutable_execution_metadata()->set_worker("test");
  return r;
}

TEST_F(ActionCacheConformance, A2_A4_UpdateThenGetWithInlining) {
  const auto action = reapi::digest_of("action-a2");
  const auto out = put("object bytes");
  const auto so = put("compiler said hi\n");
  v2::UpdateActionResultRequest up;
  *up.mutable_action_digest() = action;
  *up.mutable_action_result() = result_with(out, so);
  v2::ActionResult stored;
  grpc::ClientContext uctx;
  ASSERT_TRUE(ac->UpdateActionResult(&uctx, up, &stored).ok());

  v2::GetActionResultRequest get_req;
  *get_req.mutable_action_digest() = action;
  v2::ActionResult got;
  grpc::ClientContext gctx;
  ASSERT_TRUE(ac->GetActionResult(&gctx, get_req, &got).ok());
  EXPECT_EQ(got.output_files(0).digest().hash(), out.hash());
  EXPECT_EQ(got.output_files(0).path(), "out/a.o");
  EXPECT_TRUE(got.stdout_raw().empty());

  get_req.set_inline_stdout(true);
  get_req.add_inline_output_files("out/a.o");
  grpc::ClientContext gctx2;
  ASSERT_TRUE(ac->GetActionResult(&gctx2, get_req, &got).ok());
  EXPECT_EQ(got.stdout_raw(), "compiler said hi\n");
  EXPECT_EQ(got.output_files(0).contents(), "object bytes");
  EXPECT_EQ(got.stdout_digest().hash(), so.hash()); // digests always stay set

  // Another instance does not see it.
  get_req.set_instance_name("other");
  grpc::ClientContext gctx3;
  EXPECT_EQ(ac->GetActionResult(&gctx3, get_req, &got).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(ActionCacheConformance, A3_UpdateReferencingMissingBlobsIsRejected) {
  v2::UpdateActionResultRequest up;
  *up.mutable_action_digest() = reapi::digest_of("action-a3");
  *up.mutable_action_result() =
      result_with(reapi::digest_of("never uploaded"), reapi::digest_of(""));
  v2::ActionResult stored;
  grpc::ClientContext ctx;
  EXPECT_EQ(ac->UpdateActionResult(&ctx, up, &stored).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(ActionCacheConformance, UpdateWithUnsafeOutputPathIsRejected) {
  for (const std::string& path :
       std::vector<std::string>{"/etc/passwd", "../escape.o", "a/../../b"}) {
    v2::UpdateActionResultRequest up;
    *up.mutable_action_digest() = reapi::digest_of("action-unsafe");
    auto r = result_with(put("x"), reapi::digest_of(""));
    r.mutable_output_files(0)->set_path(path);
    *up.mutable_action_result() = r;
    v2::ActionResult stored;
    grpc::ClientContext ctx;
    EXPECT_EQ(ac->UpdateActionResult(&ctx, up, &stored).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT)
        << path;
  }
}

class SmallStore : public ReapiFixture {
protected:
  // Blobs stored raw, so that fifteen of 100 kB fill the cap (compressed, they would not).
  std::vector<std::string> server_args() const override {
    return {"--max-size", "1M", "--compression-level", "0"};
  }
};

TEST_F(SmallStore, A5_EntryWithEvictedOutputIsAMiss) {
  const auto action = reapi::digest_of("action-a5");
  const auto out = put(big_blob(100000, 'o'));
  v2::UpdateActionResultRequest up;
  *up.mutable_action_digest() = action;
  *up.mutable_action_result() = result_with(out, reapi::digest_of(""));
  v2::ActionResult stored;
  grpc::ClientContext uctx;
  ASSERT_TRUE(ac->UpdateActionResult(&uctx, up, &stored).ok());
  // Fill the 1 MiB store with newer blobs so the output is evicted.
  for (int i = 0; i < 15; ++i) {
    put(big_blob(100000, static_cast<char>('A' + i)));
  }
  std::string data;
  EXPECT_EQ(get(out, &data), grpc::StatusCode::NOT_FOUND);
  v2::GetActionResultRequest get_req;
  *get_req.mutable_action_digest() = action;
  v2::ActionResult got;
  grpc::ClientContext gctx;
  EXPECT_EQ(ac->GetActionResult(&gctx, get_req, &got).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(Cas, P1_Capabilities) {
  v2::GetCapabilitiesRequest req;
  req.set_instance_name("any/instance");
  v2::ServerCapabilities c;
  grpc::ClientContext ctx;
  ASSERT_TRUE(caps->GetCapabilities(&ctx, req, &c).ok());
  ASSERT_EQ(c.cache_capabilities().digest_function_size(), 1);
  EXPECT_EQ(c.cache_capabilities().digest_function(0), v2::DigestFunction::SHA256);
  EXPECT_EQ(c.execution_capabilities().digest_function(), v2::DigestFunction::SHA256);
  EXPECT_TRUE(c.execution_capabilities().exec_enabled());
  EXPECT_TRUE(c.cache_capabilities().action_cache_update_capabilities().update_enabled());
  EXPECT_EQ(c.low_api_version().major(), 2);
  EXPECT_EQ(c.low_api_version().minor(), 0);
  EXPECT_EQ(c.high_api_version().major(), 2);
  EXPECT_GE(c.high_api_version().minor(), 0);
}

} // namespace
} // namespace ccrex::test
