#include "depscan/directive_lexer.h"

#include <gtest/gtest.h>

namespace ccrex::depscan {
namespace {

std::string lex(std::string_view text) {
  return print_directives(lex_directives(text));
}

TEST(DirectiveLexer, AngledAndQuoted) {
  EXPECT_EQ(lex("#include <a.h>\n#include \"b.h\"\n"), "include <a.h>\ninclude \"b.h\"\n");
}

TEST(DirectiveLexer, IncludeNextAndImport) {
  EXPECT_EQ(lex("#include_next <a.h>\n#import \"b.h\"\n"), "include_next <a.h>\nimport \"b.h\"\n");
}

TEST(DirectiveLexer, SpacesAroundHash) {
  EXPECT_EQ(lex("  #   include   <a.h>  \n\t#\tinclude\t\"b.h\"\n"),
            "include <a.h>\ninclude \"b.h\"\n");
}

TEST(DirectiveLexer, NoSpaceBeforeOperand) {
  EXPECT_EQ(lex("#include<a.h>\n#include\"b.h\"\n"), "include <a.h>\ninclude \"b.h\"\n");
}

TEST(DirectiveLexer, NoTrailingNewline) {
  EXPECT_EQ(lex("#include <a.h>"), "include <a.h>\n");
}

TEST(DirectiveLexer, LineCommentHidesInclude) {
  EXPECT_EQ(lex("// #include <a.h>\n#include <b.h>\n"), "include <b.h>\n");
}

TEST(DirectiveLexer, LineCommentContinuedBySplice) {
  EXPECT_EQ(lex("// comment \\\n#include <a.h>\n#include <b.h>\n"), "include <b.h>\n");
}

TEST(DirectiveLexer, BlockCommentHidesInclude) {
  EXPECT_EQ(lex("/*\n#include <a.h>\n*/\n#include <b.h>\n"), "include <b.h>\n");
}

TEST(DirectiveLexer, BlockCommentBeforeHash) {
  EXPECT_EQ(lex("/* x */ #include <a.h>\n"), "include <a.h>\n");
}

TEST(DirectiveLexer, MultiLineCommentBeforeHashKeepsLineStart) {
  EXPECT_EQ(lex("/* x\n y */ #include <a.h>\n"), "include <a.h>\n");
}

TEST(DirectiveLexer, CodeBeforeCommentIsNotLineStart) {
  EXPECT_EQ(lex("int x; /* x\n */ #include <a.h>\n"), "");
}

TEST(DirectiveLexer, CommentBetweenHashAndName) {
  EXPECT_EQ(lex("# /* c */ include /* d */ <a.h> // e\n"), "include <a.h>\n");
}

TEST(DirectiveLexer, CommentAfterIncludeSpanningLines) {
  EXPECT_EQ(lex("#include <a.h> /* start\n#include <x.h>\n end */\n#include <b.h>\n"),
            "include <a.h>\ninclude <b.h>\n");
}

TEST(DirectiveLexer, StringHidesInclude) {
  EXPECT_EQ(lex("const char* s = \"\\n#include <a.h>\";\n#include <b.h>\n"), "include <b.h>\n");
}

TEST(DirectiveLexer, StringWithEscapedQuote) {
  EXPECT_EQ(lex("f(\"\\\" /*\");\n#include <b.h>\n"), "include <b.h>\n");
}

TEST(DirectiveLexer, StringContinuedBySplice) {
  EXPECT_EQ(lex("f(\"abc\\\n#include <a.h>\");\n#include <b.h>\n"), "include <b.h>\n");
}

TEST(DirectiveLexer, CharLiteralQuote) {
  EXPECT_EQ(lex("char c = '\"';\n#include <b.h>\n"), "include <b.h>\n");
}

TEST(DirectiveLexer, CharLiteralSlashStar) {
  EXPECT_EQ(lex("char c = '/'; char d = '*';\n#include <b.h>\n"), "include <b.h>\n");
}

TEST(DirectiveLexer, DigitSeparatorIsNotCharLiteral) {
  EXPECT_EQ(lex("int x = 1'000'000; /* c */\n#include <b.h>\n"), "include <b.h>\n");
  EXPECT_EQ(lex("int x = 0x1'F; const char* s = \"'\";\n#include <b.h>\n"), "include <b.h>\n");
}

TEST(DirectiveLexer, UnterminatedApostropheEndsAtLineEnd) {
  EXPECT_EQ(lex("#if 0\ndon't do this\n#endif\n#include <b.h>\n"), "include <b.h>\n");
  EXPECT_EQ(lex("#error don't\n#include <b.h>\n"), "include <b.h>\n");
}

TEST(DirectiveLexer, RawStringHidesInclude) {
  EXPECT_EQ(lex("auto s = R\"(\n#include <a.h>\n)\";\n#include <b.h>\n"), "include <b.h>\n");
}

TEST(DirectiveLexer, RawStringWithDelimiter) {
  EXPECT_EQ(lex("auto s = R\"xy(\n)\"\n#include <a.h>\n)xy\";\n#include <b.h>\n"),
            "include <b.h>\n");
}

TEST(DirectiveLexer, RawStringPrefixes) {
  EXPECT_EQ(lex("auto s = u8R\"(\n#include <a.h>\n)\"; auto t = LR\"(\n#include <c.h>\n)\";\n"
                "#include <b.h>\n"),
            "include <b.h>\n");
}

TEST(DirectiveLexer, IdentifierEndingInRIsNotRawPrefix) {
  // FOOR"(" is an identifier followed by an ordinary string.
  EXPECT_EQ(lex("FOOR\"(\";\n#include <b.h>\n"), "include <b.h>\n");
}

TEST(DirectiveLexer, SpliceInsideDirectiveName) {
  EXPECT_EQ(lex("#inc\\\nlude <a.h>\n"), "include <a.h>\n");
}

TEST(DirectiveLexer, SpliceBetweenHashAndName) {
  EXPECT_EQ(lex("#\\\n include \\\n <a.h>\n"), "include <a.h>\n");
}

TEST(DirectiveLexer, SpliceInsideHeaderName) {
  EXPECT_EQ(lex("#include <a\\\n.h>\n"), "include <a.h>\n");
}

TEST(DirectiveLexer, SpliceMakesHashNotLineStart) {
  EXPECT_EQ(lex("int x; \\\n#include <a.h>\n"), "");
}

TEST(DirectiveLexer, CrlfLineEnds) {
  EXPECT_EQ(lex("#include <a.h>\r\n// x\r\n#include \"b.h\"\r\n"),
            "include <a.h>\ninclude \"b.h\"\n");
}

TEST(DirectiveLexer, CrlfSplice) {
  EXPECT_EQ(lex("#inc\\\r\nlude <a.h>\r\n"), "include <a.h>\n");
}

TEST(DirectiveLexer, SpliceWithTrailingSpace) {
  EXPECT_EQ(lex("// c \\  \n#include <a.h>\n#include <b.h>\n"), "include <b.h>\n");
}

TEST(DirectiveLexer, DigraphHash) {
  EXPECT_EQ(lex("%:include <a.h>\n"), "include <a.h>\n");
}

TEST(DirectiveLexer, HashInMiddleOfLineIgnored) {
  EXPECT_EQ(lex("x # include <a.h>\n"), "");
}

TEST(DirectiveLexer, SlashesInsideHeaderNameAreNotComments) {
  EXPECT_EQ(lex("#include <a//b.h>\n#include \"c/*d.h\"\n"),
            "include <a//b.h>\ninclude \"c/*d.h\"\n");
}

TEST(DirectiveLexer, ComputedInclude) {
  const auto d = lex_directives("#include FOO_H\n");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_TRUE(d[0].computed);
  EXPECT_EQ(d[0].name, "FOO_H");
}

TEST(DirectiveLexer, HasIncludeInIf) {
  EXPECT_EQ(lex("#if __has_include(<a.h>) && __has_include ( \"b.h\" )\n#endif\n"),
            "has_include <a.h>\nhas_include \"b.h\"\n");
}

TEST(DirectiveLexer, HasIncludeNextInElif) {
  EXPECT_EQ(lex("#if 0\n#elif defined(X) || __has_include_next(<a.h>)\n#endif\n"),
            "has_include_next <a.h>\n");
}

TEST(DirectiveLexer, HasIncludeWithoutParenIgnored) {
  EXPECT_EQ(lex("#ifdef __has_include\n#endif\n#if defined __has_include\n#endif\n"), "");
}

TEST(DirectiveLexer, ComputedHasIncludeInIf) {
  const auto d = lex_directives("#if __has_include(HEADER)\n#endif\n");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_TRUE(d[0].computed);
  EXPECT_EQ(d[0].kind, DirectiveKind::has_include);
}

TEST(DirectiveLexer, HasIncludeMacroParameterInDefineIgnored) {
  EXPECT_EQ(lex("#define HAS(x) __has_include(x)\n#define HAS_A __has_include(<a.h>)\n"),
            "has_include <a.h>\n");
}

TEST(DirectiveLexer, HasIncludeInStringIgnored) {
  EXPECT_EQ(lex("#if 0 // __has_include(<x.h>)\n#error \"__has_include(<y.h>)\"\n#endif\n"), "");
}

TEST(DirectiveLexer, HasIncludeAcrossSplicedLines) {
  EXPECT_EQ(lex("#if 1 && \\\n  __has_include(<a.h>)\n#endif\n"), "has_include <a.h>\n");
}

TEST(DirectiveLexer, ConditionalsNotEvaluated) {
  EXPECT_EQ(lex("#if 0\n#include <a.h>\n#else\n#include <b.h>\n#endif\n"),
            "include <a.h>\ninclude <b.h>\n");
}

TEST(DirectiveLexer, OtherDirectivesIgnored) {
  EXPECT_EQ(lex("#define X <a.h>\n#pragma once\n#line 3 \"f.c\"\n# 1 \"x.h\"\n"), "");
}

TEST(DirectiveLexer, LineNumbers) {
  const auto d = lex_directives("\n/*\n*/\n#include <a.h>\n#inc\\\nlude <b.h>\n#include <c.h>\n");
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0].line, 4u);
  EXPECT_EQ(d[1].line, 5u);
  EXPECT_EQ(d[2].line, 7u);
}

TEST(DirectiveLexer, EmptyAndGarbageInput) {
  EXPECT_EQ(lex(""), "");
  EXPECT_EQ(lex("#"), "");
  EXPECT_EQ(lex("#include"), "include computed()\n");
  EXPECT_EQ(lex("\"unterminated\n#include <a.h>\n"), "include <a.h>\n");
  EXPECT_EQ(lex("/* unterminated\n#include <a.h>\n"), "");
  EXPECT_EQ(lex("R\"x(unterminated\n#include <a.h>\n"), "");
}

} // namespace
} // namespace ccrex::depscan
