#include "depscan/scanner.h"

#include <gtest/gtest.h>

namespace ccrex::depscan {
namespace {

// Built-in directories from a table, so that no compiler runs.
class TableProber final : public BuiltinProber {
public:
  ScanResultOr<std::vector<std::string>>
  builtin_dirs(const std::string&, Language, const std::vector<std::string>&) override {
    return std::vector<std::string>{"/usr/include"};
  }
};

// The pattern that motivates computed includes: a widely included header that pulls in a
// user-chosen header when the build names one.
constexpr const char* k_user_h_config = "#if defined(USER_H)\n#include USER_H\n#endif\n";

class ComputedIncludeTest : public ::testing::Test {
protected:
  ScanResultOr<std::vector<std::string>> scan(const std::vector<std::string>& args) {
    Scanner scanner(fs, cache, prober);
    auto r = scanner.scan({"cc", args, "/w", {}});
    if (!r) {
      return r.error();
    }
    return r->files;
  }
  std::vector<std::string> ok(const std::vector<std::string>& args) {
    auto r = scan(args);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().to_string());
    return r ? *r : std::vector<std::string>{};
  }
  // Expect the scan to give up on a computed include and return the failure's detail.
  std::string gives_up(const std::vector<std::string>& args) {
    auto r = scan(args);
    EXPECT_FALSE(r.has_value());
    if (r.has_value()) {
      return {};
    }
    EXPECT_EQ(r.error().reason, FailureReason::computed_include) << r.error().to_string();
    return r.error().detail;
  }

  MemoryFileSystem fs;
  ScanCache cache;
  TableProber prober;
};

using Inputs = std::vector<std::string>;

TEST_F(ComputedIncludeTest, CommandLineDefinitionIsResolved) {
  fs.add_file("/w/a.c", "#include \"config.h\"\n");
  fs.add_file("/w/config.h", k_user_h_config);
  fs.add_file("/w/user.h", "");
  EXPECT_EQ(ok({"-DUSER_H=\"user.h\"", "-c", "a.c"}), (Inputs{"a.c", "config.h", "user.h"}));
  EXPECT_EQ(ok({"-D", "USER_H=\"user.h\"", "-c", "a.c"}), (Inputs{"a.c", "config.h", "user.h"}));
  EXPECT_EQ(ok({"-Wp,-DUSER_H=\"user.h\"", "-c", "a.c"}), (Inputs{"a.c", "config.h", "user.h"}));
  EXPECT_EQ(ok({"--define-macro=USER_H=\"user.h\"", "a.c"}), (Inputs{"a.c", "config.h", "user.h"}));
}

TEST_F(ComputedIncludeTest, CommandLineDefinitionsArePartOfTheStoredScansKey) {
  fs.add_file("/w/a.c", k_user_h_config);
  fs.add_file("/w/a.h", "");
  fs.add_file("/w/b.h", "");
  EXPECT_EQ(ok({"-DUSER_H=\"a.h\"", "a.c"}), (Inputs{"a.c", "a.h"}));
  EXPECT_EQ(ok({"-DUSER_H=\"b.h\"", "a.c"}), (Inputs{"a.c", "b.h"}));
  EXPECT_EQ(ok({"a.c"}), (Inputs{"a.c"}));
}

TEST_F(ComputedIncludeTest, NeverDefinedAddsNothing) {
  fs.add_file("/w/a.c", "#include \"config.h\"\n");
  fs.add_file("/w/config.h", k_user_h_config);
  fs.add_file("/w/user.h", "");
  EXPECT_EQ(ok({"a.c"}), (Inputs{"a.c", "config.h"}));
  // -DUSER_H means 1, and a header guard is empty: `#include 1` fails, so neither adds one.
  EXPECT_EQ(ok({"-DUSER_H", "a.c"}), (Inputs{"a.c", "config.h"}));
  fs.add_file("/w/guard.h", "#ifndef USER_H\n#define USER_H\n#endif\n");
  fs.add_file("/w/b.c", "#include \"guard.h\"\n#include \"config.h\"\n");
  EXPECT_EQ(ok({"b.c"}), (Inputs{"b.c", "guard.h", "config.h"}));
}

TEST_F(ComputedIncludeTest, DefinitionInAnEarlierHeader) {
  fs.add_file("/w/a.c", "#include \"defs.h\"\n#include \"config.h\"\n");
  fs.add_file("/w/defs.h", "#define USER_H \"user.h\"\n");
  fs.add_file("/w/config.h", k_user_h_config);
  fs.add_file("/w/user.h", "");
  EXPECT_EQ(ok({"a.c"}), (Inputs{"a.c", "defs.h", "config.h", "user.h"}));
}

TEST_F(ComputedIncludeTest, DefinitionFromForcedInclude) {
  fs.add_file("/w/a.c", "#include \"config.h\"\n");
  fs.add_file("/w/defs.h", "#define USER_H \"user.h\"\n");
  fs.add_file("/w/config.h", k_user_h_config);
  fs.add_file("/w/user.h", "");
  EXPECT_EQ(ok({"-imacros", "defs.h", "a.c"}), (Inputs{"a.c", "./defs.h", "config.h", "user.h"}));
}

TEST_F(ComputedIncludeTest, DefinitionAfterTheUseIsFoundByTheFixpoint) {
  // config.h uses USER_H and NEXT_H before late.h defines them; next.h, found through
  // NEXT_H, defines USER_H once more: that candidate needs another round for the first use.
  fs.add_file("/w/a.c", "#include \"config.h\"\n#include \"late.h\"\n");
  fs.add_file("/w/config.h", "#include USER_H\n#include NEXT_H\n");
  fs.add_file("/w/late.h", "#define USER_H \"user.h\"\n#define NEXT_H \"next.h\"\n");
  fs.add_file("/w/user.h", "");
  fs.add_file("/w/next.h", "#define USER_H \"second.h\"\n");
  fs.add_file("/w/second.h", "");
  EXPECT_EQ(ok({"a.c"}), (Inputs{"a.c", "config.h", "late.h", "user.h", "next.h", "second.h"}));
}

TEST_F(ComputedIncludeTest, EveryDefinitionIsACandidate) {
  fs.add_file("/w/a.c", "#include \"defs.h\"\n#include \"config.h\"\n");
  fs.add_file("/w/defs.h",
              "#ifdef BIG\n#define USER_H \"big.h\"\n#elif SMALL\n#define USER_H \"small.h\"\n"
              "#else\n#define USER_H \"missing.h\"\n#endif\n#undef USER_H\n"
              "#define USER_H \"big.h\"\n");
  fs.add_file("/w/config.h", k_user_h_config);
  fs.add_file("/w/big.h", "");
  fs.add_file("/w/small.h", "");
  // missing.h exists nowhere: a compile that reached it would fail.
  EXPECT_EQ(ok({"-DUSER_H=\"small.h\"", "a.c"}),
            (Inputs{"a.c", "defs.h", "config.h", "small.h", "big.h"}));
}

TEST_F(ComputedIncludeTest, NonLiteralDefinitionGivesUp) {
  fs.add_file("/w/a.c", "#include \"defs.h\"\n#include \"config.h\"\n");
  fs.add_file("/w/defs.h", "#define USER_H \"user.h\"\n#define USER_H PATH(user)\n");
  fs.add_file("/w/config.h", k_user_h_config);
  fs.add_file("/w/user.h", "");
  const std::string detail = gives_up({"a.c"});
  EXPECT_NE(detail.find("config.h:2"), std::string::npos) << detail;
  EXPECT_NE(detail.find("defs.h"), std::string::npos) << detail;
}

TEST_F(ComputedIncludeTest, NonLiteralDefinitionOnTheCommandLineOrLaterGivesUp) {
  fs.add_file("/w/a.c", "#include \"config.h\"\n");
  fs.add_file("/w/config.h", k_user_h_config);
  fs.add_file("/w/user.h", "");
  gives_up({"-DUSER_H=OTHER", "-DOTHER=PATH(user)", "a.c"});
  gives_up({"-DUSER_H=\"user.h\" extra", "a.c"});
  // A definition in a file found only through the macro itself.
  fs.add_file("/w/user.h", "#define USER_H \"a\" \"b\"\n");
  gives_up({"-DUSER_H=\"user.h\"", "a.c"});
}

TEST_F(ComputedIncludeTest, DefinitionAsAnotherMacroTakesThatMacrosCandidates) {
  fs.add_file("/w/a.c", "#include \"defs.h\"\n#include \"config.h\"\n");
  fs.add_file("/w/defs.h",
              "#define USER_H PLATFORM_H\n#define PLATFORM_H LINUX_H\n"
              "#define LINUX_H \"linux.h\"\n#define PLATFORM_H <plat.h>\n");
  fs.add_file("/w/config.h", k_user_h_config);
  fs.add_file("/w/linux.h", "");
  fs.add_file("/w/plat.h", "");
  fs.add_file("/usr/include/plat.h", "");
  EXPECT_EQ(ok({"a.c"}), (Inputs{"a.c", "defs.h", "config.h", "/usr/include/plat.h", "linux.h"}));
  // From the command line too, and through a name defined only later.
  fs.add_file("/w/b.c", "#include \"config.h\"\n#include \"late.h\"\n");
  fs.add_file("/w/late.h", "#define LATER \"linux.h\"\n");
  EXPECT_EQ(ok({"-DUSER_H=LATER", "b.c"}), (Inputs{"b.c", "config.h", "late.h", "linux.h"}));
}

TEST_F(ComputedIncludeTest, AliasCyclesAndUndefinedTargetsAddNothing) {
  fs.add_file("/w/a.c", "#include \"config.h\"\n");
  fs.add_file("/w/config.h",
              "#define USER_H A\n#define A B\n#define B A\n#define C USER_H\n"
              "#include USER_H\n#include C\n#include NOWHERE_H\n");
  EXPECT_EQ(ok({"-DNOWHERE_H=UNDEFINED", "a.c"}), (Inputs{"a.c", "config.h"}));
}

TEST_F(ComputedIncludeTest, AliasOfAPredefinedOrNonLiteralNameGivesUp) {
  fs.add_file("/w/a.c", "#include \"config.h\"\n");
  fs.add_file("/w/config.h", k_user_h_config);
  const std::string detail = gives_up({"-DUSER_H=__FILE__", "a.c"});
  EXPECT_NE(detail.find("predefine"), std::string::npos) << detail;
  fs.add_file("/w/b.c", "#include \"defs.h\"\n#include \"config.h\"\n");
  fs.add_file("/w/defs.h", "#define USER_H MIDDLE\n#define MIDDLE PATH(user)\n");
  gives_up({"b.c"});
}

TEST_F(ComputedIncludeTest, OperandsOtherThanOneNameGiveUp) {
  fs.add_file("/w/a.c", "#include PATH(user)\n");
  gives_up({"a.c"});
  fs.add_file("/w/b.c", "#include __FILE__\n");
  gives_up({"b.c"});
  fs.add_file("/w/c.c", "#include A B\n");
  gives_up({"c.c"});
}

TEST_F(ComputedIncludeTest, HasIncludeOfAMacro) {
  fs.add_file("/w/a.c", "#include \"defs.h\"\n#if __has_include(CFG_H)\n#include CFG_H\n#endif\n");
  fs.add_file("/w/defs.h", "#define CFG_H \"cfg.h\"\n");
  EXPECT_EQ(ok({"a.c"}), (Inputs{"a.c", "defs.h"}));
  // The stored scan knows cfg.h was looked up: once it appears, the answer changes.
  fs.add_file("/w/cfg.h", "");
  EXPECT_EQ(ok({"a.c"}), (Inputs{"a.c", "defs.h", "cfg.h"}));
  fs.add_file("/w/b.c", "#if __has_include(UNDEFINED_H)\n#endif\n");
  EXPECT_EQ(ok({"b.c"}), (Inputs{"b.c"}));
  fs.add_file("/w/c.c", "#if __has_include(ALIAS_H)\n#endif\n");
  EXPECT_EQ(ok({"-DALIAS_H=CFG_H", "-DCFG_H=\"cfg.h\"", "c.c"}), (Inputs{"c.c", "cfg.h"}));
  gives_up({"-DALIAS_H=CFG_H", "-DCFG_H=CFG(1)", "c.c"});
}

TEST_F(ComputedIncludeTest, AngledDefinitionUsesTheBracketSearchPath) {
  fs.add_file("/w/a.c", "#include \"config.h\"\n");
  fs.add_file("/w/config.h", k_user_h_config);
  fs.add_file("/w/user.h", ""); // next to the includer: not searched for <user.h>
  fs.add_file("/w/inc/user.h", "");
  EXPECT_EQ(ok({"-Iinc", "-DUSER_H=<user.h>", "a.c"}), (Inputs{"a.c", "config.h", "inc/user.h"}));
  fs.add_file("/w/defs/d.h", "#define USER_H <sub/user.h>\n");
  fs.add_file("/w/inc/sub/user.h", "");
  fs.add_file("/w/b.c", "#include <d.h>\n#include \"config.h\"\n");
  EXPECT_EQ(ok({"-Iinc", "-Idefs", "b.c"}),
            (Inputs{"b.c", "defs/d.h", "config.h", "inc/sub/user.h"}));
}

TEST_F(ComputedIncludeTest, AngledDefinitionWithAMacroInsideGivesUp) {
  fs.add_file("/w/a.c", "#include \"config.h\"\n");
  fs.add_file("/w/config.h", k_user_h_config);
  fs.add_file("/w/inc/linux/user.h", "");
  fs.add_file("/w/inc/sub/user.h", "");
  // `linux` is predefined as 1 in GNU modes: the compiler would look for <1/user.h>.
  gives_up({"-Iinc", "-DUSER_H=<linux/user.h>", "a.c"});
  gives_up({"-Iinc", "-DUSER_H=<sub/user.h>", "-Dsub=x", "a.c"});
  // A definition of `h` anywhere changes "user.h", even in a file visited later.
  fs.add_file("/w/inc/sub/user.h", "#define h 2\n");
  gives_up({"-Iinc", "-DUSER_H=<sub/user.h>", "a.c"});
}

TEST_F(ComputedIncludeTest, IncludeNextOfAMacroContinuesTheSearch) {
  fs.add_file("/w/a.c", "#include <w.h>\n");
  fs.add_file("/w/i1/w.h", "#include_next WRAPPED\n");
  fs.add_file("/w/i2/w.h", "");
  EXPECT_EQ(ok({"-Ii1", "-Ii2", "-DWRAPPED=<w.h>", "a.c"}), (Inputs{"a.c", "i1/w.h", "i2/w.h"}));
}

TEST_F(ComputedIncludeTest, WarmScanSeesAChangedDefinition) {
  fs.add_file("/w/a.c", "#include \"defs.h\"\n#include \"config.h\"\n");
  fs.add_file("/w/defs.h", "#define USER_H \"one.h\"\n");
  fs.add_file("/w/config.h", k_user_h_config);
  fs.add_file("/w/one.h", "");
  fs.add_file("/w/two.h", "");
  EXPECT_EQ(ok({"a.c"}), (Inputs{"a.c", "defs.h", "config.h", "one.h"}));
  EXPECT_EQ(ok({"a.c"}), (Inputs{"a.c", "defs.h", "config.h", "one.h"}));
  EXPECT_EQ(cache.stats().result_hits, 1);
  fs.add_file("/w/defs.h", "#define USER_H \"two.h\" \n");
  EXPECT_EQ(ok({"a.c"}), (Inputs{"a.c", "defs.h", "config.h", "two.h"}));
}

} // namespace
} // namespace ccrex::depscan
