#include "util/file.h"
#include "util/launch.h"
#include "util/subprocess.h"
#include "util/worker_pool.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <thread>
#include <vector>

namespace ccrex::util {
namespace {

// A child with an identity goes through spawn_launched: everything run_subprocess offers
// still works, and the limits are set.
TEST(Launch, SetsTheLimitsAndKeepsRedirectionsDirectoryAndDescriptors) {
  TempDir dir;
  ASSERT_TRUE(write_file_atomic(dir.path() + "/passed", "through a descriptor"));
  const int fd = ::open((dir.path() + "/passed").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  const int high = ::fcntl(fd, F_DUPFD_CLOEXEC, 64);
  ::close(fd);
  SubprocessOptions o;
  o.argv = {"/bin/sh", "-c", "ulimit -n; ulimit -f; pwd; cat <&3; echo; echo err >&2; exit 4"};
  o.env = std::vector<std::string>{"PATH=/usr/bin:/bin"};
  o.cwd = dir.path();
  o.pass_fds = {high};
  o.identity.limits = {{RLIMIT_NOFILE, 77, 77}, {RLIMIT_FSIZE, 1024, 2048}};
  const auto r = run_subprocess(o);
  ::close(high);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->exit_code, 4);
  // ulimit -f counts blocks of 512 bytes.
  EXPECT_EQ(r->stdout_data, "77\n2\n" + dir.path() + "\nthrough a descriptor\n");
  EXPECT_EQ(r->stderr_data, "err\n");
}

TEST(Launch, TheChildStartsWithNoSignalBlockedOrIgnored) {
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  struct sigaction old {};
  ASSERT_EQ(::sigaction(SIGUSR1, &ignore, &old), 0);
  SubprocessOptions o;
  o.argv = {"/bin/sh", "-c", "kill -USR1 $$; echo survived"};
  o.identity.limits = {{RLIMIT_NOFILE, 64, 64}};
  const auto r = run_subprocess(o);
  ::sigaction(SIGUSR1, &old, nullptr);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->signal, SIGUSR1) << r->stdout_data;
}

TEST(Launch, AProgramThatCannotRunIsAnErrorNotAChild) {
  SubprocessOptions o;
  o.argv = {"/nonexistent/program"};
  o.identity.limits = {{RLIMIT_NOFILE, 64, 64}};
  const auto r = run_subprocess(o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("/nonexistent/program"), std::string::npos);
}

TEST(Launch, ARootServerSwitchesTheChildToTheUserWithNoGroups) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "switching user needs root";
  }
  SubprocessOptions o;
  o.argv = {"/bin/sh", "-c", "id -u; id -g; id -G; grep CapEff /proc/self/status"};
  o.identity.user = LaunchUser{65534, 65534};
  const auto r = run_subprocess(o);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stdout_data, "65534\n65534\n65534\nCapEff:\t0000000000000000\n") << r->stderr_data;
}

// Whether `pid` has ended (gone, or a zombie nobody reaped yet).
bool launched_child_ended(pid_t pid) {
  const auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) {
    return true;
  }
  const size_t paren = stat->rfind(')');
  return paren != std::string::npos && stat->size() > paren + 2 && (*stat)[paren + 2] == 'Z';
}

// A process that started a child with die_with_parent is killed: the child goes with it.
TEST(Launch, AChildThatDiesWithItsParentGoesWhenItsParentIsKilled) {
  TempDir dir;
  const std::string pid_file = dir.path() + "/pid";
  const pid_t starter = ::fork();
  ASSERT_GE(starter, 0);
  if (starter == 0) {
    SubprocessOptions o;
    o.argv = {"/bin/sh",
              "-c",
              "echo $$ > " + pid_file + ".tmp; mv " + pid_file + ".tmp " + pid_file
                  + "; exec sleep 30"};
    o.die_with_parent = true;
    ::_exit(run_subprocess(o) ? 0 : 1);
  }
  std::string text;
  for (int i = 0; i < 200 && text.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    text = read_file(pid_file).value_or("");
  }
  ::kill(starter, SIGKILL);
  int status = 0;
  ::waitpid(starter, &status, 0);
  ASSERT_FALSE(text.empty()) << "the child never started";
  const auto child = static_cast<pid_t>(std::stol(text));
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = launched_child_ended(child);
    if (!gone) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  if (!gone) {
    ::kill(child, SIGKILL);
  }
  EXPECT_TRUE(gone) << "the child outlived the process that started it";
}

// The kernel sends the death signal when the thread that started the child ends, not the
// process: a child started by a thread that then ends is killed at once. (Why the server
// waits for each action on the thread that started it.)
TEST(Launch, TheDeathSignalFollowsTheThreadThatStartedTheChild) {
  const std::vector<std::string> args = {"/bin/sleep", "30"};
  std::vector<char*> argv;
  for (const auto& a : args) {
    argv.push_back(const_cast<char*>(a.c_str())); // NOLINT: the exec API is not const-correct
  }
  argv.push_back(nullptr);
  char* envp[] = {nullptr};
  LaunchPlan plan;
  plan.program = argv[0];
  plan.argv = argv.data();
  plan.envp = envp;
  plan.die_with_parent = true;
  pid_t child = -1;
  std::thread starter([&] { child = spawn_launched(plan).value_or(-1); });
  starter.join();
  ASSERT_GT(child, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
}

// A pool thread is busy while its task waits for the child, so it does not retire under
// it; other threads of the pool retiring meanwhile do not touch the child either.
TEST(Launch, AChildThatDiesWithItsParentLivesAsLongAsThePoolTaskThatStartedIt) {
  WorkerPool pool({.max_threads = 2, .retire_after = std::chrono::milliseconds(10)});
  std::promise<Result<SubprocessResult>> result;
  pool.submit([&] {
    SubprocessOptions o;
    o.argv = {"/bin/sh", "-c", "sleep 0.5; echo done"};
    o.die_with_parent = true;
    result.set_value(run_subprocess(o));
  });
  pool.submit([] {}); // a second thread, which retires while the child sleeps
  const auto r = result.get_future().get();
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->signal, 0);
  EXPECT_EQ(r->stdout_data, "done\n");
}

TEST(Launch, NeverSwitchesToRoot) {
  SubprocessOptions o;
  o.argv = {"/bin/true"};
  o.identity.user = LaunchUser{0, 0};
  EXPECT_FALSE(run_subprocess(o));
}

} // namespace
} // namespace ccrex::util
