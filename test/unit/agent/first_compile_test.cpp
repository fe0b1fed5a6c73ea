// The first compile of a compiler through a fresh agent: what it runs at once rather than
// one after the other.

#include "agent/compile_handler.h"
#include "util/file.h"
#include "util/strings.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace ccrex::agent {
namespace {

class FirstCompileTest : public ::testing::Test {
protected:
  void SetUp() override {
    if (::access("/usr/bin/gcc", X_OK) != 0) {
      GTEST_SKIP() << "no /usr/bin/gcc";
    }
    ASSERT_TRUE(util::make_dirs(project() + "/.git"));
    ASSERT_TRUE(util::write_file_atomic(project() + "/a.c", "int a(void) { return 1; }\n"));
    m_null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    ASSERT_GE(m_null, 0);
  }
  void TearDown() override {
    if (m_null >= 0) {
      ::close(m_null);
    }
  }

  std::string project() const { return m_dir.path() + "/project"; }
  std::string marker() const { return m_dir.path() + "/identity-started"; }
  std::string color_log() const { return m_dir.path() + "/color.log"; }

  // A gcc whose colour probe (the only run with -fdiagnostics-color=always and -E) waits up
  // to ten seconds for the identity probe (`-x c -E -v /dev/null`) to start, and logs
  // whether it did.
  std::string waiting_compiler() const {
    const std::string path = m_dir.path() + "/gcc";
    const std::string mark = "'" + marker() + "'";
    std::string script = "#!/bin/sh\n";
    script += "case \"$*\" in\n";
    script += "'-x c -E -v /dev/null') : >" + mark + " ;;\n";
    script += "*-fdiagnostics-color=always*-E*)\n";
    script += "  i=0\n";
    script +=
        "  while [ ! -e " + mark + " ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done\n";
    script +=
        "  if [ -e " + mark + " ]; then echo overlapped; else echo alone; fi >>'" + color_log();
    script += "' ;;\n";
    script += "esac\n";
    script += "exec /usr/bin/gcc \"$@\"\n";
    EXPECT_TRUE(util::write_file_atomic(path, script));
    EXPECT_EQ(::chmod(path.c_str(), 0755), 0);
    return path;
  }

  std::string cache_dir() const { return m_dir.path() + "/ccrex"; }
  std::vector<std::string> env() const {
    return {"HOME=" + m_dir.path(),
            "PATH=/usr/bin:/bin",
            "CCREX_DIR=" + cache_dir(),
            "XDG_CONFIG_HOME=" + m_dir.path() + "/config"};
  }

  CompileReply compile(CompileHandler& agent, const std::string& compiler) const {
    CompileRequest req;
    req.argv = {compiler, "-c", "a.c", "-o", "a.o"};
    req.cwd = project();
    req.env = env();
    req.stdout_fd = req.stderr_fd = m_null;
    return agent.compile(req);
  }

  util::TempDir m_dir{"first-compile-"};
  int m_null = -1;
};

// The colour probe and the compiler's identity probes run at the same time, not the
// identity after the colours.
TEST_F(FirstCompileTest, IdentityIsProbedWhileTheColourProbeRuns) {
  const std::string gcc = waiting_compiler();
  CompileHandler agent;
  const auto reply = compile(agent, gcc);
  EXPECT_FALSE(reply.run_locally) << reply.reason;
  const auto log = util::read_file(color_log());
  ASSERT_TRUE(log) << "the colour probe did not run";
  EXPECT_EQ(*log, "overlapped\n");
}

// warm_up() opens the store (and starts the embedded server) of the configured cache
// directory, which otherwise waits for the first compile.
TEST_F(FirstCompileTest, WarmUpOpensTheStoreBeforeAnyCompile) {
  CompileHandler agent;
  EXPECT_FALSE(util::path_exists(cache_dir() + "/store/lock"));
  agent.warm_up(env());
  EXPECT_TRUE(util::path_exists(cache_dir() + "/store/lock"));
  const auto reply = compile(agent, "/usr/bin/gcc");
  EXPECT_FALSE(reply.run_locally) << reply.reason;
  EXPECT_TRUE(util::path_exists(project() + "/a.o"));
}

// A warm-up that cannot open the store does not take it for one another process holds
// (which would send the compiles of the next 30 s to the local compiler): the first
// compile tries again, and succeeds once the store can be opened.
TEST_F(FirstCompileTest, AFailedWarmUpLeavesTheStoreToTheFirstCompile) {
  ASSERT_TRUE(util::make_dirs(cache_dir()));
  ASSERT_TRUE(util::write_file_atomic(cache_dir() + "/store", "not a directory\n"));
  CompileHandler agent;
  agent.warm_up(env());
  EXPECT_FALSE(util::path_exists(cache_dir() + "/store/lock"));
  ASSERT_EQ(::unlink((cache_dir() + "/store").c_str()), 0);
  const auto reply = compile(agent, "/usr/bin/gcc");
  EXPECT_FALSE(reply.run_locally) << reply.reason;
  EXPECT_TRUE(util::path_exists(cache_dir() + "/store/lock"));
}

// A disabled configuration (CCREX_DISABLE) opens nothing.
TEST_F(FirstCompileTest, WarmUpOfADisabledConfigurationOpensNothing) {
  CompileHandler agent;
  auto disabled = env();
  disabled.emplace_back("CCREX_DISABLE=1");
  agent.warm_up(disabled);
  EXPECT_FALSE(util::path_exists(cache_dir() + "/store"));
}

} // namespace
} // namespace ccrex::agent
