// Options that make the compiler write or read files an action does not model, and the
// environment table: each row must either stay supported or run locally for a stated reason.

#include "toolchain/command_parser.h"
#include "toolchain/environment.h"
#include "util/strings.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace ccrex::toolchain {
namespace {

// "compiler | arguments | reason" ("ok" or an unsupported_reason_name).
constexpr std::string_view k_unusual_cases[] = {
    // -fopt-info appends to a named file; stderr and stdout are streams.
    "gcc | -c -O2 -fopt-info-vec-missed=opt.txt x.c | too_hard_option",
    "gcc | -c -O2 -fopt-info=report x.c | too_hard_option",
    "gcc | -c -O2 -fopt-info x.c | ok",
    "gcc | -c -O2 -fopt-info-all x.c | ok",
    "gcc | -c -O2 -fopt-info-loop=stderr x.c | ok",
    "gcc | -c -O2 -fopt-info-inline-optimized=stdout x.c | ok",
    // gcc's debugging dumps; assembly annotations are harmless.
    "gcc | -c -da x.c | too_hard_option",
    "gcc | -c -dM x.c | too_hard_option",
    "gcc | -c -dH x.c | too_hard_option",
    "gcc | -c -dAp x.c | ok",
    "gcc | -c -dP x.c | ok",
    "clang | -c -dM x.c | ok",
    // gcc compiles twice and compares.
    "gcc | -c -fcompare-debug x.c | too_hard_option",
    "gcc | -c -fcompare-debug=-gtoggle x.c | too_hard_option",
    "gcc | -c -fcompare-debug-second x.c | too_hard_option",
    // clang's reports written to files.
    "clang | -c -fproc-stat-report=stats.csv x.c | too_hard_option",
    "clang | -c -save-stats x.c | too_hard_option",
    "clang | -c -save-stats=obj x.c | too_hard_option",
    "clang | -c -gen-reproducer x.c | too_hard_option",
    "clang | -c -dependency-dot deps.dot x.c | too_hard_option",
    // The assembler writing elsewhere or reading options from a file.
    "gcc | -c -Wa,-o,other.o x.c | too_hard_option",
    "gcc | -c -Wa,@asopts x.c | too_hard_option",
    "gcc | -c -Xassembler -o -Xassembler other.o x.c | too_hard_option",
    "gcc | -c -Wa,-I,inc x.s | ok",
    "gcc | -c -Wa,--noexecstack x.s | ok",
    // Assembly sources compile remotely (the source is an input).
    "gcc | -c x.s -o x.o | ok",
    "gcc | -c -x assembler data.asm | ok",
    "gcc | -c x.S | ok",
    "clang | -c x.s | ok",
    // Trigraph options are plain preprocessor options.
    "gcc | -c -trigraphs x.c | ok",
    "clang | -c -ftrigraphs x.c | ok",
};

CompilerInfo info_for(std::string_view compiler) {
  return {compiler.starts_with("clang") ? CompilerFamily::clang : CompilerFamily::gcc, false};
}

TEST(UnusualOptions, Table) {
  for (const std::string_view row : k_unusual_cases) {
    const auto fields = util::split(row, '|');
    ASSERT_EQ(fields.size(), 3U) << row;
    const std::string compiler(util::trim(fields[0]));
    std::vector<std::string> argv{compiler};
    for (const auto a : util::split(util::trim(fields[1]), ' ', true)) {
      argv.emplace_back(a);
    }
    const auto parsed = parse_command(argv, info_for(compiler));
    const std::string reason =
        parsed.supported() ? "ok"
                           : std::string(unsupported_reason_name(parsed.unsupported->reason));
    EXPECT_EQ(reason, util::trim(fields[2])) << row;
  }
}

TEST(UnusualOptions, OptInfoFileIsNamedInTheReason) {
  const auto parsed =
      parse_command({"gcc", "-c", "-fopt-info-vec=v.txt", "x.c"}, {CompilerFamily::gcc, false});
  ASSERT_FALSE(parsed.supported());
  EXPECT_EQ(parsed.unsupported->detail, "-fopt-info-vec=v.txt appends to v.txt");
}

TEST(CompilerEnvironment, TableIsSortedAndComplete) {
  const auto table = compiler_environment();
  EXPECT_TRUE(std::is_sorted(
      table.begin(), table.end(), [](const auto& a, const auto& b) { return a.name < b.name; }));
  std::set<std::string_view> names;
  for (const auto& v : table) {
    EXPECT_TRUE(names.insert(v.name).second) << v.name;
    EXPECT_EQ(v.policy == EnvPolicy::local, !v.counter.empty()) << v.name;
    EXPECT_FALSE(v.effect.empty()) << v.name;
  }
  // The variables the issue names, and the ones the scanner reads, are all decided.
  for (const char* name : {"CPATH",
                           "C_INCLUDE_PATH",
                           "CPLUS_INCLUDE_PATH",
                           "OBJC_INCLUDE_PATH",
                           "OBJCPLUS_INCLUDE_PATH",
                           "SOURCE_DATE_EPOCH",
                           "GCC_EXEC_PREFIX",
                           "COMPILER_PATH",
                           "GCC_COMPARE_DEBUG",
                           "DEPENDENCIES_OUTPUT",
                           "SUNPRO_DEPENDENCIES",
                           "LANG",
                           "LC_ALL",
                           "LC_MESSAGES",
                           "GCC_COLORS",
                           "CCC_OVERRIDE_OPTIONS"}) {
    EXPECT_EQ(names.count(name), 1U) << name;
  }
}

TEST(CompilerEnvironment, ForwardedNamesMatchTheTable) {
  std::vector<std::string_view> expected;
  for (const auto& v : compiler_environment()) {
    if (v.policy == EnvPolicy::forward) {
      expected.push_back(v.name);
    }
  }
  const auto forwarded = forwarded_environment();
  ASSERT_EQ(forwarded.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(std::string_view(forwarded[i]), expected[i]);
  }
  EXPECT_NE(std::find(expected.begin(), expected.end(), "CPATH"), expected.end());
  EXPECT_EQ(std::find(expected.begin(), expected.end(), "GCC_EXEC_PREFIX"), expected.end());
}

TEST(CompilerEnvironment, LocalVariablesCountEvenWhenEmpty) {
  EXPECT_EQ(local_environment_variable({"PATH=/bin", "CPATH=/x", "LANG=C"}), nullptr);
  const auto* v = local_environment_variable({"PATH=/bin", "GCC_COMPARE_DEBUG="});
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->name, "GCC_COMPARE_DEBUG");
  EXPECT_EQ(v->counter, "compiler_env");
  v = local_environment_variable({"DEPENDENCIES_OUTPUT=x.d"});
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(v->counter, "dependencies_env");
  // A longer name sharing the prefix is another variable.
  EXPECT_EQ(local_environment_variable({"GCC_EXEC_PREFIXES=/x", "SDKROOTS=/y"}), nullptr);
}

} // namespace
} // namespace ccrex::toolchain
