#include "depscan/content_markers.h"

#include <gtest/gtest.h>

namespace ccrex::depscan {
namespace {

// The file's directives and markers as lex_directives reports them, one per line, each
// with its line number.
std::string lex_markers(std::string_view text) {
  std::string out;
  for (const Directive& d : lex_directives(text)) {
    out += std::to_string(d.line) + " " + print_directives({d});
  }
  return out;
}

TEST(ContentMarkers, PlainSourceHasNone) {
  EXPECT_EQ(lex_markers("#include <a.h>\nint date = 1; /* a.b.c */ const char* s = \"x.y\";\n"),
            "1 include <a.h>\n");
}

TEST(ContentMarkers, TimeMacrosInCodeOnly) {
  EXPECT_EQ(lex_markers("const char* d = __DATE__;\n"
                        "// __TIME__ in a comment\n"
                        "/* __TIMESTAMP__ */ const char* s = \"__TIME__\";\n"
                        "char c = '_'; int __DATE__X, X__TIME__;\n"
                        "#define STAMP __TIMESTAMP__\n"
                        "const char* t = \\\n__TIME__;\n"),
            "1 time_macro __DATE__\n5 time_macro __TIMESTAMP__\n7 time_macro __TIME__\n");
}

TEST(ContentMarkers, TimeMacroAfterRawStringAndNumbers) {
  EXPECT_EQ(lex_markers("auto r = R\"x(__DATE__ \" )x\"; int n = 1'000; auto t = __TIME__;\n"),
            "1 time_macro __TIME__\n");
  EXPECT_EQ(lex_markers("int n = 0x1'2; char c = u8'a'; auto t = __TIME__;\n"),
            "1 time_macro __TIME__\n");
}

TEST(ContentMarkers, PragmaDependency) {
  EXPECT_EQ(lex_markers("#pragma GCC dependency \"parse.y\"\n"
                        "#  pragma GCC dependency <sys.y> extra text\n"
                        "_Pragma(\"GCC dependency \\\"p.y\\\"\")\n"
                        "#pragma GCC dependency FILE\n"
                        "#pragma GCC poison dependency\n"
                        "// #pragma GCC dependency \"c.y\"\n"),
            "1 pragma_dependency \"parse.y\"\n2 pragma_dependency <sys.y>\n"
            "3 pragma_dependency \"p.y\"\n4 pragma_dependency computed(FILE)\n");
}

TEST(ContentMarkers, PragmaPchPreprocess) {
  EXPECT_EQ(lex_markers("# 1 \"a.c\"\n#pragma GCC pch_preprocess \"pch/all.h.gch\"\n"),
            "2 pragma_pch \"pch/all.h.gch\"\n");
}

TEST(ContentMarkers, AssemblerDirectivesInAsmStrings) {
  EXPECT_EQ(lex_markers("asm(\".section .rodata\\n.incbin \\\"data.bin\\\"\\n\");\n"
                        "__asm__(\"\\t.INCLUDE \\\"macros.inc\\\"\");\n"
                        "asm(R\"(.incbin \"raw.bin\", 4)\");\n"),
            "1 asm_incbin \"data.bin\"\n2 asm_include \"macros.inc\"\n3 asm_incbin \"raw.bin\"\n");
}

TEST(ContentMarkers, AssemblerDirectivesInAssemblyCode) {
  EXPECT_EQ(lex_markers("\t.text\n"
                        "\t.include \"defs.inc\"\n"
                        "blob:\t.InCbin\t\"blob.bin\", 0, 16\n"
                        "label: .incbin \"a b.bin\"\n"),
            "2 asm_include \"defs.inc\"\n3 asm_incbin \"blob.bin\"\n4 asm_incbin \"a b.bin\"\n");
}

TEST(ContentMarkers, UnnamedAssemblerOperandsAreComputed) {
  EXPECT_EQ(lex_markers(".incbin FILE\n"
                        "asm(\".incbin \\\"\" PATH \"\\\"\");\n"
                        "asm(\".include \\\"a\\\\\\\\b.inc\\\"\");\n"
                        ".include \"\"\n"),
            "1 asm_incbin computed(FILE)\n2 asm_incbin computed(\")\n"
            "3 asm_include computed(\"a\\\\b.inc\")\n4 asm_include computed(\"\")\n");
}

TEST(ContentMarkers, MemberAccessAndLongerWordsAreNotDirectives) {
  EXPECT_EQ(lex_markers("x.include = 1; y.incbin(2); f().include; a[0].incbin;\n"
                        "s.includes = 2; t = .incbinx; const char* p = \"config.include\";\n"),
            "");
}

TEST(ContentMarkers, AssemblerDirectivesInCommentsAreMarked) {
  EXPECT_EQ(lex_markers("/* .include \"c.inc\" */\n// see .incbin \"d.bin\"\n"),
            "1 asm_include \"c.inc\" (comment)\n2 asm_incbin \"d.bin\" (comment)\n");
  // A comment mentioning the directive in prose gives a computed marker, which matters
  // only for files the assembler reads itself.
  EXPECT_EQ(lex_markers("/// Paths for `.include` directives.\n"),
            "1 asm_include computed(` directives.) (comment)\n");
}

// "?\?" keeps this file itself free of trigraphs.
TEST(ContentMarkers, FirstTrigraphOnly) {
  EXPECT_EQ(lex_markers("?\?=include <x.h>\nconst char* s = \"what?\?!\";\n"), "1 trigraph ?\?=\n");
  EXPECT_EQ(lex_markers("int a;\n// ok?\?/\nint b;\n"), "2 trigraph ?\?/\n");
  EXPECT_EQ(lex_markers("const char* s = \"??? ?? ??x\";\n"), "");
  // Only ??= and ??/ can make or hide a directive.
  EXPECT_EQ(lex_markers("// EXPECT_?\?() (?\?) ?\?! ?\?' ?\?< ?\?> ?\?-\n"), "");
  EXPECT_EQ(lex_markers("int a;\n/* x *?\?/\n/\n"), "2 trigraph ?\?/\n");
}

TEST(ContentMarkers, MarkersSortedAmongDirectives) {
  EXPECT_EQ(lex_markers("#include <a.h>\nconst char* d = __DATE__;\n#include \"b.h\"\n"),
            "1 include <a.h>\n2 time_macro __DATE__\n3 include \"b.h\"\n");
}

} // namespace
} // namespace ccrex::depscan
