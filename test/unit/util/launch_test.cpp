#include "util/file.h"
#include "util/launch.h"
#include "util/subprocess.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>

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

TEST(Launch, NeverSwitchesToRoot) {
  SubprocessOptions o;
  o.argv = {"/bin/true"};
  o.identity.user = LaunchUser{0, 0};
  EXPECT_FALSE(run_subprocess(o));
}

} // namespace
} // namespace ccrex::util
