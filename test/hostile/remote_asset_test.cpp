// The Remote Asset API of ccrex-server (Fetch and Push): who may push, what a push must
// prove, how big a request may be, and that Fetch never answers with content the CAS no
// longer holds.

#include "hostile/hostile_support.h"
#include "server/asset_store.h"

#include <gtest/gtest.h>

#include <thread>

namespace ccrex::test {
namespace {

namespace asset = reapi::asset;

const std::string k_reader = "asset-reader-1d2c3b4a59687766554433221100ffee";
const std::string k_cas_writer = "asset-caswriter-0011223344556677889900aabbccddeeff";
const std::string k_pusher = "asset-pusher-ffeeddccbbaa00998877665544332211";

// Fetch and Push stubs plus the CAS calls of Caller, with the caller's token.
class AssetCaller : public Caller {
public:
  AssetCaller(const std::shared_ptr<grpc::Channel>& channel, const std::string& token)
      : Caller(channel, token),
        fetch(asset::Fetch::NewStub(channel)),
        push(asset::Push::NewStub(channel)) {}

  grpc::Status push_blob(const asset::PushBlobRequest& req) {
    grpc::ClientContext ctx;
    prepare(ctx);
    asset::PushBlobResponse resp;
    return push->PushBlob(&ctx, req, &resp);
  }
  grpc::Status push_directory(const asset::PushDirectoryRequest& req) {
    grpc::ClientContext ctx;
    prepare(ctx);
    asset::PushDirectoryResponse resp;
    return push->PushDirectory(&ctx, req, &resp);
  }
  grpc::Status fetch_blob(const asset::FetchBlobRequest& req,
                          asset::FetchBlobResponse* out = nullptr) {
    grpc::ClientContext ctx;
    prepare(ctx);
    asset::FetchBlobResponse resp;
    auto st = fetch->FetchBlob(&ctx, req, &resp);
    if (out != nullptr) {
      *out = resp;
    }
    return st;
  }
  grpc::Status fetch_directory(const asset::FetchDirectoryRequest& req,
                               asset::FetchDirectoryResponse* out = nullptr) {
    grpc::ClientContext ctx;
    prepare(ctx);
    asset::FetchDirectoryResponse resp;
    auto st = fetch->FetchDirectory(&ctx, req, &resp);
    if (out != nullptr) {
      *out = resp;
    }
    return st;
  }

  // Push `blob` (which must be in the CAS) for `uri` with `qualifiers` (name, value).
  grpc::Status push_blob(const std::string& uri,
                         const v2::Digest& blob,
                         const std::vector<std::pair<std::string, std::string>>& qualifiers = {}) {
    asset::PushBlobRequest req;
    req.add_uris(uri);
    for (const auto& [name, value] : qualifiers) {
      auto* q = req.add_qualifiers();
      q->set_name(name);
      q->set_value(value);
    }
    *req.mutable_blob_digest() = blob;
    return push_blob(req);
  }
  // Fetch the blob for `uri` with `qualifiers`; the digest goes to `out`.
  grpc::Status fetch_blob(const std::string& uri,
                          const std::vector<std::pair<std::string, std::string>>& qualifiers = {},
                          v2::Digest* out = nullptr) {
    asset::FetchBlobRequest req;
    req.add_uris(uri);
    for (const auto& [name, value] : qualifiers) {
      auto* q = req.add_qualifiers();
      q->set_name(name);
      q->set_value(value);
    }
    asset::FetchBlobResponse resp;
    auto st = fetch_blob(req, &resp);
    if (out != nullptr) {
      *out = resp.blob_digest();
    }
    return st;
  }

  std::unique_ptr<asset::Fetch::Stub> fetch;
  std::unique_ptr<asset::Push::Stub> push;
};

// A Directory holding `files` (name -> content, uploaded by `caller`) and `dirs`, uploaded.
v2::Digest upload_directory(AssetCaller& caller,
                            const std::map<std::string, std::string>& files,
                            const std::map<std::string, v2::Digest>& dirs = {},
                            bool upload_files = true) {
  v2::Directory dir;
  for (const auto& [name, content] : files) {
    auto* f = dir.add_files();
    f->set_name(name);
    *f->mutable_digest() = reapi::digest_of(content);
    if (upload_files) {
      EXPECT_TRUE(caller.upload(content).ok());
    }
  }
  for (const auto& [name, digest] : dirs) {
    auto* d = dir.add_directories();
    d->set_name(name);
    *d->mutable_digest() = digest;
  }
  const std::string bytes = dir.SerializeAsString();
  EXPECT_TRUE(caller.upload(bytes).ok());
  return reapi::digest_of(bytes);
}

class AssetServer : public ::testing::Test {
protected:
  // Start a server with `args` (in `cache_dir` when given).
  void start(std::vector<std::string> args, const std::string& cache_dir = "") {
    args.insert(args.begin(), {"--workers", "1"});
    m_server = std::make_unique<ServerProcess>(args, "127.0.0.1:0", cache_dir);
    ASSERT_TRUE(m_server->ok()) << m_server->error();
    m_channel = plain_channel(m_server->address());
  }
  AssetCaller as(const std::string& token = "") { return AssetCaller(m_channel, token); }

  std::unique_ptr<ServerProcess> m_server;
  std::shared_ptr<grpc::Channel> m_channel;
};

TEST_F(AssetServer, DefaultServerRefusesPushes) {
  start({});
  auto client = as();
  const std::string data = "artifact";
  ASSERT_TRUE(client.upload(data).ok());
  const auto st = client.push_blob("urn:x:artifact", reapi::digest_of(data));
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED) << st.error_message();
  EXPECT_NE(st.error_message().find("--allow-asset-pushes"), std::string::npos)
      << st.error_message();
  EXPECT_EQ(client.fetch_blob("urn:x:artifact").error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(AssetServer, PushNeedsTheWriteAssetRole) {
  util::TempDir dir;
  const std::string file = dir.path() + "/tokens";
  ASSERT_TRUE(util::write_file_atomic(
      file,
      token_line(k_reader, "*", "read", "reader")
          + token_line(k_cas_writer, "*", "read,write-cas,write-ac", "cas-writer")
          + token_line(k_pusher, "*", "read,write-cas,write-asset", "pusher"),
      0600));
  start({"--auth-tokens", file});
  auto pusher = as(k_pusher);
  const std::string data = "artifact";
  ASSERT_TRUE(pusher.upload(data).ok());
  const auto blob = reapi::digest_of(data);

  auto anonymous = as();
  EXPECT_EQ(anonymous.push_blob("urn:x:a", blob).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(anonymous.fetch_blob("urn:x:a").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  auto wrong = as("not-a-token");
  EXPECT_EQ(wrong.push_blob("urn:x:a", blob).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  for (const auto& token : {k_reader, k_cas_writer}) {
    auto caller = as(token);
    const auto st = caller.push_blob("urn:x:a", blob);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED) << st.error_message();
    EXPECT_NE(st.error_message().find("write-asset"), std::string::npos) << st.error_message();
    asset::PushDirectoryRequest req;
    req.add_uris("urn:x:d");
    *req.mutable_root_directory_digest() = reapi::digest_of("");
    EXPECT_EQ(caller.push_directory(req).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  auto reader = as(k_reader);
  EXPECT_EQ(reader.fetch_blob("urn:x:a").error_code(), grpc::StatusCode::NOT_FOUND);

  ASSERT_TRUE(pusher.push_blob("urn:x:a", blob).ok());
  v2::Digest got;
  ASSERT_TRUE(reader.fetch_blob("urn:x:a", {}, &got).ok());
  EXPECT_EQ(got.hash(), blob.hash());
  EXPECT_EQ(got.size_bytes(), blob.size_bytes());
}

TEST_F(AssetServer, PushOfContentMissingFromTheCasIsRefused) {
  start({"--allow-asset-pushes"});
  auto client = as();
  // A blob nobody uploaded.
  auto st = client.push_blob("urn:x:ghost", reapi::digest_of("never uploaded"));
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << st.error_message();
  EXPECT_EQ(client.fetch_blob("urn:x:ghost").error_code(), grpc::StatusCode::NOT_FOUND);

  // A blob that is there, but a reference that is not.
  ASSERT_TRUE(client.upload("real").ok());
  asset::PushBlobRequest with_ref;
  with_ref.add_uris("urn:x:ref");
  *with_ref.mutable_blob_digest() = reapi::digest_of("real");
  *with_ref.add_references_blobs() = reapi::digest_of("missing reference");
  EXPECT_EQ(client.push_blob(with_ref).error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  // Directories: the root absent; a file below it absent; a subdirectory absent.
  asset::PushDirectoryRequest req;
  req.add_uris("urn:x:tree");
  v2::Directory absent;
  absent.add_files()->set_name("never");
  *req.mutable_root_directory_digest() = reapi::digest_of(absent.SerializeAsString());
  EXPECT_EQ(client.push_directory(req).error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  *req.mutable_root_directory_digest() =
      upload_directory(client, {{"a.txt", "uploaded"}, {"b.txt", "not uploaded"}}, {}, false);
  ASSERT_TRUE(client.upload("uploaded").ok());
  st = client.push_directory(req);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << st.error_message();
  EXPECT_NE(st.error_message().find(reapi::digest_of("not uploaded").hash()), std::string::npos)
      << st.error_message();

  *req.mutable_root_directory_digest() =
      upload_directory(client, {{"a.txt", "uploaded"}}, {{"sub", reapi::digest_of("no dir")}});
  EXPECT_EQ(client.push_directory(req).error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  // A "directory" that is not a Directory message.
  ASSERT_TRUE(client.upload(std::string("\xff\xff\xff", 3)).ok());
  *req.mutable_root_directory_digest() = reapi::digest_of(std::string("\xff\xff\xff", 3));
  EXPECT_EQ(client.push_directory(req).error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  asset::FetchDirectoryRequest fetch;
  fetch.add_uris("urn:x:tree");
  EXPECT_EQ(client.fetch_directory(fetch).error_code(), grpc::StatusCode::NOT_FOUND);

  // And a complete tree is accepted.
  const auto sub = upload_directory(client, {{"c.txt", "deep"}});
  *req.mutable_root_directory_digest() =
      upload_directory(client, {{"a.txt", "uploaded"}}, {{"sub", sub}});
  ASSERT_TRUE(client.push_directory(req).ok());
  asset::FetchDirectoryResponse resp;
  ASSERT_TRUE(client.fetch_directory(fetch, &resp).ok());
  EXPECT_EQ(resp.root_directory_digest().hash(), req.root_directory_digest().hash());
  EXPECT_EQ(resp.uri(), "urn:x:tree");
  // Blobs and directories are separate namespaces.
  EXPECT_EQ(client.fetch_blob("urn:x:tree").error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(AssetServer, OversizedRequestsAreRefused) {
  start({"--allow-asset-pushes"});
  auto client = as();
  ASSERT_TRUE(client.upload("x").ok());
  const auto blob = reapi::digest_of("x");
  const auto refused = [&](asset::PushBlobRequest push) {
    *push.mutable_blob_digest() = blob;
    asset::FetchBlobRequest fetch;
    *fetch.mutable_uris() = push.uris();
    *fetch.mutable_qualifiers() = push.qualifiers();
    const auto p = client.push_blob(push);
    const auto f = client.fetch_blob(fetch);
    EXPECT_EQ(p.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << p.error_message();
    EXPECT_EQ(f.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << f.error_message();
  };
  asset::PushBlobRequest none; // no URI at all (BuildStream probes support this way)
  refused(none);
  asset::PushBlobRequest many_uris;
  for (int i = 0; i < 100000; ++i) {
    many_uris.add_uris("urn:x:" + std::to_string(i));
  }
  refused(many_uris);
  asset::PushBlobRequest long_uri;
  long_uri.add_uris("urn:x:" + std::string(1 << 20, 'u'));
  refused(long_uri);
  asset::PushBlobRequest empty_uri;
  empty_uri.add_uris("");
  refused(empty_uri);
  asset::PushBlobRequest many_qualifiers;
  many_qualifiers.add_uris("urn:x:q");
  for (int i = 0; i < 100000; ++i) {
    auto* q = many_qualifiers.add_qualifiers();
    q->set_name("n" + std::to_string(i));
    q->set_value("v");
  }
  refused(many_qualifiers);
  asset::PushBlobRequest long_value;
  long_value.add_uris("urn:x:q");
  auto* q = long_value.add_qualifiers();
  q->set_name("resource_type");
  q->set_value(std::string(1 << 20, 'v'));
  refused(long_value);
  asset::PushBlobRequest repeated_name;
  repeated_name.add_uris("urn:x:q");
  for (const char* value : {"a", "b"}) {
    auto* r = repeated_name.add_qualifiers();
    r->set_name("checksum.sri");
    r->set_value(value);
  }
  refused(repeated_name);
  // Nothing above was stored.
  EXPECT_EQ(client.fetch_blob("urn:x:q").error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(client.fetch_blob("urn:x:0").error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(AssetServer, QualifierOrderDoesNotMatterButValuesDo) {
  start({"--allow-asset-pushes"});
  auto client = as();
  ASSERT_TRUE(client.upload("tarball").ok());
  const auto blob = reapi::digest_of("tarball");
  ASSERT_TRUE(client.push_blob("https://example.org/t.tar", blob, {{"a", "1"}, {"b", "2"}}).ok());
  v2::Digest got;
  ASSERT_TRUE(client.fetch_blob("https://example.org/t.tar", {{"b", "2"}, {"a", "1"}}, &got).ok());
  EXPECT_EQ(got.hash(), blob.hash());
  for (const auto& qualifiers : std::vector<std::vector<std::pair<std::string, std::string>>>{
           {{"a", "1"}, {"b", "3"}}, {{"a", "1"}}, {}, {{"a", "1"}, {"b", "2"}, {"c", "3"}}}) {
    EXPECT_EQ(client.fetch_blob("https://example.org/t.tar", qualifiers).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  // Another instance has mappings of its own.
  asset::FetchBlobRequest other;
  other.set_instance_name("other");
  other.add_uris("https://example.org/t.tar");
  EXPECT_EQ(client.fetch_blob(other).error_code(), grpc::StatusCode::NOT_FOUND);
  // Of several URIs, the first with a mapping answers.
  asset::FetchBlobRequest several;
  several.add_uris("https://mirror.example.org/t.tar");
  several.add_uris("https://example.org/t.tar");
  *several.add_qualifiers() = [] {
    asset::Qualifier q;
    q.set_name("b");
    q.set_value("2");
    return q;
  }();
  *several.add_qualifiers() = [] {
    asset::Qualifier q;
    q.set_name("a");
    q.set_value("1");
    return q;
  }();
  asset::FetchBlobResponse resp;
  ASSERT_TRUE(client.fetch_blob(several, &resp).ok());
  EXPECT_EQ(resp.uri(), "https://example.org/t.tar");
  EXPECT_EQ(resp.status().code(), 0);
}

TEST_F(AssetServer, EvictedContentIsNeverReturned) {
  // A CAS of 64 KiB: each 20 KiB upload pushes older blobs out (stored as they are: these
  // blobs would compress to almost nothing).
  start({"--allow-asset-pushes",
         "--max-size",
         "64K",
         "--max-blob-size",
         "32K",
         "--compression-level",
         "0"});
  auto client = as();
  const std::string kept(20000, 'k');
  const std::string dropped(20000, 'd');
  ASSERT_TRUE(client.upload(kept).ok());
  ASSERT_TRUE(client.upload(dropped).ok());
  ASSERT_TRUE(client.push_blob("urn:x:kept", reapi::digest_of(kept)).ok());
  ASSERT_TRUE(client.push_blob("urn:x:dropped", reapi::digest_of(dropped)).ok());
  asset::PushDirectoryRequest tree;
  tree.add_uris("urn:x:tree");
  *tree.mutable_root_directory_digest() = upload_directory(client, {{"big", dropped}});
  ASSERT_TRUE(client.push_directory(tree).ok());
  for (int i = 0; i < 6; ++i) {
    // Fetching keeps the content of "kept" in use; nothing keeps "dropped".
    ASSERT_TRUE(client.fetch_blob("urn:x:kept").ok()) << i;
    ASSERT_TRUE(client.upload(std::string(20000, static_cast<char>('0' + i))).ok());
  }
  ASSERT_TRUE(client.missing(reapi::digest_of(dropped))) << "the test needs an eviction";
  v2::Digest got;
  const auto st = client.fetch_blob("urn:x:dropped", {}, &got);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::NOT_FOUND) << st.error_message();
  EXPECT_TRUE(got.hash().empty());
  asset::FetchDirectoryRequest fetch_tree;
  fetch_tree.add_uris("urn:x:tree");
  asset::FetchDirectoryResponse tree_resp;
  EXPECT_EQ(client.fetch_directory(fetch_tree, &tree_resp).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_FALSE(tree_resp.has_root_directory_digest());
  ASSERT_TRUE(client.fetch_blob("urn:x:kept", {}, &got).ok());
  EXPECT_EQ(got.hash(), reapi::digest_of(kept).hash());
  // Even when the blob comes back, the dangling mapping was dropped: it must be pushed again.
  ASSERT_TRUE(client.upload(dropped).ok());
  EXPECT_EQ(client.fetch_blob("urn:x:dropped").error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(AssetServer, ExpiryAndAgeAreHonoured) {
  start({"--allow-asset-pushes"});
  auto client = as();
  ASSERT_TRUE(client.upload("short-lived").ok());
  const auto now = std::chrono::system_clock::now();
  const auto seconds = [](std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  };
  asset::PushBlobRequest push;
  push.add_uris("urn:x:short");
  *push.mutable_blob_digest() = reapi::digest_of("short-lived");
  push.mutable_expire_at()->set_seconds(seconds(now) - 10);
  EXPECT_EQ(client.push_blob(push).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  push.mutable_expire_at()->set_seconds(seconds(now) + 2);
  ASSERT_TRUE(client.push_blob(push).ok());

  asset::FetchBlobRequest fetch;
  fetch.add_uris("urn:x:short");
  asset::FetchBlobResponse resp;
  ASSERT_TRUE(client.fetch_blob(fetch, &resp).ok());
  EXPECT_EQ(resp.expires_at().seconds(), seconds(now) + 2);
  // Content pushed before oldest_content_accepted is not good enough.
  fetch.mutable_oldest_content_accepted()->set_seconds(seconds(now) + 3600);
  EXPECT_EQ(client.fetch_blob(fetch).error_code(), grpc::StatusCode::NOT_FOUND);
  fetch.mutable_oldest_content_accepted()->set_seconds(seconds(now) - 3600);
  EXPECT_TRUE(client.fetch_blob(fetch).ok());
  std::this_thread::sleep_until(now + std::chrono::seconds(3));
  EXPECT_EQ(client.fetch_blob(fetch).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(AssetServer, MappingsSurviveARestart) {
  util::TempDir store;
  start({"--allow-asset-pushes"}, store.path());
  {
    auto client = as();
    ASSERT_TRUE(client.upload("persistent").ok());
    ASSERT_TRUE(client.push_blob("urn:x:p", reapi::digest_of("persistent"), {{"k", "v"}}).ok());
  }
  m_channel.reset();
  m_server.reset();
  start({}, store.path()); // pushes are off now, fetches still work
  auto client = as();
  v2::Digest got;
  ASSERT_TRUE(client.fetch_blob("urn:x:p", {{"k", "v"}}, &got).ok());
  EXPECT_EQ(got.hash(), reapi::digest_of("persistent").hash());
}

} // namespace
} // namespace ccrex::test
