// An Execute nobody waits for any more stops: a client that cancels its stream (or
// disconnects) does not leave its action running or queued, unless another client still
// waits on the same operation.

#include "conformance/execution_support.h"
#include "hostile/hostile_support.h"

#include <gtest/gtest.h>

#include <thread>

namespace ccrex::test {
namespace {

using namespace std::chrono_literals;

// An Execute stream the test can cancel, read on a thread of its own.
class OpenExecute {
public:
  OpenExecute(v2::Execution::Stub& stub, const v2::Digest& action, bool skip_cache = false) {
    v2::ExecuteRequest req;
    *req.mutable_action_digest() = action;
    req.set_skip_cache_lookup(skip_cache);
    m_ctx.set_deadline(std::chrono::system_clock::now() + 120s);
    m_reader = stub.Execute(&m_ctx, req);
    m_thread = std::thread([this] {
      google::longrunning::Operation op;
      while (m_reader->Read(&op)) {
        const std::lock_guard lock(m_mutex);
        m_name = op.name();
      }
      m_status = m_reader->Finish();
    });
  }
  ~OpenExecute() {
    m_ctx.TryCancel();
    m_thread.join();
  }
  void cancel() { m_ctx.TryCancel(); }
  std::string name() {
    const std::lock_guard lock(m_mutex);
    return m_name;
  }
  // Wait (up to 30 s) until the server has answered with the operation's first message:
  // from then on it counts this client among those waiting.
  bool answered() {
    for (int i = 0; i < 300; ++i) {
      if (!name().empty()) {
        return true;
      }
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }

private:
  grpc::ClientContext m_ctx;
  std::unique_ptr<grpc::ClientReader<google::longrunning::Operation>> m_reader;
  std::thread m_thread;
  std::mutex m_mutex;
  std::string m_name;
  grpc::Status m_status;
};

class AbandonedExecution : public ExecutionFixture {
protected:
  // The actions write progress into a host directory the test watches, which the sandbox
  // forbids; what is tested here is the killing, so they run unconfined.
  std::vector<std::string> server_args() const override {
    return {"--workers", "1", "--abandoned-grace", "1", "--no-sandbox"};
  }
  bool accepts_client_results() const override { return false; }

  // An action that writes the time into `file` ten times a second for at most `seconds`,
  // then touches `file`.done.
  v2::Digest heartbeat(const std::string& file, int seconds) {
    const std::string script = "i=0; while [ $i -lt " + std::to_string(seconds * 10)
                               + " ]; do date +%s%N > " + file
                               + "; sleep 0.1; i=$((i+1)); done; touch " + file + ".done";
    return action(command({"/bin/sh", "-c", script}));
  }

  // Whether `file` keeps changing: its content differs across a 1.5 s window.
  static bool beating(const std::string& file) {
    const auto before = util::read_file(file);
    std::this_thread::sleep_for(1500ms);
    const auto after = util::read_file(file);
    return before && after && *before != *after;
  }

  // Wait (up to 30 s) until `file` exists.
  static bool appears(const std::string& file) {
    for (int i = 0; i < 300; ++i) {
      if (util::path_exists(file)) {
        return true;
      }
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }

  // Wait (up to 30 s) until `file` stops changing.
  static bool stops(const std::string& file) {
    for (int i = 0; i < 20; ++i) {
      if (!beating(file)) {
        return true;
      }
    }
    return false;
  }

  util::TempDir m_dir{"ccrex-abandoned-"};
};

TEST_F(AbandonedExecution, RunningActionIsKilledOnceItsOnlyClientCancels) {
  const std::string beat = m_dir.path() + "/beat";
  const auto digest = heartbeat(beat, 60);
  OpenExecute client(*exec, digest);
  ASSERT_TRUE(appears(beat)) << "the action never started";
  ASSERT_TRUE(beating(beat));
  client.cancel();
  EXPECT_TRUE(stops(beat)) << "the action kept running after its client cancelled";
  EXPECT_FALSE(util::path_exists(beat + ".done"));
}

TEST_F(AbandonedExecution, QueuedActionIsDroppedOnceItsClientCancels) {
  const std::string first = m_dir.path() + "/first";
  const std::string second = m_dir.path() + "/second";
  OpenExecute running(*exec, heartbeat(first, 6));
  ASSERT_TRUE(appears(first));
  // One worker: this one waits in the queue behind the first.
  OpenExecute queued(*exec, heartbeat(second, 1));
  std::this_thread::sleep_for(300ms);
  queued.cancel();
  running.cancel();
  // The first would end by itself after 6 s and the second would then run; neither may.
  std::this_thread::sleep_for(9s);
  EXPECT_FALSE(util::path_exists(first + ".done")) << "the running action was not killed";
  EXPECT_FALSE(util::path_exists(second)) << "a queued action nobody waited for still ran";
}

TEST_F(AbandonedExecution, SharedOperationRunsWhileAnyClientWaits) {
  const std::string beat = m_dir.path() + "/beat";
  const auto digest = heartbeat(beat, 60);
  OpenExecute first(*exec, digest);
  ASSERT_TRUE(appears(beat));
  OpenExecute second(*exec, digest); // the same action: joins the running operation
  ASSERT_TRUE(second.answered()) << "the second client never heard of the operation";
  first.cancel();
  std::this_thread::sleep_for(2500ms); // well past the grace
  EXPECT_TRUE(beating(beat)) << "cancelled although a second client still waits";
  second.cancel();
  EXPECT_TRUE(stops(beat)) << "kept running after the last client cancelled";
}

TEST_F(AbandonedExecution, WaitExecutionWithinTheGraceKeepsTheAction) {
  const std::string beat = m_dir.path() + "/beat";
  const auto digest = heartbeat(beat, 4);
  std::string name;
  {
    OpenExecute client(*exec, digest);
    ASSERT_TRUE(appears(beat));
    name = client.name();
    client.cancel();
  }
  ASSERT_FALSE(name.empty());
  Caller c(plain_channel(server().address()), "");
  EXPECT_TRUE(c.wait_execution(name).ok());
  EXPECT_TRUE(util::path_exists(beat + ".done")) << "the action did not run to its end";
}

} // namespace
} // namespace ccrex::test
