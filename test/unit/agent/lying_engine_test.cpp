// The agent against an engine that lies: every kind of bad answer makes the compile run
// locally (the handler's run_locally reply), is counted, and writes nothing outside the
// outputs the compile asked for. An honest answer through the same fake is written.

#include "agent/compile_handler.h"
#include "reapi/digest.h"
#include "reapi/proto.h"
#include "util/file.h"
#include "util/strings.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <functional>
#include <map>
#include <mutex>

namespace ccrex::agent {
namespace {

namespace v2 = reapi::v2;
namespace bs = reapi::bytestream;

// An engine whose Execute answers with whatever `result` holds and whose CAS serves `blobs`
// (which the test may poison). Uploads are accepted and ignored.
struct FakeEngine final : v2::Capabilities::Service,
                          v2::ContentAddressableStorage::Service,
                          v2::ActionCache::Service,
                          v2::Execution::Service,
                          bs::ByteStream::Service {
  std::mutex mutex;
  v2::ActionResult result;
  std::map<std::string, std::string> blobs; // hash -> bytes served

  grpc::Status GetCapabilities(grpc::ServerContext*,
                               const v2::GetCapabilitiesRequest*,
                               v2::ServerCapabilities* caps) override {
    caps->mutable_cache_capabilities()->add_digest_function(v2::DigestFunction::SHA256);
    caps->mutable_cache_capabilities()
        ->mutable_action_cache_update_capabilities()
        ->set_update_enabled(true);
    caps->mutable_execution_capabilities()->set_digest_function(v2::DigestFunction::SHA256);
    caps->mutable_execution_capabilities()->set_exec_enabled(true);
    caps->mutable_low_api_version()->set_major(2);
    caps->mutable_high_api_version()->set_major(2);
    return grpc::Status::OK;
  }
  grpc::Status FindMissingBlobs(grpc::ServerContext*,
                                const v2::FindMissingBlobsRequest*,
                                v2::FindMissingBlobsResponse*) override {
    return grpc::Status::OK; // claims to have everything
  }
  grpc::Status BatchReadBlobs(grpc::ServerContext*,
                              const v2::BatchReadBlobsRequest* req,
                              v2::BatchReadBlobsResponse* resp) override {
    const std::lock_guard lock(mutex);
    for (const auto& d : req->digests()) {
      auto* r = resp->add_responses();
      *r->mutable_digest() = d;
      const auto it = blobs.find(d.hash());
      if (it == blobs.end()) {
        r->mutable_status()->set_code(grpc::StatusCode::NOT_FOUND);
      } else {
        r->set_data(it->second);
      }
    }
    return grpc::Status::OK;
  }
  grpc::Status GetActionResult(grpc::ServerContext*,
                               const v2::GetActionResultRequest*,
                               v2::ActionResult*) override {
    return {grpc::StatusCode::NOT_FOUND, "miss"};
  }
  grpc::Status Execute(grpc::ServerContext*,
                       const v2::ExecuteRequest*,
                       grpc::ServerWriter<google::longrunning::Operation>* writer) override {
    google::longrunning::Operation op;
    op.set_name("operations/fake");
    op.set_done(true);
    v2::ExecuteResponse resp;
    {
      const std::lock_guard lock(mutex);
      *resp.mutable_result() = result;
    }
    op.mutable_response()->PackFrom(resp);
    writer->Write(op);
    return grpc::Status::OK;
  }
  grpc::Status Read(grpc::ServerContext*,
                    const bs::ReadRequest*,
                    grpc::ServerWriter<bs::ReadResponse>*) override {
    return {grpc::StatusCode::NOT_FOUND, "use BatchReadBlobs"};
  }
};

class LyingEngine : public ::testing::Test {
protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    socket = dir.path() + "/engine.sock";
    builder.AddListeningPort("unix:" + socket, grpc::InsecureServerCredentials());
    builder.RegisterService(static_cast<v2::Capabilities::Service*>(&engine));
    builder.RegisterService(static_cast<v2::ContentAddressableStorage::Service*>(&engine));
    builder.RegisterService(static_cast<v2::ActionCache::Service*>(&engine));
    builder.RegisterService(static_cast<v2::Execution::Service*>(&engine));
    builder.RegisterService(static_cast<bs::ByteStream::Service*>(&engine));
    server = builder.BuildAndStart();
    ASSERT_TRUE(server);
    project = dir.path() + "/project";
    ASSERT_TRUE(util::make_dirs(project + "/.git"));
    ASSERT_TRUE(util::write_file_atomic(project + "/a.c", "int a(void) { return 1; }\n"));
    null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  }
  void TearDown() override {
    ::close(null_fd);
    server->Shutdown();
  }

  // Answer Execute with one output file `path` whose blob serves `served`.
  void answer(const std::string& path, const std::string& content, const std::string& served) {
    const std::lock_guard lock(engine.mutex);
    engine.result = v2::ActionResult();
    auto* f = engine.result.add_output_files();
    f->set_path(path);
    *f->mutable_digest() = reapi::digest_of(content);
    engine.blobs[f->digest().hash()] = served;
  }

  CompileReply compile() {
    CompileRequest req;
    req.argv = {"/usr/bin/gcc", "-c", "a.c", "-o", "a.o"};
    req.cwd = project;
    req.env = {"HOME=" + dir.path(),
               "PATH=/usr/bin:/bin",
               "CCREX_REMOTE=unix:" + socket,
               "CCREX_DIR=" + dir.path() + "/ccrex",
               "CCREX_RETRIES=0",
               "XDG_CONFIG_HOME=" + dir.path() + "/config"};
    req.stdout_fd = null_fd;
    req.stderr_fd = null_fd;
    return handler.compile(req);
  }

  std::string counters() {
    auto r = handler.admin({"--print-stats"},
                           {"HOME=" + dir.path(),
                            "CCREX_DIR=" + dir.path() + "/ccrex",
                            "XDG_CONFIG_HOME=" + dir.path() + "/config"});
    return r.out;
  }

  util::TempDir dir;
  std::string socket;
  std::string project;
  FakeEngine engine;
  std::unique_ptr<grpc::Server> server;
  CompileHandler handler;
  int null_fd = -1;
};

TEST_F(LyingEngine, HonestAnswerIsWritten) {
  answer("a.o", "object bytes", "object bytes");
  const auto r = compile();
  EXPECT_FALSE(r.run_locally) << r.reason;
  EXPECT_EQ(*util::read_file(project + "/a.o"), "object bytes");
  EXPECT_NE(counters().find("miss_executed\t1"), std::string::npos) << counters();
}

TEST_F(LyingEngine, WrongBytesFallBack) {
  answer("a.o", "object bytes", "something else");
  const auto r = compile();
  EXPECT_TRUE(r.run_locally);
  EXPECT_FALSE(util::path_exists(project + "/a.o"));
  EXPECT_NE(counters().find("fallback_bad_result\t1"), std::string::npos) << counters();
}

TEST_F(LyingEngine, OutputsOutsideTheCompileFallBack) {
  const std::string evil = dir.path() + "/evil.o";
  for (const std::string& path :
       std::vector<std::string>{evil, "../evil.o", "sub/../../evil.o", "other.o"}) {
    answer(path, "payload", "payload");
    const auto r = compile();
    EXPECT_TRUE(r.run_locally) << path;
  }
  EXPECT_FALSE(util::path_exists(evil));
  EXPECT_FALSE(util::path_exists(project + "/other.o"));
  EXPECT_FALSE(util::path_exists(project + "/a.o"));
  EXPECT_NE(counters().find("fallback_bad_result\t4"), std::string::npos) << counters();
}

TEST_F(LyingEngine, MissingBlobAndSymlinkOutputsFallBack) {
  answer("a.o", "object bytes", "object bytes");
  {
    const std::lock_guard lock(engine.mutex);
    engine.blobs.clear(); // the result names a blob the CAS does not have
  }
  EXPECT_TRUE(compile().run_locally);
  {
    const std::lock_guard lock(engine.mutex);
    engine.result = v2::ActionResult();
    auto* s = engine.result.add_output_file_symlinks();
    s->set_path("a.o");
    s->set_target("/etc/passwd");
  }
  EXPECT_TRUE(compile().run_locally);
  EXPECT_FALSE(util::path_exists(project + "/a.o"));
}

TEST_F(LyingEngine, OutputsOfOtherKindsFallBack) {
  // Symlinks (to a file, a directory, or of either kind) and directories could make a later
  // write go through them to somewhere outside the compile: none is accepted.
  const std::string outside = dir.path();
  for (int kind = 0; kind < 3; ++kind) {
    {
      const std::lock_guard lock(engine.mutex);
      engine.result = v2::ActionResult();
      if (kind == 0) {
        auto* s = engine.result.add_output_symlinks();
        s->set_path("a.o");
        s->set_target(outside + "/escaped.o");
      } else if (kind == 1) {
        auto* s = engine.result.add_output_directory_symlinks();
        s->set_path("a.o");
        s->set_target(outside);
      } else {
        auto* d = engine.result.add_output_directories();
        d->set_path("a.o");
        *d->mutable_tree_digest() = reapi::digest_of("not a tree");
      }
    }
    const auto r = compile();
    EXPECT_TRUE(r.run_locally) << kind;
  }
  EXPECT_FALSE(util::path_exists(project + "/a.o"));
  EXPECT_FALSE(util::path_exists(outside + "/escaped.o"));
  EXPECT_NE(counters().find("fallback_bad_result\t3"), std::string::npos) << counters();
}

// Answer Execute with output a.o whose inline contents are `contents` under `digest`.
void answer_inline(FakeEngine& engine, const v2::Digest& digest, const std::string& contents) {
  const std::lock_guard lock(engine.mutex);
  engine.result = v2::ActionResult();
  auto* f = engine.result.add_output_files();
  f->set_path("a.o");
  *f->mutable_digest() = digest;
  f->set_contents(contents);
}

TEST_F(LyingEngine, OversizedInlineBlobWithTheDigestOfOtherBytesFallsBack) {
  answer_inline(engine, reapi::digest_of("object bytes"), std::string(1 << 20, 'x'));
  EXPECT_TRUE(compile().run_locally);
  EXPECT_FALSE(util::path_exists(project + "/a.o"));
  EXPECT_NE(counters().find("fallback_bad_result\t1"), std::string::npos) << counters();
}

// Inline contents must be exactly the bytes their digest names: same hash with another
// size, or a digest that claims the empty blob, are lies too.
TEST_F(LyingEngine, InlineBlobWithAnotherSizeFallsBack) {
  const std::string oversized(1 << 20, 'x');
  auto same_hash_wrong_size = reapi::digest_of(oversized);
  same_hash_wrong_size.set_size_bytes(12);
  auto claims_empty = reapi::digest_of("object bytes");
  claims_empty.set_size_bytes(0);
  for (const auto& digest : {same_hash_wrong_size, claims_empty}) {
    answer_inline(engine, digest, oversized);
    EXPECT_TRUE(compile().run_locally) << reapi::to_string(digest);
  }
  EXPECT_FALSE(util::path_exists(project + "/a.o"));
}

} // namespace
} // namespace ccrex::agent
