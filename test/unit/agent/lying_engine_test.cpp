// The agent against an engine that lies: every kind of bad answer makes the compile run
// locally (the handler's run_locally reply), is counted, and writes nothing outside the
// outputs the compile asked for. An honest answer through the same fake is written.

#include "agent/compile_handler.h"
#include "reapi/digest.h"
#include "reapi/execute_inline.h"
#include "reapi/proto.h"
#include "util/file.h"
#include "util/strings.h"
#include "util/subprocess.h"

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <functional>
#include <map>
#include <mutex>
#include <optional>

namespace ccrex::agent {
namespace {

namespace v2 = reapi::v2;
namespace bs = reapi::bytestream;

// An engine whose Execute answers with whatever `result` holds (as a cache hit when
// `cached` is set) and whose CAS serves `blobs` (which the test may poison). It claims to
// have every blob, except that with `record_uploads` it asks for all of them and keeps what
// it is sent. Its Capabilities announce `low`..`high` and SHA-256 unless `digest` says
// otherwise; GetActionResult answers `cache_entry` when set.
struct FakeEngine final : v2::Capabilities::Service,
                          v2::ContentAddressableStorage::Service,
                          v2::ActionCache::Service,
                          v2::Execution::Service,
                          bs::ByteStream::Service {
  std::mutex mutex;
  v2::ActionResult result;
  bool cached = false;
  std::map<std::string, std::string> blobs; // hash -> bytes served
  std::pair<int, int> low{2, 0};
  std::pair<int, int> high{2, 0};
  v2::DigestFunction::Value digest = v2::DigestFunction::SHA256;
  bool exec_enabled = true;
  int capability_calls = 0;
  bool record_uploads = false;
  std::map<std::string, std::string> uploaded; // hash -> bytes received
  std::optional<v2::ActionResult> cache_entry;
  int updates = 0;
  v2::Digest executed; // action digest of the last Execute
  int executes = 0;
  int batch_reads = 0;
  std::vector<std::string> inline_asked; // output paths the last GetActionResult wanted inline
  reapi::InlineOptions execute_inline;   // the inline hints of the last Execute

  grpc::Status GetCapabilities(grpc::ServerContext*,
                               const v2::GetCapabilitiesRequest*,
                               v2::ServerCapabilities* caps) override {
    const std::lock_guard lock(mutex);
    ++capability_calls;
    caps->mutable_cache_capabilities()->add_digest_function(digest);
    caps->mutable_cache_capabilities()
        ->mutable_action_cache_update_capabilities()
        ->set_update_enabled(true);
    caps->mutable_execution_capabilities()->set_digest_function(digest);
    caps->mutable_execution_capabilities()->set_exec_enabled(exec_enabled);
    for (auto [v, pair] : {std::pair{caps->mutable_low_api_version(), low},
                           std::pair{caps->mutable_deprecated_api_version(), low},
                           std::pair{caps->mutable_high_api_version(), high}}) {
      v->set_major(pair.first);
      v->set_minor(pair.second);
    }
    return grpc::Status::OK;
  }
  grpc::Status FindMissingBlobs(grpc::ServerContext*,
                                const v2::FindMissingBlobsRequest* req,
                                v2::FindMissingBlobsResponse* resp) override {
    const std::lock_guard lock(mutex);
    if (record_uploads) {
      *resp->mutable_missing_blob_digests() = req->blob_digests();
    }
    return grpc::Status::OK;
  }
  grpc::Status BatchUpdateBlobs(grpc::ServerContext*,
                                const v2::BatchUpdateBlobsRequest* req,
                                v2::BatchUpdateBlobsResponse* resp) override {
    const std::lock_guard lock(mutex);
    for (const auto& r : req->requests()) {
      uploaded[r.digest().hash()] = r.data();
      auto* out = resp->add_responses();
      *out->mutable_digest() = r.digest();
    }
    return grpc::Status::OK;
  }
  grpc::Status UpdateActionResult(grpc::ServerContext*,
                                  const v2::UpdateActionResultRequest* req,
                                  v2::ActionResult* stored) override {
    const std::lock_guard lock(mutex);
    ++updates;
    *stored = req->action_result();
    return grpc::Status::OK;
  }
  grpc::Status BatchReadBlobs(grpc::ServerContext*,
                              const v2::BatchReadBlobsRequest* req,
                              v2::BatchReadBlobsResponse* resp) override {
    const std::lock_guard lock(mutex);
    ++batch_reads;
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
                               const v2::GetActionResultRequest* req,
                               v2::ActionResult* out) override {
    const std::lock_guard lock(mutex);
    inline_asked.assign(req->inline_output_files().begin(), req->inline_output_files().end());
    if (cache_entry) {
      *out = *cache_entry;
      return grpc::Status::OK;
    }
    return {grpc::StatusCode::NOT_FOUND, "miss"};
  }
  grpc::Status Execute(grpc::ServerContext*,
                       const v2::ExecuteRequest* req,
                       grpc::ServerWriter<google::longrunning::Operation>* writer) override {
    google::longrunning::Operation op;
    op.set_name("operations/fake");
    op.set_done(true);
    v2::ExecuteResponse resp;
    {
      const std::lock_guard lock(mutex);
      *resp.mutable_result() = result;
      resp.set_cached_result(cached);
      executed = req->action_digest();
      execute_inline = reapi::execute_inline_of(*req);
      ++executes;
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

  CompileReply compile(const std::string& source = "a.c",
                       const std::vector<std::string>& extra_env = {}) {
    CompileRequest req;
    req.argv = {"/usr/bin/gcc", "-c", source, "-o", "a.o"};
    req.cwd = project;
    req.env = {"HOME=" + dir.path(),
               "PATH=/usr/bin:/bin",
               "CCREX_REMOTE=unix:" + socket,
               "CCREX_DIR=" + dir.path() + "/ccrex",
               "CCREX_RETRIES=0",
               "XDG_CONFIG_HOME=" + dir.path() + "/config"};
    req.env.insert(req.env.end(), extra_env.begin(), extra_env.end());
    req.stdout_fd = null_fd;
    req.stderr_fd = stderr_fd >= 0 ? stderr_fd : null_fd;
    return handler.compile(req);
  }

  // Compile `source` with gcc directly into `object`; return its stderr.
  std::string plain_compile(const std::string& source, const std::string& object) {
    util::SubprocessOptions o;
    o.argv = {"/usr/bin/gcc", "-c", source, "-o", object};
    o.cwd = project;
    o.env = std::vector<std::string>{"PATH=/usr/bin:/bin"}; // as compile() sends
    auto r = util::run_subprocess(o);
    return r ? r->stderr_data : "gcc did not run";
  }

  // The Command of the last action executed (record_uploads must be on).
  std::optional<v2::Command> uploaded_command() {
    const std::lock_guard lock(engine.mutex);
    const auto action = engine.uploaded.find(engine.executed.hash());
    v2::Action a;
    if (action == engine.uploaded.end() || !a.ParseFromString(action->second)) {
      return std::nullopt;
    }
    const auto command = engine.uploaded.find(a.command_digest().hash());
    v2::Command c;
    if (command == engine.uploaded.end() || !c.ParseFromString(command->second)) {
      return std::nullopt;
    }
    return c;
  }

  void clear_store() {
    handler.admin({"-C"},
                  {"HOME=" + dir.path(),
                   "CCREX_DIR=" + dir.path() + "/ccrex",
                   "XDG_CONFIG_HOME=" + dir.path() + "/config"});
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
  int stderr_fd = -1; // where compile() sends stderr when set
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

// An engine that ignored the requested outputs answers exit 0 and nothing else: the result
// is incomplete, nothing is written, and it never becomes a local hit.
TEST_F(LyingEngine, EmptySuccessIsIncompleteAndNeverStored) {
  ASSERT_TRUE(util::write_file_atomic(project + "/a.o", "old object"));
  {
    const std::lock_guard lock(engine.mutex);
    engine.result = v2::ActionResult();
  }
  EXPECT_TRUE(compile().run_locally);
  EXPECT_EQ(*util::read_file(project + "/a.o"), "old object");
  EXPECT_NE(counters().find("fallback_bad_result\t1"), std::string::npos) << counters();
  answer("a.o", "object bytes", "object bytes");
  EXPECT_FALSE(compile().run_locally);
  EXPECT_EQ(*util::read_file(project + "/a.o"), "object bytes");
  EXPECT_NE(counters().find("miss_executed\t1"), std::string::npos) << counters();
  EXPECT_NE(counters().find("hit_local\t0\n"), std::string::npos) << counters();
}

// Failures of the worker (the compiler missing, a signal), a non-zero exit of a compile that
// succeeds here and a failure served from the engine's cache are never the user's: the
// compile runs in the agent and gives the compiler's own object.
TEST_F(LyingEngine, WorkerFailuresCompileHere) {
  plain_compile("a.c", "ref.o");
  const std::vector<std::pair<int, std::string>> lies{
      {127, "sh: 1: gcc: not found\n"}, {139, ""}, {1, "a.c:1: error: from the worker\n"}};
  int n = 0;
  for (const auto& [code, text] : lies) {
    for (const bool cached : {false, true}) {
      {
        const std::lock_guard lock(engine.mutex);
        engine.result = v2::ActionResult();
        engine.result.set_exit_code(code);
        engine.result.set_stderr_raw(text);
        engine.cached = cached;
      }
      ::unlink((project + "/a.o").c_str());
      clear_store(); // no local hit from the round before
      const auto r = compile();
      EXPECT_FALSE(r.run_locally) << code;
      EXPECT_EQ(r.exit_code, 0) << code;
      EXPECT_EQ(*util::read_file(project + "/a.o"), *util::read_file(project + "/ref.o")) << code;
      ++n;
    }
  }
  EXPECT_NE(counters().find("fallback_worker_failure\t" + std::to_string(n)), std::string::npos)
      << counters();
}

// A compile that really fails: the user sees the compiler's message from compiling here,
// not the engine's text, and it counts as a compile error.
TEST_F(LyingEngine, RealCompileErrorIsConfirmedLocally) {
  ASSERT_TRUE(util::write_file_atomic(project + "/bad.c", "int f(void) { return nope; }\n"));
  const std::string want = plain_compile("bad.c", "ref.o");
  ASSERT_FALSE(want.empty());
  {
    const std::lock_guard lock(engine.mutex);
    engine.result = v2::ActionResult();
    engine.result.set_exit_code(1);
    engine.result.set_stderr_raw("text from the engine\n");
  }
  const std::string err_path = dir.path() + "/stderr.txt";
  stderr_fd = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const auto r = compile("bad.c");
  ::close(stderr_fd);
  stderr_fd = -1;
  EXPECT_FALSE(r.run_locally);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(*util::read_file(err_path), want);
  EXPECT_NE(counters().find("compile_error\t1"), std::string::npos) << counters();
}

// The Command names its outputs the way the engine's API range needs.
TEST_F(LyingEngine, OutputFieldsFollowTheApiRange) {
  struct Case {
    std::pair<int, int> low, high;
    bool paths, files;
  };
  for (const auto& c : {Case{{2, 0}, {2, 0}, false, true},
                        Case{{2, 1}, {2, 2}, true, false},
                        Case{{2, 0}, {2, 2}, true, true},
                        Case{{2, 0}, {2, 11}, true, true}}) {
    util::TempDir fresh;
    {
      const std::lock_guard lock(engine.mutex);
      engine.low = c.low;
      engine.high = c.high;
      engine.record_uploads = true;
      engine.uploaded.clear();
    }
    answer("a.o", "object bytes", "object bytes");
    CompileHandler own; // a new agent: capabilities are asked once per agent and engine
    CompileRequest req;
    req.argv = {"/usr/bin/gcc", "-c", "a.c", "-o", "a.o"};
    req.cwd = project;
    req.env = {"HOME=" + dir.path(),
               "PATH=/usr/bin:/bin",
               "CCREX_REMOTE=unix:" + socket,
               "CCREX_DIR=" + fresh.path(),
               "XDG_CONFIG_HOME=" + dir.path() + "/config"};
    req.stdout_fd = req.stderr_fd = null_fd;
    EXPECT_FALSE(own.compile(req).run_locally);
    const auto command = uploaded_command();
    ASSERT_TRUE(command) << c.high.second;
    EXPECT_EQ(command->output_paths_size() == 1, c.paths) << c.low.second << "-" << c.high.second;
    EXPECT_EQ(command->output_files_size() == 1, c.files) << c.low.second << "-" << c.high.second;
  }
}

// No API version in common, or no SHA-256: every compile runs locally, counted by reason,
// and the engine is asked only once.
TEST_F(LyingEngine, IncompatibleEnginesAreNotUsed) {
  {
    const std::lock_guard lock(engine.mutex);
    engine.low = {3, 0};
    engine.high = {3, 1};
  }
  EXPECT_TRUE(compile().run_locally);
  EXPECT_TRUE(compile().run_locally);
  EXPECT_NE(counters().find("fallback_engine_api_version\t2"), std::string::npos) << counters();
  {
    const std::lock_guard lock(engine.mutex);
    EXPECT_EQ(engine.capability_calls, 1);
    engine.low = {2, 0};
    engine.high = {2, 2};
    engine.digest = v2::DigestFunction::MD5;
  }
  CompileHandler own; // a new agent, with a cache directory of its own
  CompileRequest req;
  req.argv = {"/usr/bin/gcc", "-c", "a.c", "-o", "a.o"};
  req.cwd = project;
  req.env = {"HOME=" + dir.path(),
             "PATH=/usr/bin:/bin",
             "CCREX_REMOTE=unix:" + socket,
             "CCREX_DIR=" + dir.path() + "/ccrex-own",
             "XDG_CONFIG_HOME=" + dir.path() + "/config"};
  req.stdout_fd = req.stderr_fd = null_fd;
  EXPECT_TRUE(own.compile(req).run_locally);
  const auto text = own.admin({"--print-stats"}, req.env).out;
  EXPECT_NE(text.find("fallback_engine_digest_function\t1"), std::string::npos) << text;
}

// An engine without execution is used as a cache: the compile runs here and the result is
// uploaded; a failure in its cache is ignored (cache_failures is off).
TEST_F(LyingEngine, EngineWithoutExecutionIsACache) {
  plain_compile("a.c", "ref.o");
  {
    const std::lock_guard lock(engine.mutex);
    engine.exec_enabled = false;
    engine.cache_entry = v2::ActionResult();
    engine.cache_entry->set_exit_code(1);
    engine.cache_entry->set_stderr_raw("a cached failure\n");
  }
  const auto r = compile();
  EXPECT_FALSE(r.run_locally);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(*util::read_file(project + "/a.o"), *util::read_file(project + "/ref.o"));
  const auto text = counters();
  EXPECT_NE(text.find("miss_cache_only\t1"), std::string::npos) << text;
  EXPECT_NE(text.find("cache_only_no_execution\t1"), std::string::npos) << text;
  const std::lock_guard lock(engine.mutex);
  EXPECT_EQ(engine.updates, 1);
}

// A result in the engine's ActionCache with output a.o: its digest names `content`, the CAS
// serves `content`, and the entry inlines `inlined` (nothing when empty).
void cache_result(FakeEngine& engine, const std::string& content, const std::string& inlined) {
  const std::lock_guard lock(engine.mutex);
  engine.cache_entry = v2::ActionResult();
  auto* f = engine.cache_entry->add_output_files();
  f->set_path("a.o");
  *f->mutable_digest() = reapi::digest_of(content);
  f->set_contents(inlined);
  engine.blobs[f->digest().hash()] = content;
}

// A remote hit asks for every output inline and, when the engine inlines them, needs no
// other call: nothing is executed or read.
TEST_F(LyingEngine, RemoteHitTakesInlinedOutputs) {
  cache_result(engine, "object bytes", "object bytes");
  EXPECT_FALSE(compile().run_locally);
  EXPECT_EQ(*util::read_file(project + "/a.o"), "object bytes");
  EXPECT_NE(counters().find("hit_remote\t1"), std::string::npos) << counters();
  const std::lock_guard lock(engine.mutex);
  EXPECT_EQ(engine.inline_asked, std::vector<std::string>{"a.o"});
  EXPECT_EQ(engine.executes, 0);
  EXPECT_EQ(engine.batch_reads, 0);
}

// An engine that ignores inline requests (REAPI allows it): the outputs come in one batched
// read.
TEST_F(LyingEngine, EngineIgnoringInlineRequestsStillHits) {
  cache_result(engine, "object bytes", "");
  EXPECT_FALSE(compile().run_locally);
  EXPECT_EQ(*util::read_file(project + "/a.o"), "object bytes");
  EXPECT_NE(counters().find("hit_remote\t1"), std::string::npos) << counters();
  const std::lock_guard lock(engine.mutex);
  EXPECT_EQ(engine.executes, 0);
  EXPECT_EQ(engine.batch_reads, 1);
}

// Inlined bytes that are not what the digest names are never written, even though the CAS
// would serve the right ones: the engine lies, the compile runs locally.
TEST_F(LyingEngine, InlinedOutputNotMatchingItsDigestFallsBack) {
  cache_result(engine, "object bytes", "object bytez");
  EXPECT_TRUE(compile().run_locally);
  EXPECT_FALSE(util::path_exists(project + "/a.o"));
  EXPECT_NE(counters().find("fallback_bad_result\t1"), std::string::npos) << counters();
}

// Execute asks for stdout, stderr and every output inline (REAPI 2.9 hints); an engine
// that inlines them is read no further.
TEST_F(LyingEngine, ExecuteTakesInlinedOutputs) {
  answer_inline(engine, reapi::digest_of("object bytes"), "object bytes");
  EXPECT_FALSE(compile().run_locally);
  EXPECT_EQ(*util::read_file(project + "/a.o"), "object bytes");
  EXPECT_NE(counters().find("miss_executed\t1"), std::string::npos) << counters();
  const std::lock_guard lock(engine.mutex);
  EXPECT_EQ(engine.executes, 1);
  EXPECT_TRUE(engine.execute_inline.inline_stdout);
  EXPECT_TRUE(engine.execute_inline.inline_stderr);
  EXPECT_EQ(engine.execute_inline.inline_output_files, std::vector<std::string>{"a.o"});
  EXPECT_EQ(engine.batch_reads, 0);
}

// Execute's inlined bytes that are not what the digest names (same size, other bytes) are
// never written, though the CAS would serve the right ones: the compile runs locally.
TEST_F(LyingEngine, ExecuteInlineNotMatchingItsDigestFallsBack) {
  answer_inline(engine, reapi::digest_of("object bytes"), "object bytez");
  {
    const std::lock_guard lock(engine.mutex);
    engine.blobs[reapi::digest_of("object bytes").hash()] = "object bytes";
  }
  EXPECT_TRUE(compile().run_locally);
  EXPECT_FALSE(util::path_exists(project + "/a.o"));
  EXPECT_NE(counters().find("fallback_bad_result\t1"), std::string::npos) << counters();
}

} // namespace
} // namespace ccrex::agent
