// The first compile of a compiler through a fresh agent: what it runs at once rather than
// one after the other.

#include "agent/compile_handler.h"
#include "util/file.h"
#include "util/strings.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

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
  std::string marker() const { return m_dir.path() + "/version-started"; }
  std::string color_log() const { return m_dir.path() + "/color.log"; }

  // A gcc whose colour probe (the only run with -fdiagnostics-color=always and -E) waits up
  // to ten seconds for an identity probe (`--version`) to start, and logs whether one did.
  std::string waiting_compiler() const {
    const std::string path = m_dir.path() + "/gcc";
    const std::string mark = "'" + marker() + "'";
    std::string script = "#!/bin/sh\n";
    script += "case \"$*\" in\n";
    script += "--version) : >" + mark + " ;;\n";
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

  CompileReply compile(CompileHandler& agent, const std::string& compiler) const {
    CompileRequest req;
    req.argv = {compiler, "-c", "a.c", "-o", "a.o"};
    req.cwd = project();
    req.env = {"HOME=" + m_dir.path(),
               "PATH=/usr/bin:/bin",
               "CCREX_DIR=" + m_dir.path() + "/ccrex",
               "XDG_CONFIG_HOME=" + m_dir.path() + "/config"};
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

} // namespace
} // namespace ccrex::agent
