#include "depscan/depfile.h"

#include <gtest/gtest.h>

namespace ccrex::depscan {
namespace {

using Strings = std::vector<std::string>;

TEST(Depfile, SimpleRule) {
  auto r = parse_depfile("a.o: a.c a.h\n");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].targets, Strings{"a.o"});
  EXPECT_EQ((*r)[0].prerequisites, (Strings{"a.c", "a.h"}));
}

TEST(Depfile, ContinuationsAndCrlf) {
  auto r = parse_depfile("a.o: a.c \\\n /usr/include/stdio.h \\\r\n  b.h\r\n");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].prerequisites, (Strings{"a.c", "/usr/include/stdio.h", "b.h"}));
}

TEST(Depfile, EscapedSpacesHashAndDollar) {
  auto r = parse_depfile("a.o: my\\ dir/a\\ b.h x\\#1.h $$HOME.h\n");
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)[0].prerequisites, (Strings{"my dir/a b.h", "x#1.h", "$HOME.h"}));
}

TEST(Depfile, MultipleTargetsAndRules) {
  auto r = parse_depfile("a.o a.d: a.c a.h\n\na.h:\nb.o: b.c\n");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].targets, (Strings{"a.o", "a.d"}));
  EXPECT_TRUE((*r)[1].prerequisites.empty());
  EXPECT_EQ(depfile_prerequisites(*r), (Strings{"a.c", "a.h", "b.c"}));
}

TEST(Depfile, ColonInsidePathIsNotASeparator) {
  auto r = parse_depfile("a.o: dir/x:y.h\n");
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)[0].prerequisites, Strings{"dir/x:y.h"});
}

TEST(Depfile, Errors) {
  EXPECT_FALSE(parse_depfile(": a.h\n"));
  EXPECT_FALSE(parse_depfile("a.o a.h\n"));
  auto empty = parse_depfile("\n\n");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST(Depfile, FormatRoundTrips) {
  const Strings deps = {"src/a.c",
                        "my dir/b.h",
                        "/usr/include/x86_64-linux-gnu/bits/long-name.h",
                        "$x.h",
                        "#y.h",
                        "/usr/include/stdio.h",
                        "/usr/include/stdlib.h"};
  const std::string text = format_make_rule({"a.o"}, deps);
  EXPECT_NE(text.find(" \\\n"), std::string::npos);
  auto rules = parse_depfile(text);
  ASSERT_TRUE(rules);
  ASSERT_EQ(rules->size(), 1u);
  EXPECT_EQ((*rules)[0].targets, Strings{"a.o"});
  EXPECT_EQ((*rules)[0].prerequisites, deps);
}

} // namespace
} // namespace ccrex::depscan
