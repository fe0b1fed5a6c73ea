// A store whose disk fills up before its size cap: uploads still succeed because the server
// evicts least recently used blobs to make room, and reads keep working.

#include "reapi/digest.h"
#include "reapi/proto.h"
#include "server/stage_root.h"
#include "support/server_process.h"
#include "util/file.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

namespace ccrex::test {
namespace {

namespace v2 = reapi::v2;

TEST(DiskFull, UploadsEvictToMakeRoomAndReadsKeepWorking) {
  if (!server::stage_root_supported()) {
    GTEST_SKIP() << "mount namespaces are not available on this machine";
  }
  util::TempDir dir;
  const std::string mount_point = dir.path() + "/small";
  ASSERT_TRUE(util::make_dirs(mount_point));
  // The server runs in its own mount namespace with its store on a 4 MiB tmpfs, while its
  // size cap says 1 GiB: only a full disk can stop it. Blobs are stored raw, so that they
  // fill the disk (compressed, these would not).
  ServerProcess server({"--max-size", "1G", "--compression-level", "0"},
                       "127.0.0.1:0",
                       mount_point + "/cache",
                       {"/usr/bin/unshare",
                        "--mount",
                        "--propagation",
                        "private",
                        "/bin/sh",
                        "-c",
                        "mount -t tmpfs -o size=4m tmpfs \"$0\" && exec \"$@\"",
                        mount_point});
  ASSERT_TRUE(server.ok()) << server.error();
  auto channel = grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials());
  auto cas = v2::ContentAddressableStorage::NewStub(channel);

  std::vector<v2::Digest> stored;
  for (int i = 0; i < 16; ++i) { // 16 x 512 KiB = 8 MiB through a 4 MiB disk
    std::string data(512 * 1024, static_cast<char>('a' + i));
    v2::BatchUpdateBlobsRequest req;
    auto* r = req.add_requests();
    *r->mutable_digest() = reapi::digest_of(data);
    r->set_data(data);
    v2::BatchUpdateBlobsResponse resp;
    grpc::ClientContext ctx;
    ASSERT_TRUE(cas->BatchUpdateBlobs(&ctx, req, &resp).ok());
    ASSERT_EQ(resp.responses(0).status().code(), 0)
        << "blob " << i << ": " << resp.responses(0).status().message();
    stored.push_back(r->digest());
  }
  // The newest blob reads back; the oldest made room for it.
  v2::BatchReadBlobsRequest req;
  *req.add_digests() = stored.back();
  *req.add_digests() = stored.front();
  v2::BatchReadBlobsResponse resp;
  grpc::ClientContext ctx;
  ASSERT_TRUE(cas->BatchReadBlobs(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.responses(0).status().code(), 0);
  EXPECT_EQ(reapi::digest_of(resp.responses(0).data()).hash(), stored.back().hash());
  EXPECT_EQ(resp.responses(1).status().code(), grpc::StatusCode::NOT_FOUND);
}

} // namespace
} // namespace ccrex::test
