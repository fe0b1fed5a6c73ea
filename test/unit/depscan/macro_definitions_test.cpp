#include "depscan/directive_lexer.h"
#include "depscan/macro_definitions.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace ccrex::depscan {
namespace {

// Render the header-name definitions of `text` one per line: `NAME "x.h" @line`.
std::string header_macros_of(std::string_view text) {
  std::string out;
  for (const HeaderMacro& m : lex_file(text).macros.header) {
    out += m.macro + " " + (m.angled ? "<" : "\"") + m.header + (m.angled ? ">" : "\"") + " @"
           + std::to_string(m.line) + "\n";
  }
  return out;
}

bool has_hash(const std::vector<uint32_t>& list, std::string_view name) {
  return std::binary_search(list.begin(), list.end(), macro_name_hash(name));
}

TEST(MacroDefinitionsTest, ObjectLikeHeaderNamesAreKept) {
  EXPECT_EQ(header_macros_of("#define A \"a.h\"\n"
                             "#  define B <sys/b-c+d.h>\n"
                             "# define H /* c */ \"h.h\" // trailing\n"
                             "#def\\\nine I \\\n \"i.h\"\n"
                             "#/**/define L \"l.h\"\n"
                             "%:define M <m.h>\n"
                             "#define N\"n.h\"\n"),
            "A \"a.h\" @1\nB <sys/b-c+d.h> @2\nH \"h.h\" @3\nI \"i.h\" @4\nL \"l.h\" @7\n"
            "M <m.h> @8\nN \"n.h\" @9\n");
}

TEST(MacroDefinitionsTest, DefinitionsInCommentsAndLiteralsAreNotDefinitions) {
  EXPECT_EQ(header_macros_of("/* #define A \"a.h\" */\n"
                             "const char* s = \"#define B <b.h>\";\n"
                             "// #define C <c.h>\n"
                             "int x; #define D \"d.h\"\n"),
            "");
}

TEST(MacroDefinitionsTest, OtherBodiesAreHashedAsOther) {
  const MacroDefinitions m = lex_file("#define C OTHER(x)\n"
                                      "#define J \"j.h\" junk\n"
                                      "#define K <a b.h>\n"
                                      "#define P \"a\\\\b.h\"\n"
                                      "#define Q u8\"q.h\"\n"
                                      "#define R <r.h\n"
                                      "#define S <a//b.h>\n")
                                 .macros;
  EXPECT_TRUE(m.header.empty());
  for (const char* name : {"C", "J", "K", "P", "Q", "R", "S"}) {
    EXPECT_TRUE(has_hash(m.other, name)) << name;
  }
  EXPECT_TRUE(m.inert.empty());
  EXPECT_TRUE(m.alias.empty());
}

TEST(MacroDefinitionsTest, OneIdentifierIsAnAlias) {
  const MacroDefinitions m = lex_file("#define A OTHER\n"
                                      "#define B  OTHER_2 /* why */\n"
                                      "#define C OTHER \\\n  + 1\n"
                                      "#define D OTHER extra\n"
                                      "#define E \\\n OTHER\n")
                                 .macros;
  EXPECT_EQ(m.alias, (std::vector<AliasMacro>{{"A", "OTHER"}, {"B", "OTHER_2"}, {"E", "OTHER"}}));
  EXPECT_TRUE(has_hash(m.other, "C")); // the splice continues the body
  EXPECT_TRUE(has_hash(m.other, "D"));
  EXPECT_TRUE(m.header.empty());
}

TEST(MacroDefinitionsTest, BodiesThatCannotNameAHeaderAreInert) {
  const MacroDefinitions m = lex_file("#ifndef GUARD\n#define GUARD\n"
                                      "#define ONE 1\n"
                                      "#define NEG -1\n"
                                      "#define PAREN (x)\n"
                                      "#define F(x) <x.h>\n"
                                      "#endif\n")
                                 .macros;
  for (const char* name : {"GUARD", "ONE", "NEG", "PAREN"}) {
    EXPECT_TRUE(has_hash(m.inert, name)) << name;
  }
  EXPECT_FALSE(has_hash(m.inert, "F")); // function-like: a bare name does not expand
  EXPECT_FALSE(has_hash(m.other, "F"));
  EXPECT_TRUE(m.header.empty());
}

TEST(MacroDefinitionsTest, CommentsAndSplicesDoNotChangeTheDefinition) {
  // The lexer decides most definitions from the part before a comment or backslash; each
  // line must read as its cleaned form does.
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"#define A 1 /* c */\n", "#define A 1\n"},
      {"#define A b // c\n", "#define A b\n"},
      {"#define A /* c */ \"a.h\"\n", "#define A \"a.h\"\n"},
      {"#define A//c\n", "#define A\n"},
      {"#define/**/A \"a.h\"\n", "#define A \"a.h\"\n"},
      {"#define A\\\n \"a.h\"\n", "#define A \"a.h\"\n"},
      {"#define A\\\nB \"a.h\"\n", "#define AB \"a.h\"\n"},
      {"#define F\\\n(x) <x.h>\n", "#define F(x) <x.h>\n"},
      {"#define A/**/(x) \"a.h\"\n", "#define A (x) \"a.h\"\n"},
      {"#define A 1\\\n + 2\n", "#define A 1 + 2\n"},
      {"#define X \\\n  <x.h> // c\n", "#define X <x.h>\n"},
      {"#define X L\\\n\"x.h\"\n", "#define X L\"x.h\"\n"},
      {"#define X \"a\\b.h\" /* c */\n", "#define X \"a\\b.h\"\n"},
  };
  for (const auto& [written, cleaned] : pairs) {
    EXPECT_EQ(lex_file(written).macros, lex_file(cleaned).macros) << written;
  }
}

TEST(MacroDefinitionsTest, CommentMarksInsideAQuotedNameAreText) {
  EXPECT_EQ(header_macros_of("#define X \"a//b.h\"\n#define Y \"c/*d.h\" // c\n"),
            "X \"a//b.h\" @1\nY \"c/*d.h\" @2\n");
}

TEST(MacroDefinitionsTest, DefinesStayOutOfTheDirectiveList) {
  const LexedFile f = lex_file("#define A \"a.h\"\n#include A\n#define B __has_include(<b.h>)\n");
  EXPECT_EQ(print_directives(f.directives), "include computed(A)\nhas_include <b.h>\n");
  EXPECT_EQ(lex_directives("#define A \"a.h\"\n"), std::vector<Directive>{});
}

TEST(MacroDefinitionsTest, CommandLineDefinitions) {
  MacroDefinitions m;
  add_command_line_define("USER_H=\"user.h\"", m);
  add_command_line_define("SYS_H=<sys/x.h>", m);
  add_command_line_define("PLAIN", m);
  add_command_line_define("EMPTY=", m);
  add_command_line_define("ALIAS=OTHER", m);
  add_command_line_define("FN(x)=<x.h>", m);
  add_command_line_define("COMMENT=<a//b.h>", m); // a comment in the compiler's eyes
  finish_macro_definitions(m);
  ASSERT_EQ(m.header.size(), 2U);
  EXPECT_EQ(m.header[0], (HeaderMacro{"USER_H", "user.h", false, 0}));
  EXPECT_EQ(m.header[1], (HeaderMacro{"SYS_H", "sys/x.h", true, 0}));
  EXPECT_TRUE(has_hash(m.inert, "PLAIN"));
  EXPECT_TRUE(has_hash(m.inert, "EMPTY"));
  ASSERT_EQ(m.alias.size(), 1U);
  EXPECT_EQ(m.alias[0], (AliasMacro{"ALIAS", "OTHER"}));
  EXPECT_FALSE(has_hash(m.other, "ALIAS"));
  EXPECT_TRUE(has_hash(m.other, "COMMENT"));
  EXPECT_FALSE(has_hash(m.other, "FN"));
  EXPECT_FALSE(has_hash(m.inert, "FN"));
}

TEST(MacroDefinitionsTest, PredefinedAndIdentifiers) {
  EXPECT_TRUE(may_be_predefined("__FILE__"));
  EXPECT_TRUE(may_be_predefined("_WIN32"));
  EXPECT_TRUE(may_be_predefined("linux"));
  EXPECT_TRUE(may_be_predefined("unix"));
  EXPECT_FALSE(may_be_predefined("USER_H"));
  EXPECT_FALSE(may_be_predefined("_x"));
  EXPECT_TRUE(is_identifier("USER_H"));
  EXPECT_FALSE(is_identifier("A B"));
  EXPECT_FALSE(is_identifier("F(x)"));
  EXPECT_FALSE(is_identifier("1A"));
  EXPECT_EQ(identifiers_in("sys/x86_64-linux.h"),
            (std::vector<std::string_view>{"sys", "x86_64", "linux", "h"}));
  EXPECT_EQ(identifiers_in("v2/1e.h"), (std::vector<std::string_view>{"v2", "h"}));
}

} // namespace
} // namespace ccrex::depscan
