// No process of an action outlives the server that started it, or the program that builds
// its sandbox, whenever that one dies: the kill may come before any process of the chain
// has armed its death signal. sandbox_test.cpp kills a server while an action runs under
// the real sandbox builders; here the builder is a stand-in for bubblewrap
// (support/slow_bwrap_main.cpp) that is slow exactly where bubblewrap leaves a process
// without a death signal, so the kill lands there every time. The unconfined fallback gets
// the same kill.

#include "conformance/execution_support.h"
#include "hostile/hostile_support.h"
#include "util/file.h"

#include <gtest/gtest.h>

#include <dirent.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <random>
#include <thread>

namespace ccrex::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* k_death_uid = "64123";

// A number no other process's command line has: the action sleeps for it.
std::string unique_sleep() {
  std::random_device rd;
  return std::to_string(600 + rd() % 300) + "." + std::to_string(100000 + rd() % 800000);
}

// Wait up to `limit` for a process with `word` to appear; return whether one did.
bool wait_for_process_with(const std::string& word, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!process_with_word(word)) {
    if (std::chrono::steady_clock::now() >= end) {
      return false;
    }
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// Wait `settle` (long enough for a delayed start to have happened), then up to two seconds
// for every process with `word` to be gone; return whether they went, killing any left.
bool gone_after(const std::string& word, std::chrono::milliseconds settle) {
  std::this_thread::sleep_for(settle);
  for (int i = 0; i < 40; ++i) {
    if (!process_with_word(word)) {
      return true;
    }
    std::this_thread::sleep_for(50ms);
  }
  process_with_word(word, true);
  return false;
}

// A Command that sleeps for `seconds` (so its command line holds the number), with
// `variables` (names sorted, all before PATH) in its environment.
v2::Command sleeping(const std::string& seconds,
                     const std::vector<std::pair<std::string, std::string>>& variables = {}) {
  v2::Command c;
  for (const char* arg : {"/bin/sh", "-c"}) {
    c.add_arguments(arg);
  }
  c.add_arguments("sleep " + seconds + "; echo late");
  for (const auto& [name, value] : variables) {
    auto* v = c.add_environment_variables();
    v->set_name(name);
    v->set_value(value);
  }
  auto* path = c.add_environment_variables();
  path->set_name("PATH");
  path->set_value("/usr/bin:/bin");
  return c;
}

// Actions whose sandbox is built by the stand-in for bubblewrap.
class SlowSandboxBuilder : public ExecutionFixture {
protected:
  std::vector<std::string> server_args() const override {
    return {"--workers",
            "2",
            "--sandbox-backend",
            "bwrap",
            "--sandbox-bwrap",
            CCREX_TEST_SLOW_BWRAP_BIN,
            "--sandbox-uid",
            k_death_uid,
            "--sandbox-gid",
            k_death_uid};
  }
  bool accepts_client_results() const override { return false; }

  // Start `cmd` on a thread of its own, wait until its processes show, kill the server with
  // SIGKILL and return whether the processes had shown.
  bool kill_server_once_started(const v2::Command& cmd, const std::string& word) {
    const v2::Digest digest = action(cmd);
    std::thread running([&] { (void)execute(digest); });
    const bool started = wait_for_process_with(word, 10s);
    server().kill_and_wait(SIGKILL);
    running.join();
    return started;
  }
};

// Slow or not, the stand-in runs actions as bubblewrap would: their output and exit code
// come through (so the tests below are not passed by a sandbox that runs nothing).
TEST_F(SlowSandboxBuilder, ActionsRunThroughItAsThroughBubblewrap) {
  v2::Command cmd =
      sleeping("0.1", {{"CCREX_SLOW_BWRAP_CHILD_MS", "200"}, {"CCREX_SLOW_BWRAP_OUTER_MS", "200"}});
  cmd.set_arguments(2, "echo ran; exit 3");
  const auto r = execute(action(cmd));
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(r.response.status().code(), 0) << r.response.status().message();
  EXPECT_EQ(r.response.result().exit_code(), 3);
  EXPECT_EQ(blob(r.response.result().stdout_digest()), "ran\n");
}

// The server dies while the builder's first process is still setting up: that process arms
// its death signal only afterwards, bound by then to whoever inherited it, so it lives on
// and starts the action, unless something the server started ends it.
TEST_F(SlowSandboxBuilder, AServerKilledBeforeTheBuilderArmsItsDeathSignalLeavesNothing) {
  const std::string seconds = unique_sleep();
  ASSERT_TRUE(
      kill_server_once_started(sleeping(seconds, {{"CCREX_SLOW_BWRAP_OUTER_MS", "1500"}}), seconds))
      << "the action never started";
  EXPECT_TRUE(gone_after(seconds, 2500ms)) << "the action outlived its server";
}

// The server dies, and the builder's first process with it, while the builder's child is
// setting up the sandbox: the child arms its death signal afterwards, bound by then to
// whoever inherited it, and execs the action's first process, which starts the command,
// unless something the server started ends it.
TEST_F(SlowSandboxBuilder, AServerKilledWhileTheSandboxIsBuiltLeavesNothing) {
  const std::string seconds = unique_sleep();
  ASSERT_TRUE(
      kill_server_once_started(sleeping(seconds, {{"CCREX_SLOW_BWRAP_CHILD_MS", "1500"}}), seconds))
      << "the action never started";
  EXPECT_TRUE(gone_after(seconds, 2500ms)) << "the action outlived its server";
}

// The same with the server alive: the action's time runs out while its sandbox is built,
// and the server kills the builder's process group, which the builder's child has left
// (bubblewrap's --new-session).
TEST_F(SlowSandboxBuilder, AnActionTimedOutWhileTheSandboxIsBuiltLeavesNothing) {
  const std::string seconds = unique_sleep();
  const auto r = execute(action(sleeping(seconds, {{"CCREX_SLOW_BWRAP_CHILD_MS", "2500"}}),
                                {},
                                [](v2::Action& a) { a.mutable_timeout()->set_seconds(1); }));
  EXPECT_EQ(r.response.status().code(), grpc::StatusCode::DEADLINE_EXCEEDED)
      << r.response.status().message();
  EXPECT_TRUE(gone_after(seconds, 3000ms)) << "the action outlived its builder";
}

// Unconfined actions run below ccrex-action-init's PID namespace, which must die with the
// server too.
class UnconfinedServerDeath : public ExecutionFixture {
protected:
  std::vector<std::string> server_args() const override {
    return {"--workers", "2", "--no-sandbox"};
  }
  bool accepts_client_results() const override { return false; }
};

TEST_F(UnconfinedServerDeath, NoProcessOutlivesAKilledServer) {
  const std::string seconds = unique_sleep();
  const v2::Digest digest = action(sleeping(seconds));
  std::thread running([&] { (void)execute(digest); });
  const bool started = wait_for_process_with("sleep " + seconds, 10s);
  server().kill_and_wait(SIGKILL);
  running.join();
  ASSERT_TRUE(started) << "the action never started";
  EXPECT_TRUE(gone_after(seconds, 0ms)) << "the action outlived its server";
}

} // namespace
} // namespace ccrex::test
