#include "agent/pipeline.h"
#include "agent/shared_probes.h"
#include "util/file.h"
#include "util/strings.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>

namespace ccrex::agent {
namespace {

// A gcc that writes each command line it gets to a log before running the real one.
class SharedProbesTest : public ::testing::Test {
protected:
  void SetUp() override {
    if (::access("/usr/bin/gcc", X_OK) != 0) {
      GTEST_SKIP() << "no /usr/bin/gcc";
    }
    ASSERT_TRUE(util::write_file_atomic(compiler(),
                                        "#!/bin/sh\nprintf '%s\\n' \"$*\" >>'" + log()
                                            + "'\nexec /usr/bin/gcc \"$@\"\n"));
    ASSERT_EQ(::chmod(compiler().c_str(), 0755), 0);
    ASSERT_TRUE(util::write_file_atomic(m_dir.path() + "/a.c", "#include <stdio.h>\nint a;\n"));
    ASSERT_TRUE(util::write_file_atomic(m_dir.path() + "/b.cpp", "#include <vector>\nint b;\n"));
  }

  std::string compiler() const { return m_dir.path() + "/gcc"; }
  std::string log() const { return m_dir.path() + "/argv.log"; }

  // How many times the compiler ran with exactly `args`.
  long runs_with(const std::string& args) const {
    const auto text = util::read_file(log());
    if (!text) {
      return 0;
    }
    const auto lines = util::split(*text, '\n');
    return std::count(lines.begin(), lines.end(), args);
  }

  // Find the dependencies of compiling `source` as the pipeline does: identity first.
  void scan(PipelineServices& services, const std::string& source) {
    toolchain::ParseOptions po;
    po.cwd = m_dir.path();
    const auto cmd = toolchain::parse_command(
        {compiler(), "-c", source, "-o", source + ".o"}, services.detector.detect(compiler()), po);
    ASSERT_TRUE(cmd.supported());
    ASSERT_TRUE(services.toolchains.get(compiler(), *cmd.language));
    auto deps =
        services.dependencies.find(cmd, compiler(), m_dir.path(), {"HOME=/nonexistent"}, true);
    ASSERT_TRUE(deps) << deps.error().message();
    EXPECT_FALSE(deps->from_compiler) << deps->scanner_gave_up;
    EXPECT_GT(deps->files.size(), 1U); // the source and the system headers it includes
  }

  util::TempDir m_dir{"shared-probes-"};
};

// The identity's `-x c -E -v /dev/null` and `-x c++ ...` are the scanner's probes too: the
// first compile of a compiler runs each once, not once for the identity and again for the
// scanner.
TEST_F(SharedProbesTest, ScannerTakesTheIdentityIncludeLists) {
  PipelineServices services;
  scan(services, "a.c");
  EXPECT_EQ(runs_with("-x c++ -E -v /dev/null"), 0); // a C compile needs no C++ list
  scan(services, "b.cpp");
  EXPECT_EQ(runs_with("-x c -E -v /dev/null"), 1);
  EXPECT_EQ(runs_with("-x c++ -E -v /dev/null"), 1);
  EXPECT_EQ(services.dependencies.builtin_prober().runs(), 0);
}

// Other probes pass through untouched, and a failed include-list probe hands nothing over,
// even when its output has a list.
TEST_F(SharedProbesTest, OnlySuccessfulIncludeListProbesAreHandedOver) {
  const std::string failing = m_dir.path() + "/failing-gcc";
  ASSERT_TRUE(util::write_file_atomic(failing,
                                      "#!/bin/sh\n"
                                      "printf '#include <...> search starts here:\\n /x\\n' >&2\n"
                                      "printf 'End of search list.\\n' >&2\n"
                                      "exit 1\n"));
  ASSERT_EQ(::chmod(failing.c_str(), 0755), 0);
  depscan::CompilerProber prober;
  const auto runner = sharing_include_probes(toolchain::default_probe_runner(), prober);
  auto version = runner({compiler(), "--version"});
  ASSERT_TRUE(version);
  EXPECT_EQ(version->exit_code, 0);
  EXPECT_EQ(runs_with("--version"), 1);
  auto failed = runner({failing, "-x", "c", "-E", "-v", "/dev/null"});
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->exit_code, 1);
  // Nothing was remembered, so the prober runs the compiler itself, which fails.
  EXPECT_FALSE(prober.builtin_dirs(failing, depscan::Language::c, {}));
  // A successful one is remembered: the prober does not run the compiler again.
  ASSERT_TRUE(runner({compiler(), "-x", "c", "-E", "-v", "/dev/null"}));
  auto dirs = prober.builtin_dirs(compiler(), depscan::Language::c, {});
  ASSERT_TRUE(dirs) << dirs.error().to_string();
  EXPECT_FALSE(dirs->empty());
  EXPECT_EQ(prober.runs(), 0);
  EXPECT_EQ(runs_with("-x c -E -v /dev/null"), 1);
}

} // namespace
} // namespace ccrex::agent
