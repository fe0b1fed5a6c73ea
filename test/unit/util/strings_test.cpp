#include "util/strings.h"

#include <gtest/gtest.h>

namespace ccrex::util {
namespace {

TEST(Strings, SplitAndJoin) {
  EXPECT_EQ(split("a::b", ':').size(), 3U);
  EXPECT_EQ(split("a::b", ':', true).size(), 2U);
  EXPECT_EQ(join({"a", "b", "c"}, ", "), "a, b, c");
  EXPECT_EQ(trim("  x y\r\n"), "x y");
}

TEST(Strings, ReplaceAll) {
  EXPECT_EQ(replace_all("/e/root/a.c /e/root/b.h", "/e/root", "/home/me"),
            "/home/me/a.c /home/me/b.h");
  EXPECT_EQ(replace_all("aaa", "aa", "b"), "ba");
  EXPECT_EQ(replace_all("abc", "", "x"), "abc");
  EXPECT_EQ(replace_all("", "a", "b"), "");
}

TEST(Strings, ParseSize) {
  EXPECT_EQ(*parse_size("100"), 100);
  EXPECT_EQ(*parse_size("5G"), 5LL << 30);
  EXPECT_EQ(*parse_size("512MiB"), 512LL << 20);
  EXPECT_EQ(*parse_size("4k"), 4096);
  EXPECT_FALSE(parse_size("5X"));
  EXPECT_FALSE(parse_size("G"));
  EXPECT_FALSE(parse_size("-1"));
  EXPECT_FALSE(parse_size("99999999999T"));
}

TEST(Strings, ParseBoolAcceptsOnlyKnownWords) {
  for (const char* t : {"1", "true", "YES", "on"}) {
    EXPECT_TRUE(*parse_bool(t)) << t;
  }
  for (const char* f : {"0", "false", "No", "off"}) {
    EXPECT_FALSE(*parse_bool(f)) << f;
  }
  for (const char* bad : {"", "2", "y", "enabled"}) {
    EXPECT_FALSE(parse_bool(bad)) << bad;
  }
}

TEST(Strings, ShellQuote) {
  EXPECT_EQ(shell_quote("-O2"), "-O2");
  EXPECT_EQ(shell_quote("a b"), "'a b'");
  EXPECT_EQ(shell_quote("it's"), "'it'\\''s'");
}

} // namespace
} // namespace ccrex::util
