// Processes an action leaves behind die with it: a background job (even one that started a
// session of its own) cannot change an output after it was stored, nor act later.

#include "conformance/execution_support.h"
#include "hostile/hostile_support.h"

#include <gtest/gtest.h>

#include <thread>

namespace ccrex::test {
namespace {

using namespace std::chrono_literals;

// These actions write into a host directory the test watches, so they run unconfined:
// this checks the fallback's PID namespace (sandbox_test.cpp checks the sandbox's).
class LeftoverProcesses : public ExecutionFixture {
protected:
  std::vector<std::string> server_args() const override {
    return {"--workers", "2", "--no-sandbox"};
  }
  bool accepts_client_results() const override { return false; }
  util::TempDir m_dir{"ccrex-leftover-"};
};

TEST_F(LeftoverProcesses, BackgroundJobsCannotRewriteStoredOutputs) {
  const std::string late = m_dir.path() + "/late";
  const std::string script = "echo original > out\n"
                             "(sleep 2; chmod u+w out; echo tampered > out; touch "
                             + late
                             + ".bg) &\n"
                               "setsid sh -c 'sleep 2; touch "
                             + late
                             + ".session' &\n"
                               "exit 0\n";
  const auto digest = action(command({"/bin/sh", "-c", script}, {"out"}));
  const auto resp = run_ok(digest);
  ASSERT_EQ(resp.status().code(), 0) << resp.status().message();
  ASSERT_EQ(resp.result().output_files_size(), 1);
  const auto out = resp.result().output_files(0).digest();
  std::this_thread::sleep_for(4s);
  EXPECT_FALSE(util::path_exists(late + ".bg")) << "a background job outlived its action";
  EXPECT_FALSE(util::path_exists(late + ".session"))
      << "a job in a session of its own outlived its action";
  // The stored output still holds what the action produced, under its digest.
  std::string data;
  ASSERT_EQ(get(out, &data), 0);
  EXPECT_EQ(data, "original\n");
  EXPECT_EQ(reapi::to_string(reapi::digest_of(data)), reapi::to_string(out));
}

TEST_F(LeftoverProcesses, ATimedOutActionLeavesNothingRunning) {
  const std::string late = m_dir.path() + "/late";
  const std::string script = "setsid sh -c 'sleep 3; touch " + late + "' & sleep 30\n";
  const auto digest = action(command({"/bin/sh", "-c", script}), {}, [](v2::Action& a) {
    a.mutable_timeout()->set_seconds(1);
  });
  const auto out = execute(digest);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  EXPECT_EQ(out.response.status().code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  std::this_thread::sleep_for(5s);
  EXPECT_FALSE(util::path_exists(late)) << "a process of a timed-out action kept running";
}

} // namespace
} // namespace ccrex::test
