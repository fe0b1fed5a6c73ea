// Differential check of output naming: run the real gcc and clang on command lines and
// compare the files they create with the outputs parse_command() predicts.

#include "toolchain/command_parser.h"
#include "util/file.h"
#include "util/subprocess.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

namespace ccrex::toolchain {
namespace {

using Strings = std::vector<std::string>;

std::set<std::string> files_under(const std::string& root) {
  std::set<std::string> out;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (entry.is_regular_file()) {
      out.insert(std::filesystem::relative(entry.path(), root).string());
    }
  }
  return out;
}

std::set<std::string> predicted_outputs(const ParsedCommand& p) {
  std::set<std::string> out{p.output_object};
  for (const auto& optional : {p.dependency_file, p.split_dwarf_output, p.coverage_notes_output}) {
    if (optional) {
      out.insert(*optional);
    }
  }
  out.insert(p.other_outputs.begin(), p.other_outputs.end());
  return out;
}

// Run `compiler` with `flags` in a fresh directory holding x.c, sub/z.c and out/, and
// expect exactly the files parse_command() predicts to appear.
void check_outputs(const std::string& compiler, const Strings& flags) {
  if (!util::path_exists(compiler)) {
    GTEST_SKIP() << compiler << " not installed";
  }
  util::TempDir dir("ccrex-toolchain-");
  ASSERT_TRUE(util::make_dirs(dir.path() + "/sub"));
  ASSERT_TRUE(util::make_dirs(dir.path() + "/out"));
  ASSERT_TRUE(util::write_file_atomic(dir.path() + "/x.c", "int f(void) { return 1; }\n"));
  ASSERT_TRUE(util::write_file_atomic(dir.path() + "/sub/z.c", "int g(void) { return 2; }\n"));
  const auto before = files_under(dir.path());

  Strings argv{compiler};
  argv.insert(argv.end(), flags.begin(), flags.end());
  const CompilerInfo info{compiler.find("clang") != std::string::npos ? CompilerFamily::clang
                                                                      : CompilerFamily::gcc,
                          false};
  const auto parsed = parse_command(argv, info);
  ASSERT_TRUE(parsed.supported()) << parsed.unsupported->detail;

  util::SubprocessOptions options;
  options.argv = argv;
  options.cwd = dir.path();
  const auto run = util::run_subprocess(options);
  ASSERT_TRUE(run);
  ASSERT_EQ(run->exit_code, 0) << run->stderr_data;

  std::set<std::string> created;
  for (const auto& f : files_under(dir.path())) {
    if (before.count(f) == 0) {
      created.insert(f);
    }
  }
  EXPECT_EQ(created, predicted_outputs(parsed));
}

class RealCompilerOutputs : public ::testing::TestWithParam<const char*> {
protected:
  void check(const Strings& flags) { check_outputs(GetParam(), flags); }
};

TEST_P(RealCompilerOutputs, DependencyFileNextToObject) {
  check({"-c", "-MD", "x.c", "-o", "out/y.o"});
}
TEST_P(RealCompilerOutputs, DependencyFileWithoutOutputOption) {
  check({"-c", "-MMD", "sub/z.c"});
}
TEST_P(RealCompilerOutputs, DependencyFileWithoutExtension) {
  check({"-c", "-MD", "x.c", "-o", "out/noext"});
}
TEST_P(RealCompilerOutputs, DependencyFileFromMF) {
  check({"-c", "-MD", "-MF", "out/deps.d", "x.c", "-o", "out/a.b.o"});
}
TEST_P(RealCompilerOutputs, DependencyFileThroughWp) {
  check({"-c", "-Wp,-MD,out/wp.d", "x.c", "-o", "out/wp.o"});
}
TEST_P(RealCompilerOutputs, SplitDwarfWithDebugInfo) {
  check({"-c", "-g", "-gsplit-dwarf", "x.c", "-o", "out/a.b.o"});
}
TEST_P(RealCompilerOutputs, SplitDwarfWithoutDebugInfo) {
  check({"-c", "-gsplit-dwarf", "x.c", "-o", "out/w.obj"});
}
TEST_P(RealCompilerOutputs, SplitDwarfWithoutOutputOption) {
  check({"-c", "-g", "-gsplit-dwarf", "sub/z.c"});
}
TEST_P(RealCompilerOutputs, CoverageNotes) {
  check({"-c", "--coverage", "x.c", "-o", "out/c.o"});
}
TEST_P(RealCompilerOutputs, CoverageNotesWithoutOutputOption) {
  check({"-c", "-ftest-coverage", "sub/z.c"});
}
TEST_P(RealCompilerOutputs, StackUsage) {
  check({"-c", "-fstack-usage", "x.c", "-o", "out/s.o"});
}
TEST_P(RealCompilerOutputs, Everything) {
  check({"-c", "-MMD", "-MP", "-g", "-gsplit-dwarf", "--coverage", "sub/z.c", "-o", "out/all.o"});
}

INSTANTIATE_TEST_SUITE_P(Compilers,
                         RealCompilerOutputs,
                         ::testing::Values("/usr/bin/gcc", "/usr/bin/clang"),
                         [](const ::testing::TestParamInfo<const char*>& param_info) {
                           return std::string(util::basename(param_info.param));
                         });

TEST(RealClangOutputs, TimeTrace) {
  check_outputs("/usr/bin/clang", {"-c", "-ftime-trace", "x.c", "-o", "out/t.o"});
}
TEST(RealClangOutputs, SplitDwarfSingleFile) {
  check_outputs("/usr/bin/clang", {"-c", "-g", "-gsplit-dwarf=single", "x.c", "-o", "out/s.o"});
}
TEST(RealClangOutputs, SplitDwarfLineTablesOnly) {
  check_outputs("/usr/bin/clang",
                {"-c", "-gline-tables-only", "-gsplit-dwarf", "x.c", "-o", "out/l.o"});
}
TEST(RealClangOutputs, SplitDwarfDebugTurnedOff) {
  check_outputs("/usr/bin/clang", {"-c", "-g", "-g0", "-gsplit-dwarf", "x.c", "-o", "out/n.o"});
}
TEST(RealGccOutputs, AuxInfo) {
  check_outputs("/usr/bin/gcc", {"-c", "-aux-info", "out/protos.txt", "x.c", "-o", "out/a.o"});
}
TEST(RealGccOutputs, SplitDwarfDebugTurnedOff) {
  check_outputs("/usr/bin/gcc", {"-c", "-g", "-g0", "-gsplit-dwarf", "x.c", "-o", "out/n.o"});
}

} // namespace
} // namespace ccrex::toolchain
