// Directives that cannot name a header (#define, #if, #pragma, ...) are skipped without
// building their text unless __has_include may occur in them. These tests pin that the
// quick path answers exactly like the general one: same directives, same line numbers.

#include "depscan/directive_lexer.h"

#include <gtest/gtest.h>

#include <array>
#include <random>
#include <string>
#include <vector>

namespace ccrex::depscan {
namespace {

std::string lex_skipping(std::string_view text) {
  return print_directives(lex_directives(text));
}

TEST(DirectiveLexerSkip, HasIncludeInMultiLineDefine) {
  EXPECT_EQ(lex_skipping("#define A(x) \\\n  (x) + \\\n  __has_include(<a.h>)\n"),
            "has_include <a.h>\n");
}

TEST(DirectiveLexerSkip, HasIncludeSplitBySplice) {
  EXPECT_EQ(lex_skipping("#define A __has_\\\ninclude(<a.h>)\n"), "has_include <a.h>\n");
  EXPECT_EQ(lex_skipping("#if __has_inc\\  \n\\\nlude(\"b.h\")\n#endif\n"),
            "has_include \"b.h\"\n");
  EXPECT_EQ(lex_skipping("#elif __has_include_\\\nnext(<c.h>)\n"), "has_include_next <c.h>\n");
}

// Lex `text` from a heap buffer of exactly its size (no terminator after it), so the
// sanitizer build catches any read past the end.
std::string lex_exact(std::string_view text) {
  const std::vector<char> bytes(text.begin(), text.end());
  return print_directives(lex_directives(std::string_view(bytes.data(), bytes.size())));
}

TEST(DirectiveLexerSkip, BackslashAsTheLastByteOfAnOpenLiteral) {
  // The escape has no byte left to cover: the lexer must stop at the end of the text.
  for (const std::string_view text :
       {"#if __has_include(<a.h>) 'x\\", "#define A \"x\\", "#if B '\\", "#pragma '\\"}) {
    std::string general(text);
    general.insert(1, "/**/"); // forces the general path
    EXPECT_EQ(lex_exact(text), lex_exact(general)) << text;
  }
  EXPECT_EQ(lex_exact("#if __has_include(<a.h>) 'x\\"), "has_include <a.h>\n");
}

TEST(DirectiveLexerSkip, SpliceJoiningOtherIdentifiersIsHarmless) {
  const auto d = lex_directives("#define A foo\\\nbar\n#include <a.h>\n");
  ASSERT_EQ(d.size(), 1u);
  EXPECT_EQ(d[0].line, 3u);
}

TEST(DirectiveLexerSkip, SpliceInsideDirectiveName) {
  EXPECT_EQ(lex_skipping("#de\\\nfine A __has_include(<a.h>)\n"), "has_include <a.h>\n");
  EXPECT_EQ(lex_skipping("#i\\\nf __has_include(<b.h>)\n#endif\n"), "has_include <b.h>\n");
  EXPECT_EQ(lex_skipping("#pra\\\ngma __has_include(<c.h>)\n"), "");
  EXPECT_EQ(lex_skipping("#\\\n  define A __has_include(<d.h>)\n"), "has_include <d.h>\n");
}

TEST(DirectiveLexerSkip, CommentBetweenHashAndName) {
  EXPECT_EQ(lex_skipping("# /* c */ define A __has_include(<a.h>)\n"), "has_include <a.h>\n");
  EXPECT_EQ(lex_skipping("#/**/if __has_include(<b.h>)\n#endif\n"), "has_include <b.h>\n");
  EXPECT_EQ(lex_skipping("#/* c\n */pragma __has_include(<c.h>)\n#include <d.h>\n"),
            "include <d.h>\n");
}

TEST(DirectiveLexerSkip, Digraph) {
  EXPECT_EQ(
      lex_skipping("%:define A __has_include(<a.h>)\n%: if __has_include(\"b.h\")\n%:endif\n"),
      "has_include <a.h>\nhas_include \"b.h\"\n");
  EXPECT_EQ(lex_skipping("%\\\n:define A \\\n __has_include(<c.h>)\n"), "has_include <c.h>\n");
}

TEST(DirectiveLexerSkip, HasIncludeOnlyInCommentOfSkippedLine) {
  EXPECT_EQ(lex_skipping("#if 0 /* __has_include(<a.h>) */\n#define B // __has_include(<b.h>)\n"),
            "");
}

TEST(DirectiveLexerSkip, LongAndEmptyNames) {
  EXPECT_EQ(lex_skipping("#a_directive_name_longer_than_any __has_include(<a.h>)\n"), "");
  EXPECT_EQ(lex_skipping("#\n# 12 \"x.h\" 3\n#!x\n#include <b.h>\n"), "include <b.h>\n");
}

TEST(DirectiveLexerSkip, LineNumbersAfterSkippedLines) {
  const auto d = lex_directives("#define A 1 \\\n 2 /* x\n y */ \\\n 3\n#include <a.h>\n"
                                "#pragma x /*\n#include <no.h>\n*/\n#include <b.h>\n");
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].name, "a.h");
  EXPECT_EQ(d[0].line, 5u);
  EXPECT_EQ(d[1].name, "b.h");
  EXPECT_EQ(d[1].line, 9u);
}

TEST(DirectiveLexerSkip, LineCommentContinuedBySpliceInSkippedLine) {
  EXPECT_EQ(lex_skipping("#endif // x \\\n#include <a.h>\n#include <b.h>\n"), "include <b.h>\n");
}

TEST(DirectiveLexerSkip, LiteralsInSkippedLines) {
  EXPECT_EQ(lex_skipping("#error \"/*\"\n#include <a.h>\n"), "include <a.h>\n");
  EXPECT_EQ(lex_skipping("#define S '/*'\n#include <a.h>\n"), "include <a.h>\n");
  // 1'0 is a number: the next quote opens a character literal, not the digit separator's.
  EXPECT_EQ(lex_skipping("#define N 1'0 + '/*'\n#include <a.h>\n"), "include <a.h>\n");
  EXPECT_EQ(lex_skipping("#warning \"a \\\n b\" /*\n*/\n#include <a.h>\n"), "include <a.h>\n");
}

// The search for __has_include may look past the end of the line, but not past the buffer,
// and must not report a word that only continues on the next line.
TEST(DirectiveLexerSkip, HasIncludeNearLineAndBufferEnd) {
  EXPECT_EQ(lex_skipping("#define A __has_include(<a.h>)"), "has_include <a.h>\n");
  EXPECT_EQ(lex_skipping("#define A x\n#define B __has_include"), "");
  EXPECT_EQ(lex_skipping("#define A __has_inc\nlude(<a.h>)\n" + std::string(40, ' ')), "");
  EXPECT_EQ(lex_skipping("#if __has_includ\n#endif e(<a.h>)\n"), "");
  EXPECT_EQ(lex_skipping("#if 1\n#if __has_include(<b.h>)\n"), "has_include <b.h>\n");
}

// Indentation is skipped 16 bytes at a time: runs longer than that, mixed tabs, and runs that
// reach the end of the buffer.
TEST(DirectiveLexerSkip, LongIndentation) {
  const std::string pad(37, ' ');
  EXPECT_EQ(lex_skipping(pad + "#include <a.h>\n\t \t" + pad + "# include <b.h>\n"),
            "include <a.h>\ninclude <b.h>\n");
  EXPECT_EQ(lex_skipping("int x;\n" + pad + "\t#include <c.h>\nx" + pad + "#include <no.h>\n"),
            "include <c.h>\n");
  EXPECT_EQ(lex_skipping("int x;\n" + pad + "/* c */ #include <d.h>\n" + pad), "include <d.h>\n");
  EXPECT_EQ(lex_skipping("#include <e.h>\n" + pad + "\f#include <f.h>\n"),
            "include <e.h>\ninclude <f.h>\n");
}

// A comment right after the '#' sends every directive down the general path, and changes
// nothing else: random directive lines must lex_skipping the same with and without it. (Quotes are
// preceded by a space so that no piece is taken for a digit separator, which could leave a
// comment open across lines and put the inserted comment inside it.)
TEST(DirectiveLexerSkip, QuickPathMatchesGeneralPath) {
  constexpr std::array<std::string_view, 27> k_pieces = {
      " ",
      "define",
      "if",
      "elif",
      "pragma",
      "endif",
      "include",
      "__has_",
      "_next",
      "x",
      "__has_include",
      "(",
      ")",
      "<a.h>",
      "\"b.h\"",
      "\\\n",
      "\\ \r\n",
      " '/*'",
      "/* c */",
      " 1'0",
      "/* c\n */",
      "\t",
      "\"//\"",
      " 'x'",
      "__has_include(<c.h>)",
      "MACRO",
      "\"\\\n\"",
  };
  std::mt19937 rng(12345);
  for (int round = 0; round < 20000; ++round) {
    std::string quick;
    std::string general;
    const int lines = 1 + static_cast<int>(rng() % 4);
    for (int l = 0; l < lines; ++l) {
      std::string body;
      const int n = 1 + static_cast<int>(rng() % 8);
      for (int k = 0; k < n; ++k) {
        body.append(k_pieces[rng() % k_pieces.size()]);
      }
      quick.append("#").append(body).append("\n");
      general.append("#/**/").append(body).append("\n");
    }
    const auto a = lex_directives(quick);
    const auto b = lex_directives(general);
    ASSERT_EQ(a, b) << "input: " << quick << "\nquick:\n"
                    << print_directives(a) << "general:\n"
                    << print_directives(b);
  }
}

// Runs of ordinary lines are skipped 64 bytes at a time when those bytes hold nothing that
// can open a comment or literal, splice or start a directive. A '\v' (whitespace to the
// lexer) at the end of every line keeps that from ever applying, changing nothing else: random
// texts must lex_skipping the same with and without it. (Lines with a backslash keep theirs out, so
// that no splice is broken.)
TEST(DirectiveLexerSkip, PlainBlocksMatchLineByLine) {
  constexpr std::array<std::string_view, 34> k_pieces = {
      " ",
      "\t",
      "\n",
      "\n",
      "\n",
      "\r\n",
      "int x = 1;",
      "template <typename T> struct S { T value; };",
      "        return std::move(first) + second;",
      "#include <a.h>",
      "#  include \"b.h\"",
      "%:include <c.h>",
      "#if __has_include(<d.h>)",
      "#define M(x) x",
      "// a comment",
      "/* a",
      "b */",
      " * prose",
      "\"s\"",
      "'c'",
      "'",
      "\"",
      "\\\n",
      "R\"(",
      ")\"",
      "1'000",
      "#",
      "x % y",
      "\f",
      "{",
      "}",
      "\x80\xff",
      "                                                                      ",
      "a_long_identifier_that_makes_the_line_longer_than_one_block_of_sixty_four_bytes",
  };
  std::mt19937 rng(2024);
  for (int round = 0; round < 20000; ++round) {
    std::string plain;
    const int n = 1 + static_cast<int>(rng() % 80);
    for (int k = 0; k < n; ++k) {
      plain.append(k_pieces[rng() % k_pieces.size()]);
    }
    std::string marked;
    size_t line_begin = 0;
    for (const char c : plain) {
      if (c == '\n') {
        const std::string_view line = std::string_view(plain).substr(line_begin);
        if (line.substr(0, line.find('\n')).find('\\') == std::string_view::npos) {
          marked.push_back('\v');
        }
        line_begin += line.find('\n') + 1;
      }
      marked.push_back(c);
    }
    const auto a = lex_directives(plain);
    const auto b = lex_directives(marked);
    ASSERT_EQ(a, b) << "input: " << plain << "\nwith blocks:\n"
                    << print_directives(a) << "line by line:\n"
                    << print_directives(b);
  }
}

} // namespace
} // namespace ccrex::depscan
