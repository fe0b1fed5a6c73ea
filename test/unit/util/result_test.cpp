#include "util/result.h"

#include <gtest/gtest.h>

#include <string>

namespace ccrex::util {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) {
    return invalid_argument("not positive: " + std::to_string(v));
  }
  return v;
}

Result<int> doubled(int v) {
  CCREX_ASSIGN_OR_RETURN(const int x, parse_positive(v));
  return 2 * x;
}

Status check(int v) {
  CCREX_TRY(parse_positive(v));
  return {};
}

TEST(Result, ValueAndError) {
  const auto ok = parse_positive(3);
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 3);
  const auto bad = parse_positive(-1);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::invalid_argument);
  EXPECT_EQ(bad.error().message(), "not positive: -1");
  EXPECT_EQ(bad.value_or(7), 7);
}

TEST(Result, MacrosPropagate) {
  EXPECT_EQ(*doubled(4), 8);
  EXPECT_EQ(doubled(0).error().message(), "not positive: 0");
  EXPECT_TRUE(check(1));
  EXPECT_FALSE(check(-5));
}

TEST(Result, ContextPrefixesMessage) {
  const Error e = not_found("blob abc").with_context("downloading outputs");
  EXPECT_EQ(e.code(), ErrorCode::not_found);
  EXPECT_EQ(e.to_string(), "not_found: downloading outputs: blob abc");
}

TEST(Result, ErrnoMapsToCodes) {
  EXPECT_EQ(errno_error("open x", ENOENT).code(), ErrorCode::not_found);
  EXPECT_EQ(errno_error("open x", EACCES).code(), ErrorCode::permission_denied);
  EXPECT_EQ(errno_error("write x", ENOSPC).code(), ErrorCode::resource_exhausted);
  EXPECT_EQ(errno_error("read x", EIO).code(), ErrorCode::io_error);
}

} // namespace
} // namespace ccrex::util
