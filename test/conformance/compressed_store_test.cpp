// A ccrex-server that keeps its blobs compressed (the default) answers every read with the
// blob's own bytes: BatchRead, ByteStream (whole, from an offset, with a limit), inputs
// staged into an action, and outputs collected from one. Its store on disk is smaller than
// the blobs, and a server with compression off reads the same store.

#include "conformance/execution_support.h"
#include "server/blob_store.h"
#include "util/file.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace ccrex::test {
namespace {

namespace bs = reapi::bytestream;

std::string listing(size_t size, int seed) {
  std::string s;
  for (int i = 0; s.size() < size; ++i) {
    s += "int f" + std::to_string(seed) + "_" + std::to_string(i % 211) + "(void) { return "
         + std::to_string(i % 7) + "; }\n";
  }
  s.resize(size);
  return s;
}

// Files of the store's CAS: how many are frames, and their bytes on disk.
struct CasFiles {
  int frames = 0;
  int64_t bytes = 0;
};
CasFiles cas_files(const std::string& cache_dir) {
  CasFiles out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(cache_dir + "/cas")) {
    if (e.is_regular_file()) {
      out.bytes += static_cast<int64_t>(e.file_size());
      out.frames += e.path().extension() == ".zst" ? 1 : 0;
    }
  }
  return out;
}

const v2::OutputFile* output_file(const v2::ActionResult& r, const std::string& path) {
  for (const auto& f : r.output_files()) {
    if (f.path() == path) {
      return &f;
    }
  }
  return nullptr;
}

std::string bs_read(bs::ByteStream::Stub& stub,
                    const v2::Digest& d,
                    int64_t offset,
                    int64_t limit,
                    grpc::Status* status) {
  grpc::ClientContext ctx;
  bs::ReadRequest req;
  req.set_resource_name("blobs/" + d.hash() + "/" + std::to_string(d.size_bytes()));
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

bool bs_write(bs::ByteStream::Stub& stub, const std::string& data) {
  const auto d = reapi::digest_of(data);
  grpc::ClientContext ctx;
  bs::WriteResponse resp;
  auto writer = stub.Write(&ctx, &resp);
  const std::string name = "uploads/7c7e1c0e-0000-4000-8000-000000000001/blobs/" + d.hash() + "/"
                           + std::to_string(d.size_bytes());
  constexpr size_t k_chunk = 1 << 20;
  for (size_t off = 0; off < data.size(); off += k_chunk) {
    bs::WriteRequest req;
    if (off == 0) {
      req.set_resource_name(name);
    }
    req.set_write_offset(static_cast<int64_t>(off));
    req.set_data(data.substr(off, k_chunk));
    req.set_finish_write(off + k_chunk >= data.size());
    if (!writer->Write(req)) {
      break;
    }
  }
  writer->WritesDone();
  return writer->Finish().ok() && resp.committed_size() == d.size_bytes();
}

using CompressedStore = ExecutionFixture;

TEST_F(CompressedStore, EveryReadReturnsTheBlobsOwnBytes) {
  const std::string batched = listing(300000, 1);
  const std::string streamed = listing(6 << 20, 2);
  const auto bd = put(batched);
  ASSERT_TRUE(bs_write(*bytestream, streamed));
  const auto sd = reapi::digest_of(streamed);
  const auto files = cas_files(server().cache_dir());
  EXPECT_EQ(files.frames, 2);
  EXPECT_LT(files.bytes * 4, static_cast<int64_t>(batched.size() + streamed.size()));

  EXPECT_EQ(blob(bd), batched); // the streamed blob is beyond the batch size
  grpc::Status st;
  EXPECT_EQ(bs_read(*bytestream, bd, 0, 0, &st), batched);
  EXPECT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(bs_read(*bytestream, sd, 0, 0, &st), streamed);
  EXPECT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(bs_read(*bytestream, sd, 4000001, 0, &st), streamed.substr(4000001));
  EXPECT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(bs_read(*bytestream, sd, 1234567, 99999, &st), streamed.substr(1234567, 99999));
  EXPECT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(bs_read(*bytestream, bd, static_cast<int64_t>(batched.size()), 0, &st), "");
  EXPECT_TRUE(st.ok()) << st.error_message();
}

TEST_F(CompressedStore, StagedInputsAndCollectedOutputsAreExact) {
  InputTree tree;
  const std::string source = listing(500000, 3);
  tree.file("src/big.c", source);
  tree.file("tool.sh", "#!/bin/sh\ncat \"$@\"\n", true);
  tree.file("small.txt", "tiny\n");
  const auto digest =
      action(command({"sh", "-c", "./tool.sh src/big.c small.txt > out.txt; sha256sum src/big.c"},
                     {"out.txt"}),
             tree);
  const auto resp = run_ok(digest);
  ASSERT_EQ(resp.result().exit_code(), 0) << blob(resp.result().stderr_digest());
  // The staged copy of the compressed input hashed to its digest inside the action.
  EXPECT_EQ(blob(resp.result().stdout_digest()), reapi::digest_of(source).hash() + "  src/big.c\n");
  const auto* out = output_file(resp.result(), "out.txt");
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(blob(out->digest()), source + "tiny\n");
  EXPECT_GE(cas_files(server().cache_dir()).frames, 2); // the input and the output
}

// A store holding frames, opened by a server that stores raw: it serves the frames and
// adds raw blobs beside them.
class CompressionOffStore : public ExecutionFixture {
protected:
  CompressionOffStore() {
    auto store = server::BlobStore::open(m_dir.path(), 64 << 20, true, 1);
    EXPECT_TRUE(store && (*store)->put(util::digest_of(m_old), m_old));
  }
  std::vector<std::string> server_args() const override {
    return {"--workers", "1", "--compression-level", "0"};
  }
  std::string server_cache_dir() const override { return m_dir.path(); }

  util::TempDir m_dir;
  const std::string m_old = listing(300000, 5);
};

TEST_F(CompressionOffStore, ServesFramesWrittenBeforeAndStoresRaw) {
  EXPECT_EQ(cas_files(server().cache_dir()).frames, 1);
  EXPECT_EQ(blob(reapi::to_proto(util::digest_of(m_old))), m_old);
  const std::string data = listing(300000, 4);
  const auto d = put(data);
  EXPECT_EQ(cas_files(server().cache_dir()).frames, 1);
  EXPECT_EQ(blob(d), data);
}

} // namespace
} // namespace ccrex::test
