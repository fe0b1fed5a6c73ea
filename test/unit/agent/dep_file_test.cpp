// Dependency files: the layouts gcc and clang really write (run here on paths of many
// lengths, with and without -MP, with names make needs escaped) parse and format back to
// the same bytes, and a rewritten root gives what the compiler writes for that root.

#include "agent/dep_file.h"
#include "util/file.h"
#include "util/subprocess.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <string>
#include <vector>

namespace ccrex::agent {
namespace {

// Run `compiler` -MD in `dir` on a source that includes a header below `dir`; return the
// dependency file (empty when the compiler is missing).
std::string dep_file_of(const std::string& compiler,
                        const std::string& dir,
                        const std::vector<std::string>& extra) {
  util::SubprocessOptions o;
  o.argv = {compiler, "-c", dir + "/src/a.c", "-I" + dir + "/include", "-o", dir + "/a.o"};
  o.argv.insert(o.argv.end(), extra.begin(), extra.end());
  o.argv.insert(o.argv.end(), {"-MD", "-MF", dir + "/a.d"});
  o.cwd = dir;
  auto r = util::run_subprocess(o);
  if (!r || r->exit_code != 0) {
    return "";
  }
  return util::read_file(dir + "/a.d").value_or("");
}

// A tree whose root has `length` characters or more.
std::string make_tree(const util::TempDir& base, size_t length, const std::string& header) {
  std::string root = base.path() + "/r";
  while (root.size() < length) {
    root += "x";
  }
  EXPECT_TRUE(util::make_dirs(root + "/src"));
  EXPECT_TRUE(util::make_dirs(root + "/include/sub"));
  EXPECT_TRUE(util::write_file_atomic(root + "/include/" + header, "#define H 1\n"));
  EXPECT_TRUE(util::write_file_atomic(root + "/include/sub/second_header_name.h", "int y;\n"));
  EXPECT_TRUE(util::write_file_atomic(root + "/src/a.c",
                                      "#include \"" + header
                                          + "\"\n#include \"sub/second_header_name.h\"\nint x;\n"));
  return root;
}

struct Style {
  const char* compiler;
  DepFileStyle style;
};

class DepFileReal : public ::testing::TestWithParam<Style> {};

TEST_P(DepFileReal, CompilerLayoutsRoundTripAndRewriteExactly) {
  const auto [compiler, style] = GetParam();
  if (::access(compiler, X_OK) != 0) {
    GTEST_SKIP() << compiler << " is not installed";
  }
  util::TempDir base;
  int checked = 0;
  for (const std::vector<std::string>& extra :
       {std::vector<std::string>{}, std::vector<std::string>{"-MP"}}) {
    for (const std::string header : {"h.h", "with space.h", "hash#mark.h"}) {
      for (size_t length : {20, 55, 90}) {
        for (size_t other : {25, 66}) {
          util::TempDir one;
          util::TempDir two;
          const std::string a = make_tree(one, length, header);
          const std::string b = make_tree(two, other, header);
          const std::string text_a = dep_file_of(compiler, a, extra);
          const std::string text_b = dep_file_of(compiler, b, extra);
          ASSERT_FALSE(text_a.empty() || text_b.empty()) << compiler << " wrote no dependency file";
          auto parsed = parse_dep_file(text_a);
          ASSERT_TRUE(parsed) << text_a;
          EXPECT_EQ(format_dep_file(*parsed, style), text_a);
          // What the compiler wrote below `a`, rewritten to `b`, is what it writes below `b`.
          auto rewritten = rewrite_dep_file(text_a, style, {{a, b}});
          ASSERT_TRUE(rewritten) << rewritten.error().message();
          EXPECT_EQ(*rewritten, text_b) << compiler << " " << length << " -> " << other;
          ++checked;
        }
      }
    }
  }
  EXPECT_EQ(checked, 36);
}

INSTANTIATE_TEST_SUITE_P(Compilers,
                         DepFileReal,
                         ::testing::Values(Style{"/usr/bin/gcc", DepFileStyle::gcc},
                                           Style{"/usr/bin/clang", DepFileStyle::clang}));

TEST(DepFile, TextWithoutTheRootIsKept) {
  const std::string text = "a.o: a.c b.h\n";
  EXPECT_EQ(*rewrite_dep_file(text, DepFileStyle::gcc, {{"/engine/root", "/home/me"}}), text);
}

TEST(DepFile, LayoutsItCannotReproduceAreRefused) {
  // Wrapped where gcc would not have wrapped: formatting it again would differ.
  const std::string odd = "a.o: \\\n /engine/root/a.c\n";
  EXPECT_FALSE(rewrite_dep_file(odd, DepFileStyle::gcc, {{"/engine/root", "/home/me"}}));
  // A root make must escape cannot be replaced textually.
  const std::string text = "a.o: /engine/root/a.c\n";
  EXPECT_FALSE(rewrite_dep_file(text, DepFileStyle::gcc, {{"/engine/root", "/home/my dir"}}));
  // Broken shapes.
  for (const std::string bad :
       {"", "a.o\n", "a.o: b.c", "a.o: b.c\nc.h\n", "a.o: b.c c.h\nx.h:\n"}) {
    EXPECT_FALSE(parse_dep_file(bad)) << bad;
  }
}

} // namespace
} // namespace ccrex::agent
