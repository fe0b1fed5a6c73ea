// Inputs beyond #include: assembly sources and the assembler's .include/.incbin, the facts
// that decide whether a compile may run elsewhere (time macros, GCC dependency pragmas,
// precompiled headers, ".." after a symlink) and trigraphs.

#include "depscan/scan_cache.h"
#include "depscan/scanner.h"

#include <gtest/gtest.h>

namespace ccrex::depscan {
namespace {

class OneBuiltin final : public BuiltinProber {
public:
  ScanResultOr<std::vector<std::string>>
  builtin_dirs(const std::string&, Language, const std::vector<std::string>&) override {
    return std::vector<std::string>{"/usr/include"};
  }
};

using Files = std::vector<std::string>;

class ScannerInputsTest : public ::testing::Test {
protected:
  ScanResultOr<ScanResult> scan(const std::vector<std::string>& args) {
    Scanner scanner(fs, cache, prober);
    return scanner.scan({"cc", args, "/w", {}});
  }
  ScanResult ok(const std::vector<std::string>& args) {
    auto r = scan(args);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().to_string());
    return r ? std::move(*r) : ScanResult{};
  }

  MemoryFileSystem fs;
  ScanCache cache;
  OneBuiltin prober;
};

TEST_F(ScannerInputsTest, PlainAssemblyIsItsOwnInput) {
  fs.add_file("/w/x.s", "#include <stdio.h>\n\t.text\n\tret\n");
  fs.add_file("/usr/include/stdio.h", "");
  fs.add_file("/usr/include/stdc-predef.h", "");
  fs.add_file("/w/pre.h", "");
  // No preprocessor: '#include' is a comment, and neither the predefined header nor
  // -include is read.
  EXPECT_EQ(ok({"-c", "x.s", "-include", "pre.h"}).files, Files{"x.s"});
  EXPECT_EQ(ok({"-x", "assembler", "-c", "x.s"}).files, Files{"x.s"});
}

TEST_F(ScannerInputsTest, AssemblerIncludeSearchesCwdThenEveryDirectory) {
  fs.add_file("/w/src/x.s", ".include \"defs.inc\"\n.incbin \"blob.bin\"\n");
  fs.add_file("/w/src/defs.inc", ""); // next to the source: GNU as does not look here
  fs.add_file("/w/defs.inc", ".include \"more.inc\"\n#include <never.h>\n");
  fs.add_file("/w/i/defs.inc", "");  // later candidate: the assembler might pick it
  fs.add_file("/w/wa/more.inc", ""); // only in the -Wa,-I directory
  fs.add_file("/w/i/blob.bin", "\x01\x02");
  fs.add_file("/w/i/never.h", "");
  EXPECT_EQ(ok({"-Ii", "-Wa,-Iwa", "-c", "src/x.s"}).files,
            (Files{"src/x.s", "defs.inc", "wa/more.inc", "i/defs.inc", "i/blob.bin"}));
}

TEST_F(ScannerInputsTest, AssemblerIncludeWithAbsoluteName) {
  fs.add_file("/w/x.s", ".incbin \"/data/blob.bin\"\n.incbin \"/data/none.bin\"\n");
  fs.add_file("/data/blob.bin", "b");
  EXPECT_EQ(ok({"-c", "x.s"}).files, (Files{"x.s", "/data/blob.bin"}));
}

TEST_F(ScannerInputsTest, PreprocessedAssemblyHasBothKinds) {
  fs.add_file("/w/x.S", "#include \"defs.h\"\n.include \"m.inc\"\n// .include \"no.inc\"\n");
  fs.add_file("/w/defs.h", "#define X 1\n");
  fs.add_file("/w/m.inc", "");
  fs.add_file("/w/no.inc", "");
  EXPECT_EQ(ok({"-c", "x.S"}).files, (Files{"x.S", "defs.h", "m.inc"}));
  EXPECT_EQ(ok({"-x", "assembler-with-cpp", "-c", "x.S"}).files, (Files{"x.S", "defs.h", "m.inc"}));
}

TEST_F(ScannerInputsTest, IncbinInAsmStatementOfAHeader) {
  fs.add_file("/w/a.c", "#include \"res.h\"\n");
  fs.add_file("/w/res.h", "asm(\".incbin \\\"data.bin\\\"\");\n");
  fs.add_file("/w/i/data.bin", "payload");
  const ScanResult r = ok({"-Ii", "-c", "a.c"});
  EXPECT_EQ(r.files, (Files{"a.c", "res.h", "i/data.bin"}));
  EXPECT_EQ(r.facts, ScanFacts{});
}

TEST_F(ScannerInputsTest, UnnamedIncbinIsAFact) {
  fs.add_file("/w/a.c", "#define F \"x.bin\"\nasm(\".incbin \" F);\n");
  EXPECT_EQ(ok({"-c", "a.c"}).facts.asm_unresolved, "a.c:2: .incbin without a quoted file name");
  fs.add_file("/w/b.s", ".include NAME\n");
  EXPECT_EQ(ok({"-c", "b.s"}).facts.asm_unresolved, "b.s:1: .include NAME");
}

TEST_F(ScannerInputsTest, CommentsCountOnlyForTheAssembler) {
  fs.add_file("/w/a.c", "/* .incbin \"c.bin\" and .include `x` */\n");
  fs.add_file("/w/c.bin", "");
  const ScanResult r = ok({"-c", "a.c"});
  EXPECT_EQ(r.files, Files{"a.c"});
  EXPECT_EQ(r.facts, ScanFacts{});
  fs.add_file("/w/a.s", "/* .incbin \"c.bin\" */\n");
  EXPECT_EQ(ok({"-c", "a.s"}).files, (Files{"a.s", "c.bin"}));
}

TEST_F(ScannerInputsTest, TimeMacrosAreFacts) {
  fs.add_file("/w/a.c", "#include \"v.h\"\nconst char* t = __TIMESTAMP__;\n");
  fs.add_file("/w/v.h", "// __TIMESTAMP__\n#define BUILT __DATE__ \" \" __TIME__\n");
  const ScanResult r = ok({"-c", "a.c"});
  EXPECT_EQ(r.facts.date_time, "v.h:2: __DATE__");
  EXPECT_EQ(r.facts.timestamp, "a.c:2: __TIMESTAMP__");
  // The assembler does not expand them.
  fs.add_file("/w/b.s", ".ascii \"__DATE__\"\n __TIME__\n");
  EXPECT_EQ(ok({"-c", "b.s"}).facts, ScanFacts{});
}

TEST_F(ScannerInputsTest, PragmaDependencyIsAFact) {
  fs.add_file("/w/a.c", "#include \"gen.h\"\n");
  fs.add_file("/w/gen.h", "#pragma GCC dependency \"gen.y\"\n");
  EXPECT_EQ(ok({"-c", "a.c"}).facts.pragma_dependency, "gen.h:1: #pragma GCC dependency gen.y");
}

TEST_F(ScannerInputsTest, PchNextToTheHeader) {
  fs.add_file("/w/a.c", "#include \"all.h\"\n");
  fs.add_file("/w/all.h", "");
  EXPECT_EQ(ok({"-c", "a.c"}).facts.pch, "");
  fs.add_file("/w/all.h.gch", "gpch");
  EXPECT_EQ(ok({"-c", "a.c"}).facts.pch, "/w/all.h.gch");
}

TEST_F(ScannerInputsTest, PchInAnEarlierDirectoryWithoutTheHeader) {
  // gcc tries build/all.h.gch before src/all.h, and uses it even without build/all.h.
  fs.add_file("/w/src/a.c", "#include <all.h>\n");
  fs.add_file("/w/src/all.h", "");
  fs.add_dir("/w/build/all.h.gch"); // a directory of precompiled headers
  EXPECT_EQ(ok({"-Ibuild", "-Isrc", "-c", "src/a.c"}).facts.pch, "/w/build/all.h.gch");
}

TEST_F(ScannerInputsTest, PchInASubdirectoryName) {
  fs.add_file("/w/a.c", "#include <sys/all.h>\n");
  fs.add_file("/w/i/sys/all.h", "");
  EXPECT_EQ(ok({"-Ii", "-c", "a.c"}).facts.pch, "");
  fs.add_file("/w/i/sys/all.h.pch", "");
  EXPECT_EQ(ok({"-Ii", "-c", "a.c"}).facts.pch, "/w/i/sys/all.h.pch");
}

TEST_F(ScannerInputsTest, PchOfAForcedInclude) {
  fs.add_file("/w/a.c", "int x;\n");
  fs.add_file("/w/pre.h", "");
  fs.add_file("/w/pre.h.pch", ""); // clang's -include picks it
  EXPECT_EQ(ok({"-include", "pre.h", "-c", "a.c"}).facts.pch, "/w/pre.h.pch");
  fs.add_file("/abs/pre.h", "");
  fs.add_file("/abs/pre.h.gch", "");
  EXPECT_EQ(ok({"-include", "/abs/pre.h", "-c", "a.c"}).facts.pch, "/abs/pre.h.gch");
}

TEST_F(ScannerInputsTest, PchAppearingLaterInvalidatesAStoredScan) {
  fs.add_file("/w/a.c", "#include <all.h>\n");
  fs.add_file("/w/i/all.h", "");
  fs.add_dir("/w/j");
  EXPECT_EQ(ok({"-Ij", "-Ii", "-c", "a.c"}).facts.pch, "");
  EXPECT_EQ(ok({"-Ij", "-Ii", "-c", "a.c"}).facts.pch, "");
  EXPECT_EQ(cache.stats().result_hits, 1);
  fs.add_file("/w/j/all.h.gch", "");
  EXPECT_EQ(ok({"-Ij", "-Ii", "-c", "a.c"}).facts.pch, "/w/j/all.h.gch");
  // An unrelated precompiled header keeps another scan's record valid only while its own
  // names are unaffected: here it is the one gcc would read.
  fs.remove("/w/j/all.h.gch");
  fs.add_file("/w/j/other.h.gch", "");
  EXPECT_EQ(ok({"-Ij", "-Ii", "-c", "a.c"}).facts.pch, "");
}

TEST_F(ScannerInputsTest, TrigraphsGiveUpOnlyWhenTheStandardConvertsThem) {
  fs.add_file("/w/a.c", "#include \"t.h\"\n");
  fs.add_file("/w/t.h", "?\?=include \"hidden.h\"\n");
  fs.add_file("/w/hidden.h", "");
  EXPECT_EQ(ok({"-c", "a.c"}).files, (Files{"a.c", "t.h"}));
  EXPECT_EQ(ok({"-std=gnu11", "-c", "a.c"}).files, (Files{"a.c", "t.h"}));
  for (const char* mode : {"-std=c99", "-ansi", "-trigraphs"}) {
    auto r = scan({mode, "-c", "a.c"});
    ASSERT_FALSE(r) << mode;
    EXPECT_EQ(r.error().reason, FailureReason::trigraphs) << mode;
    EXPECT_EQ(r.error().detail, "t.h:1: trigraph ?\?=") << mode;
  }
}

TEST_F(ScannerInputsTest, DotDotAfterASymlinkIsAFact) {
  // sym -> a/b: "sym/../h.h" is a/h.h for the kernel (and gcc), h.h when read as text.
  fs.add_file("/w/a/h.h", "int physical;\n");
  fs.add_file("/w/h.h", "int textual;\n");
  fs.add_dir("/w/a/b");
  fs.add_symlink("/w/sym", "a/b");
  fs.add_file("/w/x.c", "#include \"sym/../h.h\"\n");
  const ScanResult r = ok({"-c", "x.c"});
  EXPECT_EQ(r.files, (Files{"x.c", "sym/../h.h"}));
  EXPECT_EQ(r.facts.dotdot_symlink,
            "sym/../h.h (the directory /w when \"..\" is removed textually)");
  // The same through a search directory.
  fs.add_file("/w/y.c", "#include <h.h>\n");
  EXPECT_EQ(ok({"-Isym/..", "-c", "y.c"}).facts.dotdot_symlink,
            "sym/../h.h (the directory /w when \"..\" is removed textually)");
}

TEST_F(ScannerInputsTest, DotDotWithoutSymlinkIsFine) {
  fs.add_file("/w/sub/x.c", "#include \"../h.h\"\n#include \"../inc/../g.h\"\n");
  fs.add_file("/w/h.h", "");
  fs.add_file("/w/g.h", "");
  fs.add_dir("/w/inc");
  fs.add_symlink("/w/link", "sub"); // a symlink without ".." after it is harmless
  const ScanResult r = ok({"-c", "link/x.c"});
  EXPECT_EQ(r.files, (Files{"link/x.c", "link/../h.h", "link/../inc/../g.h"}));
  // link/.. is /w for the kernel too (link -> sub, sub/.. = /w).
  EXPECT_EQ(r.facts.dotdot_symlink, "");
  const ScanResult s = ok({"-c", "sub/x.c"});
  EXPECT_EQ(s.facts.dotdot_symlink, "");
}

} // namespace
} // namespace ccrex::depscan
