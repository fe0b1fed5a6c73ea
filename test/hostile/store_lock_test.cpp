// One process per store directory: a second server on the same store stops with an error
// naming the first, which keeps working; an action the server started never keeps the lock.

#include "conformance/execution_support.h"
#include "hostile/hostile_support.h"

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>

#include <future>

namespace ccrex::test {
namespace {

class StoreLock : public ExecutionFixture {
protected:
  bool accepts_client_results() const override { return false; }
};

TEST_F(StoreLock, SecondServerOnTheSameStoreStops) {
  const auto r =
      run_server_to_exit({"--listen", "127.0.0.1:0", "--cache-dir", server().cache_dir()});
  EXPECT_FALSE(r.timed_out) << "a second server runs on the same store";
  EXPECT_EQ(r.exit_code, 1);
  const auto lines = lines_of(r.stderr_data);
  ASSERT_EQ(lines.size(), 1U) << r.stderr_data;
  EXPECT_NE(lines[0].find("in use by another process"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("pid " + std::to_string(server().pid())), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("ccrex-server"), std::string::npos) << lines[0];

  // The first one still executes: its work directories were left alone.
  const auto resp = run_ok(action(command({"/bin/sh", "-c", "echo still here > out"}, {"out"})));
  ASSERT_EQ(resp.status().code(), 0) << resp.status().message();
  ASSERT_EQ(resp.result().output_files_size(), 1);
  EXPECT_EQ(blob(resp.result().output_files(0).digest()), "still here\n");
}

TEST(StoreLockRelease, ActionsNeverHoldTheLock) {
  util::TempDir dir;
  const std::string store = dir.path() + "/store";
  auto first = std::make_unique<ServerProcess>(std::vector<std::string>{}, "127.0.0.1:0", store);
  ASSERT_TRUE(first->ok()) << first->error();
  // An action that outlives its server (sleeping in the background).
  v2::Command cmd;
  cmd.add_arguments("/bin/sh");
  cmd.add_arguments("-c");
  cmd.add_arguments("sleep 6");
  v2::Action action;
  *action.mutable_command_digest() = reapi::digest_of(cmd.SerializeAsString());
  *action.mutable_input_root_digest() = reapi::digest_of("");
  Caller c(plain_channel(first->address()), "");
  ASSERT_TRUE(c.upload(cmd.SerializeAsString()).ok());
  ASSERT_TRUE(c.upload(action.SerializeAsString()).ok());
  auto running = std::async(std::launch::async, [&c, &action] {
    return c.execute(reapi::digest_of(action.SerializeAsString()));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const int status = first->kill_and_wait(SIGKILL);
  EXPECT_TRUE(WIFSIGNALED(status));
  (void)running.get();
  // The sleeping action still runs, yet a new server gets the store at once.
  ServerProcess second({}, "127.0.0.1:0", store);
  EXPECT_TRUE(second.ok()) << second.error();
}

} // namespace
} // namespace ccrex::test
