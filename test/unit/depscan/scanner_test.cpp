#include "depscan/scanner.h"

#include <gtest/gtest.h>

namespace ccrex::depscan {
namespace {

// A prober that answers from a table, so resolution tests never run a compiler.
class FakeProber final : public BuiltinProber {
public:
  ScanResultOr<std::vector<std::string>>
  builtin_dirs(const std::string&, Language language, const std::vector<std::string>&) override {
    ++calls;
    return language == Language::cxx ? cxx : c;
  }
  std::vector<std::string> c = {"/usr/include"};
  std::vector<std::string> cxx = {"/usr/include/c++", "/usr/include"};
  int calls = 0;
};

class ScannerTest : public ::testing::Test {
protected:
  ScanResultOr<std::vector<std::string>> scan(const std::vector<std::string>& args,
                                              const std::vector<std::string>& env = {}) {
    Scanner scanner(fs, cache, prober);
    auto r = scanner.scan({"cc", args, "/w", env});
    if (!r) {
      return r.error();
    }
    return r->files;
  }
  std::vector<std::string> ok(const std::vector<std::string>& args,
                              const std::vector<std::string>& env = {}) {
    auto r = scan(args, env);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().to_string());
    return r ? *r : std::vector<std::string>{};
  }

  MemoryFileSystem fs;
  ScanCache cache;
  FakeProber prober;
};

using Files = std::vector<std::string>;

TEST_F(ScannerTest, QuotedIncludeFoundNextToIncluderFirst) {
  fs.add_file("/w/src/a.c", "#include \"x.h\"\n");
  fs.add_file("/w/src/x.h", "");
  fs.add_file("/w/q/x.h", "");
  fs.add_file("/w/i/x.h", "");
  EXPECT_EQ(ok({"-iquote", "q", "-Ii", "-c", "src/a.c"}), (Files{"src/a.c", "src/x.h"}));
}

TEST_F(ScannerTest, IncluderDirectoryAndSearchDirectoryShareOneListing) {
  // inc/ is searched as "-Iinc" (no trailing slash) and as a.h's own directory ("inc/"):
  // both spellings are one directory and must cost one listing.
  fs.add_file("/w/a.c", "#include <a.h>\n");
  fs.add_file("/w/inc/a.h", "#include \"b.h\"\n");
  fs.add_file("/w/inc/b.h", "");
  EXPECT_EQ(ok({"-Iinc", "-c", "a.c"}), (Files{"a.c", "inc/a.h", "inc/b.h"}));
  EXPECT_EQ(fs.listings(), 1);
}

TEST_F(ScannerTest, IquoteBeforeIForQuotedOnly) {
  fs.add_file("/w/a.c", "#include \"x.h\"\n#include <y.h>\n");
  fs.add_file("/w/q/x.h", "");
  fs.add_file("/w/q/y.h", "");
  fs.add_file("/w/i/x.h", "");
  fs.add_file("/w/i/y.h", "");
  EXPECT_EQ(ok({"-Ii", "-iquote", "q", "a.c"}), (Files{"a.c", "q/x.h", "i/y.h"}));
}

TEST_F(ScannerTest, ChainOrderIThenIsystemThenBuiltinThenIdirafter) {
  fs.add_file("/w/a.c", "#include <a.h>\n#include <b.h>\n#include <c.h>\n#include <d.h>\n");
  for (const char* dir : {"/w/i", "/w/s", "/usr/include", "/w/after"}) {
    fs.add_file(std::string(dir) + "/d.h", "");
  }
  fs.add_file("/w/i/a.h", "");
  fs.add_file("/w/s/a.h", "");
  fs.add_file("/w/s/b.h", "");
  fs.add_file("/usr/include/b.h", "");
  fs.add_file("/usr/include/c.h", "");
  fs.add_file("/w/after/c.h", "");
  EXPECT_EQ(ok({"-idirafter", "after", "-isystem", "s", "-I", "i", "a.c"}),
            (Files{"a.c", "i/a.h", "s/b.h", "/usr/include/c.h", "i/d.h"}));
}

TEST_F(ScannerTest, IncludeNextWalksTheChain) {
  fs.add_file("/w/a.c", "#include <x.h>\n");
  fs.add_file("/w/i1/x.h", "#include_next <x.h>\n");
  fs.add_file("/w/i2/x.h", "#include_next \"x.h\"\n");
  fs.add_file("/w/s/x.h", "#include_next <x.h>\n");
  fs.add_file("/usr/include/x.h", "#include_next <x.h>\n");
  EXPECT_EQ(ok({"-Ii1", "-Ii2", "-isystem", "s", "a.c"}),
            (Files{"a.c", "i1/x.h", "i2/x.h", "s/x.h", "/usr/include/x.h"}));
}

TEST_F(ScannerTest, IncludeNextInMainFileActsLikeInclude) {
  fs.add_file("/w/a.c", "#include_next <x.h>\n");
  fs.add_file("/w/i/x.h", "");
  EXPECT_EQ(ok({"-Ii", "a.c"}), (Files{"a.c", "i/x.h"}));
}

TEST_F(ScannerTest, IDirThatIsAlsoSystemDirIsDropped) {
  prober.c = {"/b1", "/usr/include"};
  fs.add_file("/w/a.c", "#include <x.h>\n");
  fs.add_file("/b1/x.h", "");
  fs.add_file("/usr/include/x.h", "");
  // Without gcc's rule -I/usr/include would win over /b1.
  EXPECT_EQ(ok({"-I/usr/include", "a.c"}), (Files{"a.c", "/b1/x.h"}));
}

TEST_F(ScannerTest, DuplicateIDirsKeepFirstPosition) {
  fs.add_file("/w/a.c", "#include <x.h>\n");
  fs.add_file("/w/i/x.h", "#include_next <x.h>\n");
  fs.add_file("/w/j/x.h", "");
  EXPECT_EQ(ok({"-Ii", "-Ij", "-Ii/", "a.c"}), (Files{"a.c", "i/x.h", "j/x.h"}));
}

TEST_F(ScannerTest, SymlinkedDirKeepsCompilerSpelling) {
  fs.add_file("/w/real/x.h", "#include \"y.h\"\n");
  fs.add_file("/w/real/y.h", "");
  fs.add_symlink("/w/inc", "real");
  fs.add_file("/w/a.c", "#include <x.h>\n");
  EXPECT_EQ(ok({"-Iinc", "a.c"}), (Files{"a.c", "inc/x.h", "inc/y.h"}));
}

TEST_F(ScannerTest, DotDotIsKeptLexically) {
  fs.add_file("/w/src/a.c", "#include \"../inc/x.h\"\n");
  fs.add_file("/w/inc/x.h", "#include \"../inc/y.h\"\n");
  fs.add_file("/w/inc/y.h", "");
  EXPECT_EQ(ok({"src/a.c"}), (Files{"src/a.c", "src/../inc/x.h", "src/../inc/../inc/y.h"}));
}

TEST_F(ScannerTest, CyclesTerminate) {
  fs.add_file("/w/a.c", "#include \"a.h\"\n");
  fs.add_file("/w/a.h", "#include \"b.h\"\n");
  fs.add_file("/w/b.h", "#include \"a.h\"\n#include \"b.h\"\n");
  EXPECT_EQ(ok({"a.c"}), (Files{"a.c", "a.h", "b.h"}));
}

TEST_F(ScannerTest, MissingIncludeIsSkipped) {
  fs.add_file("/w/a.c", "#include <nope.h>\n#include \"x.h\"\n");
  fs.add_file("/w/x.h", "");
  EXPECT_EQ(ok({"a.c"}), (Files{"a.c", "x.h"}));
}

TEST_F(ScannerTest, DirectoryIsNotAHeader) {
  fs.add_file("/w/a.c", "#include <x>\n");
  fs.add_dir("/w/i/x");
  fs.add_file("/w/j/x", "");
  EXPECT_EQ(ok({"-Ii", "-Ij", "a.c"}), (Files{"a.c", "j/x"}));
}

TEST_F(ScannerTest, HasIncludeAndBothBranchesCount) {
  fs.add_file("/w/a.c",
              "#if __has_include(<h.h>)\n#include <a.h>\n#else\n#include <b.h>\n#endif\n");
  fs.add_file("/w/i/h.h", "");
  fs.add_file("/w/i/a.h", "");
  fs.add_file("/w/i/b.h", "");
  EXPECT_EQ(ok({"-Ii", "a.c"}), (Files{"a.c", "i/h.h", "i/a.h", "i/b.h"}));
}

TEST_F(ScannerTest, ForcedIncludesFromCwdFirst) {
  fs.add_file("/w/src/a.c", "#include \"x.h\"\n");
  fs.add_file("/w/src/x.h", "");
  fs.add_file("/w/pre.h", "#include \"pre2.h\"\n");
  fs.add_file("/w/pre2.h", "");
  fs.add_file("/w/i/mac.h", "");
  EXPECT_EQ(ok({"-include", "pre.h", "-imacros", "mac.h", "-Ii", "src/a.c"}),
            (Files{"src/a.c", "./pre.h", "./pre2.h", "i/mac.h", "src/x.h"}));
}

TEST_F(ScannerTest, NostdincDropsBuiltins) {
  fs.add_file("/w/a.c", "#include <x.h>\n");
  fs.add_file("/usr/include/x.h", "");
  EXPECT_EQ(ok({"-nostdinc", "a.c"}), (Files{"a.c"}));
  EXPECT_EQ(ok({"a.c"}), (Files{"a.c", "/usr/include/x.h"}));
}

TEST_F(ScannerTest, NostdincxxDropsOnlyCxxBuiltins) {
  fs.add_file("/w/a.cc", "#include <vector>\n#include <x.h>\n");
  fs.add_file("/usr/include/c++/vector", "");
  fs.add_file("/usr/include/x.h", "");
  EXPECT_EQ(ok({"-nostdinc++", "a.cc"}), (Files{"a.cc", "/usr/include/x.h"}));
  EXPECT_EQ(ok({"a.cc"}), (Files{"a.cc", "/usr/include/c++/vector", "/usr/include/x.h"}));
}

TEST_F(ScannerTest, CpathAndLanguageIncludePath) {
  fs.add_file("/w/a.c", "#include <x.h>\n#include <y.h>\n");
  fs.add_file("/w/cp/x.h", "");
  fs.add_file("/w/i/x.h", "");
  fs.add_file("/w/ci/y.h", "");
  fs.add_file("/usr/include/y.h", "");
  EXPECT_EQ(ok({"-Ii", "a.c"}, {"CPATH=cp", "C_INCLUDE_PATH=ci", "CPLUS_INCLUDE_PATH=zz"}),
            (Files{"a.c", "i/x.h", "ci/y.h"}));
  EXPECT_EQ(ok({"a.c"}, {"CPATH=cp"}), (Files{"a.c", "cp/x.h", "/usr/include/y.h"}));
}

TEST_F(ScannerTest, ImplicitPredefIsScanned) {
  fs.add_file("/w/a.c", "");
  fs.add_file("/usr/include/stdc-predef.h", "");
  EXPECT_EQ(ok({"a.c"}), (Files{"a.c", "/usr/include/stdc-predef.h"}));
  EXPECT_EQ(ok({"-ffreestanding", "a.c"}), (Files{"a.c"}));
}

TEST_F(ScannerTest, ComputedIncludeIsACant) {
  fs.add_file("/w/a.c", "#include \"x.h\"\n");
  fs.add_file("/w/x.h", "#include PICK(HEADER)\n");
  auto r = scan({"a.c"});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason, FailureReason::computed_include);
  EXPECT_NE(r.error().detail.find("x.h:1"), std::string::npos);
}

TEST_F(ScannerTest, UnreadableFileIsACant) {
  fs.add_file("/w/a.c", "#include \"x.h\"\n");
  fs.add_file("/w/x.h", "");
  fs.set_unreadable("/w/x.h");
  auto r = scan({"a.c"});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().reason, FailureReason::unreadable_file);
}

TEST_F(ScannerTest, UnsupportedOptionIsACant) {
  fs.add_file("/w/a.c", "");
  for (const char* opt : {"-fmodules", "-I-", "-traditional-cpp", "-iprefix"}) {
    auto r = scan({opt, "x", "a.c"});
    ASSERT_FALSE(r.has_value()) << opt;
    EXPECT_EQ(r.error().reason, FailureReason::unsupported_option) << opt;
  }
}

TEST_F(ScannerTest, ProbeRunsThroughProber) {
  fs.add_file("/w/a.cc", "");
  ok({"a.cc"});
  EXPECT_EQ(prober.calls, 1);
  ok({"-nostdinc++", "a.cc"});
  EXPECT_EQ(prober.calls, 3); // the C list is needed to know the C++-only directories
}

} // namespace
} // namespace ccrex::depscan
