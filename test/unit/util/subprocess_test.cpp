#include "util/file.h"
#include "util/subprocess.h"

#include <gtest/gtest.h>

#include <chrono>

namespace ccrex::util {
namespace {

TEST(Subprocess, CapturesOutputAndExitCode) {
  SubprocessOptions o;
  o.argv = {"sh", "-c", "echo out; echo err >&2; exit 3"};
  const auto r = run_subprocess(o);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->stdout_data, "out\n");
  EXPECT_EQ(r->stderr_data, "err\n");
  EXPECT_FALSE(r->timed_out);
}

TEST(Subprocess, UsesGivenEnvironmentAndCwd) {
  TempDir dir;
  SubprocessOptions o;
  o.argv = {"/bin/sh", "-c", "echo \"$FOO\"; pwd"};
  o.env = std::vector<std::string>{"FOO=bar", "PATH=/usr/bin:/bin"};
  o.cwd = dir.path();
  const auto r = run_subprocess(o);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->stdout_data, "bar\n" + dir.path() + "\n");
}

TEST(Subprocess, RedirectsToFiles) {
  TempDir dir;
  SubprocessOptions o;
  o.argv = {"sh", "-c", "printf abc; printf def >&2"};
  o.stdout_path = dir.path() + "/out";
  o.stderr_path = dir.path() + "/err";
  ASSERT_TRUE(run_subprocess(o));
  EXPECT_EQ(*read_file(o.stdout_path), "abc");
  EXPECT_EQ(*read_file(o.stderr_path), "def");
}

TEST(Subprocess, TimeoutKillsProcessGroup) {
  SubprocessOptions o;
  o.argv = {"sh", "-c", "sleep 30 & sleep 30"};
  o.timeout = std::chrono::milliseconds(200);
  const auto start = std::chrono::steady_clock::now();
  const auto r = run_subprocess(o);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->signal, 9);
  EXPECT_EQ(r->exit_code, 137);
  // The background sleep held the output pipes; killing the group must release them.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(Subprocess, MissingProgramIsAnError) {
  SubprocessOptions o;
  o.argv = {"ccrex-no-such-program-xyz"};
  const auto r = run_subprocess(o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::not_found);
}

TEST(Subprocess, FindInPathSkipsGivenFile) {
  const auto sh = find_in_path("sh", "/usr/bin:/bin");
  ASSERT_TRUE(sh);
  EXPECT_FALSE(find_in_path("ccrex-no-such-program-xyz", "/usr/bin:/bin"));
}

TEST(Subprocess, AbsolutePathListResolvesRelativeEntriesAgainstTheDirectory) {
  EXPECT_EQ(absolute_path_list("/usr/bin:/bin", "/work/p"), "/usr/bin:/bin");
  EXPECT_EQ(absolute_path_list(".:tools:/usr/bin", "/work/p"), "/work/p:/work/p/tools:/usr/bin");
  // An empty entry is the current directory, wherever it is in the list.
  EXPECT_EQ(absolute_path_list(":/bin:", "/work/p"), "/work/p:/bin:/work/p");
  EXPECT_EQ(absolute_path_list("../bin", "/work/p"), "/work/bin");
  EXPECT_EQ(absolute_path_list("", "/work/p"), "/work/p");
}

TEST(Subprocess, FindInPathWithRelativeEntriesSearchesTheGivenDirectory) {
  TempDir dir("ccrex-find-in-path-");
  ASSERT_TRUE(make_dirs(join_path(dir.path(), "tools"), 0755));
  const std::string tool = join_path(dir.path(), "tools/mytool");
  ASSERT_TRUE(write_file_atomic(tool, "#!/bin/sh\n", 0755));
  // The test's own working directory has no tools/: found only through `dir`.
  EXPECT_FALSE(find_in_path("mytool", "tools"));
  EXPECT_EQ(find_in_path("mytool", absolute_path_list("tools", dir.path())), tool);
}

} // namespace
} // namespace ccrex::util
