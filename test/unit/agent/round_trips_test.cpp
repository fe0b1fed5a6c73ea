// What a compile costs in calls to a remote engine: the real server (LocalServer, on a unix
// socket) counts every call it answers (metrics.h), and each test compiles through the
// agent's handler with CCREX_REMOTE pointing at it. The figures are the floor the remote
// path is built to: a hit is one GetActionResult, a compile whose inputs the engine is known
// to hold is one Execute (the engine consults its ActionCache and inlines small outputs,
// REAPI 2.9), and outputs it does not inline come back in one batched read.

#include "agent/compile_handler.h"
#include "reapi/digest.h"
#include "server/blob_store.h"
#include "server/cas_service.h"
#include "server/config.h"
#include "server/local_server.h"
#include "server/metrics.h"
#include "util/file.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <thread>

namespace ccrex::agent {
namespace {

using Calls = std::map<std::string, uint64_t>; // "Service/Method" -> calls, any status

// An ActionCache that, once armed, answers a lookup only once the CAS holds the Action it
// asks about, or after five seconds: whether it was there tells that the client sent its upload
// while the lookup was still unanswered (the same round trip), not after the miss came back.
class LookupAwaitingUpload final : public reapi::v2::ActionCache::Service {
public:
  LookupAwaitingUpload(server::LocalServer& srv,
                       std::atomic<bool>& armed,
                       std::atomic<int>& overlapped)
      : m_store(srv.store()),
        m_real(srv.store(), srv.action_cache(), srv.access(), *srv.metrics()),
        m_armed(armed),
        m_overlapped(overlapped) {}

  grpc::Status GetActionResult(grpc::ServerContext* context,
                               const reapi::v2::GetActionResultRequest* request,
                               reapi::v2::ActionResult* response) override {
    if (!m_armed) {
      return m_real.GetActionResult(context, request, response);
    }
    const auto action = reapi::from_proto(request->action_digest());
    for (int i = 0; i < 250 && !m_store.contains(action); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (m_store.contains(action)) {
      ++m_overlapped;
    }
    return m_real.GetActionResult(context, request, response);
  }
  grpc::Status UpdateActionResult(grpc::ServerContext* context,
                                  const reapi::v2::UpdateActionResultRequest* request,
                                  reapi::v2::ActionResult* response) override {
    return m_real.UpdateActionResult(context, request, response);
  }

private:
  server::BlobStore& m_store;
  server::ActionCacheService m_real;
  std::atomic<bool>& m_armed;
  std::atomic<int>& m_overlapped;
};

class RoundTrips : public ::testing::Test {
protected:
  void SetUp() override {
    // The sandbox user of a server run as root must reach the store (sandbox.h).
    ::chmod(dir.path().c_str(), 0711);
    start_engine();
    project = dir.path() + "/project";
    ASSERT_TRUE(util::make_dirs(project + "/.git"));
    ASSERT_TRUE(util::write_file_atomic(project + "/a.c", "int a(void) { return 1; }\n"));
    ASSERT_TRUE(util::write_file_atomic(project + "/bad.c", "int b(void) { return nope; }\n"));
    null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  }
  void TearDown() override {
    ::close(null_fd);
    engine->shutdown();
  }

  // Compile three new sources through `agent` (misses on the engine).
  void miss_three_times(CompileHandler& agent, const std::string& name) {
    for (int i = 0; i < 3; ++i) {
      const std::string source = "m" + std::to_string(i) + ".c";
      ASSERT_TRUE(util::write_file_atomic(project + "/" + source,
                                          "int m" + std::to_string(i) + "(void) { return 0; }\n"));
      ASSERT_FALSE(compile(agent, name, source).run_locally);
    }
  }

  // (Re)start the engine on its store, with `overrides`.
  void start_engine(const server::ServiceOverrides& overrides = {}) {
    if (engine) {
      engine->shutdown();
      engine.reset();
    }
    server::Config cfg;
    cfg.cache_dir = dir.path() + "/engine";
    cfg.listen = {"unix:" + dir.path() + "/engine.sock"};
    cfg.workers = 2;
    auto started = server::LocalServer::start(cfg, overrides);
    ASSERT_TRUE(started) << started.error().message();
    engine = std::move(started).value();
  }

  std::vector<std::string> env(const std::string& agent) const {
    return {"HOME=" + dir.path(),
            "PATH=/usr/bin:/bin",
            "CCREX_REMOTE=" + engine->addresses().at(0),
            "CCREX_DIR=" + dir.path() + "/" + agent,
            "CCREX_RETRIES=0",
            "XDG_CONFIG_HOME=" + dir.path() + "/config"};
  }

  CompileReply compile(CompileHandler& agent, const std::string& name, const std::string& source) {
    CompileRequest req;
    req.argv = {"/usr/bin/gcc", "-c", source, "-o", source + ".o"};
    req.cwd = project;
    req.env = env(name);
    req.stdout_fd = req.stderr_fd = null_fd;
    return agent.compile(req);
  }

  std::string counters(CompileHandler& agent, const std::string& name) {
    return agent.admin({"--print-stats"}, env(name)).out;
  }

  // The engine's calls so far, once they stop changing (a call is counted as it ends on
  // the server, which may be just after the client saw its answer).
  Calls calls() const {
    Calls last;
    for (int i = 0; i < 50; ++i) {
      Calls now;
      for (const auto& [key, n] : engine->metrics()->snapshot().calls) {
        now[key.first] += n;
      }
      if (i > 0 && now == last) {
        return now;
      }
      last = std::move(now);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return last;
  }

  // The calls made since `before`, without the ones that did not change.
  static Calls since(const Calls& before, const Calls& after) {
    Calls out;
    for (const auto& [method, n] : after) {
      const auto it = before.find(method);
      const uint64_t was = it == before.end() ? 0 : it->second;
      if (n > was) {
        out[method] = n - was;
      }
    }
    return out;
  }

  static uint64_t count_of(const Calls& calls, const std::string& method) {
    const auto it = calls.find(method);
    return it == calls.end() ? 0 : it->second;
  }

  static std::string describe(const Calls& calls) {
    std::string text;
    for (const auto& [method, n] : calls) {
      text += method + "=" + std::to_string(n) + " ";
    }
    return text;
  }

  // Forget the ActionCache entries of the store in `store_dir` (files only, so the store
  // goes on writing where it did): the agent's own local store, or the engine's.
  static void clear_action_cache(const std::string& store_dir) {
    namespace fs = std::filesystem;
    size_t removed = 0;
    for (const auto& e : fs::recursive_directory_iterator(store_dir + "/ac")) {
      if (e.is_regular_file()) {
        fs::remove(e.path());
        ++removed;
      }
    }
    ASSERT_GT(removed, 0u) << "no ActionCache entry under " << store_dir;
  }

  util::TempDir dir;
  std::unique_ptr<server::LocalServer> engine;
  std::string project;
  int null_fd = -1;
};

// Another agent left the result on the engine: a new agent gets it with one GetActionResult
// (its outputs inlined), after reading the engine's Capabilities once.
TEST_F(RoundTrips, RemoteHitIsOneCall) {
  CompileHandler first;
  ASSERT_FALSE(compile(first, "first", "a.c").run_locally);
  const std::string object = *util::read_file(project + "/a.c.o");
  ::unlink((project + "/a.c.o").c_str());

  CompileHandler second;
  auto before = calls();
  ASSERT_FALSE(compile(second, "second", "a.c").run_locally);
  auto made = since(before, calls());
  made.erase("Capabilities/GetCapabilities");
  EXPECT_EQ(made, (Calls{{"ActionCache/GetActionResult", 1}})) << describe(made);
  EXPECT_EQ(*util::read_file(project + "/a.c.o"), object);
  EXPECT_NE(counters(second, "second").find("hit_remote\t1"), std::string::npos)
      << counters(second, "second");
}

// What a remote hit brought in stays in the agent's store: the same compile again is a
// local hit, with no call to the engine, and writes the same object.
TEST_F(RoundTrips, RemoteHitIsRememberedLocally) {
  CompileHandler first;
  ASSERT_FALSE(compile(first, "first", "a.c").run_locally);
  const std::string object = *util::read_file(project + "/a.c.o");
  CompileHandler second;
  ASSERT_FALSE(compile(second, "second", "a.c").run_locally); // the remote hit
  ::unlink((project + "/a.c.o").c_str());

  const auto before = calls();
  ASSERT_FALSE(compile(second, "second", "a.c").run_locally);
  const auto made = since(before, calls());
  EXPECT_TRUE(made.empty()) << describe(made);
  EXPECT_EQ(*util::read_file(project + "/a.c.o"), object);
  const std::string stats = counters(second, "second");
  EXPECT_NE(stats.find("hit_remote\t1"), std::string::npos) << stats;
  EXPECT_NE(stats.find("hit_local\t1"), std::string::npos) << stats;
}

// A compile whose inputs this agent uploaded before is one Execute, without asking the
// ActionCache or the CAS first, and the compiler's messages come inline in the answer. A
// failing compile (never cached by the engine) is a miss every time.
TEST_F(RoundTrips, KnownInputsGoStraightToExecute) {
  CompileHandler agent;
  auto before = calls();
  compile(agent, "agent", "bad.c"); // fails; confirmed by compiling in the agent
  auto first = since(before, calls());
  first.erase("Capabilities/GetCapabilities");
  EXPECT_EQ(first,
            (Calls{{"ActionCache/GetActionResult", 1},
                   {"ContentAddressableStorage/BatchUpdateBlobs", 1},
                   {"Execution/Execute", 1}}))
      << describe(first);

  before = calls();
  compile(agent, "agent", "bad.c");
  auto again = since(before, calls());
  EXPECT_EQ(again, (Calls{{"Execution/Execute", 1}})) << describe(again);
}

// A successful compile whose inputs the engine holds, when neither the agent's store nor
// the engine's ActionCache has its result (both evicted): one Execute, the object inline.
TEST_F(RoundTrips, KnownInputsMissIsOneExecute) {
  CompileHandler agent;
  ASSERT_FALSE(compile(agent, "agent", "a.c").run_locally);
  const std::string object = *util::read_file(project + "/a.c.o");
  ::unlink((project + "/a.c.o").c_str());
  clear_action_cache(dir.path() + "/agent/store");
  clear_action_cache(dir.path() + "/engine");

  const auto before = calls();
  ASSERT_FALSE(compile(agent, "agent", "a.c").run_locally);
  const auto made = since(before, calls());
  EXPECT_EQ(made, (Calls{{"Execution/Execute", 1}})) << describe(made);
  EXPECT_EQ(*util::read_file(project + "/a.c.o"), object);
  EXPECT_NE(counters(agent, "agent").find("miss_executed\t2"), std::string::npos)
      << counters(agent, "agent");
}

// The same when the engine still has the result: Execute answers it from its ActionCache
// (cached_result) with the object inline, and the agent counts a remote hit.
TEST_F(RoundTrips, KnownInputsHitIsOneExecute) {
  CompileHandler agent;
  ASSERT_FALSE(compile(agent, "agent", "a.c").run_locally);
  const std::string object = *util::read_file(project + "/a.c.o");
  ::unlink((project + "/a.c.o").c_str());
  clear_action_cache(dir.path() + "/agent/store");

  const auto before = calls();
  ASSERT_FALSE(compile(agent, "agent", "a.c").run_locally);
  const auto made = since(before, calls());
  EXPECT_EQ(made, (Calls{{"Execution/Execute", 1}})) << describe(made);
  EXPECT_EQ(*util::read_file(project + "/a.c.o"), object);
  EXPECT_NE(counters(agent, "agent").find("hit_remote\t1"), std::string::npos)
      << counters(agent, "agent");
}

// A miss with new inputs: one lookup, at most one FindMissingBlobs (none for a few small
// blobs, which are sent without asking), one batched upload, Execute, and at most one
// batched read of the outputs.
TEST_F(RoundTrips, NewInputsCostOneQueryAndOneUpload) {
  CompileHandler agent;
  const auto before = calls();
  ASSERT_FALSE(compile(agent, "agent", "a.c").run_locally);
  auto made = since(before, calls());
  made.erase("Capabilities/GetCapabilities");
  EXPECT_EQ(made["ActionCache/GetActionResult"], 1u) << describe(made);
  EXPECT_LE(made["ContentAddressableStorage/FindMissingBlobs"], 1u) << describe(made);
  EXPECT_EQ(made["ContentAddressableStorage/BatchUpdateBlobs"], 1u) << describe(made);
  EXPECT_EQ(made["Execution/Execute"], 1u) << describe(made);
  // The object and the compiler's messages come inline in Execute's answer.
  EXPECT_EQ(made["ContentAddressableStorage/BatchReadBlobs"], 0u) << describe(made);
  const auto methods =
      std::count_if(made.begin(), made.end(), [](const auto& call) { return call.second > 0; });
  EXPECT_LE(methods, 4) << describe(made);
}

// After a few misses, the upload of a few small new inputs goes out while the ActionCache
// is still being asked, not after its miss: a new-input miss is two round trips (the lookup
// and the upload together, then Execute) instead of three.
TEST_F(RoundTrips, AfterMissesTheSmallUploadGoesOutWithTheLookup) {
  std::atomic<bool> armed{false};
  std::atomic<int> overlapped{0};
  server::ServiceOverrides overrides;
  overrides.action_cache = [&](server::LocalServer& srv) {
    return std::make_unique<LookupAwaitingUpload>(srv, armed, overlapped);
  };
  start_engine(overrides);
  CompileHandler agent;
  ASSERT_NO_FATAL_FAILURE(miss_three_times(agent, "agent"));
  armed = true;
  const auto before = calls();
  ASSERT_FALSE(compile(agent, "agent", "a.c").run_locally);
  auto made = since(before, calls());
  EXPECT_EQ(made,
            (Calls{{"ActionCache/GetActionResult", 1},
                   {"ContentAddressableStorage/BatchUpdateBlobs", 1},
                   {"Execution/Execute", 1}}))
      << describe(made);
  EXPECT_EQ(overlapped.load(), 1);
  EXPECT_NE(counters(agent, "agent").find("miss_executed\t4"), std::string::npos)
      << counters(agent, "agent");
}

// While lookups hit, nothing is uploaded with them: an agent that missed a few times and
// then finds results on the engine soon makes each hit one GetActionResult alone.
TEST_F(RoundTrips, HitsKeepTheLookupAlone) {
  CompileHandler first;
  std::vector<std::string> objects;
  for (int i = 0; i < 5; ++i) {
    const std::string name = "h" + std::to_string(i) + ".c";
    ASSERT_TRUE(util::write_file_atomic(project + "/" + name,
                                        "int h" + std::to_string(i) + "(void) { return 1; }\n"));
    ASSERT_FALSE(compile(first, "first", name).run_locally);
    objects.push_back(*util::read_file(project + "/" + name + ".o"));
    ::unlink((project + "/" + name + ".o").c_str());
  }
  CompileHandler second;
  ASSERT_NO_FATAL_FAILURE(miss_three_times(second, "second"));
  uint64_t uploads = 0;
  Calls last;
  for (int i = 0; i < 5; ++i) {
    const std::string name = "h" + std::to_string(i) + ".c";
    const auto before = calls();
    ASSERT_FALSE(compile(second, "second", name).run_locally);
    last = since(before, calls());
    uploads += count_of(last, "ContentAddressableStorage/BatchUpdateBlobs");
    EXPECT_EQ(count_of(last, "ActionCache/GetActionResult"), 1u) << describe(last);
    EXPECT_EQ(count_of(last, "Execution/Execute"), 0u) << describe(last);
    EXPECT_EQ(*util::read_file(project + "/" + name + ".o"), objects.at(i));
  }
  EXPECT_GE(uploads, 1u); // right after the misses
  EXPECT_LE(uploads, 2u);
  last.erase("ContentAddressableStorage/BatchUpdateBlobs");
  EXPECT_EQ(last, (Calls{{"ActionCache/GetActionResult", 1}})) << describe(last);
  EXPECT_NE(counters(second, "second").find("hit_remote\t5"), std::string::npos)
      << counters(second, "second");
}

} // namespace
} // namespace ccrex::agent
