#include "toolchain/response_file.h"

#include <gtest/gtest.h>

#include <map>

namespace ccrex::toolchain {
namespace {

using Strings = std::vector<std::string>;

TEST(ResponseFile, SplitsOnWhitespace) {
  EXPECT_EQ(split_response_file("  -c\tx.c\n-o  out.o \r\n"),
            (Strings{"-c", "x.c", "-o", "out.o"}));
  EXPECT_EQ(split_response_file(""), Strings{});
  EXPECT_EQ(split_response_file(" \n\t "), Strings{});
}

// Expected values checked against gcc 12 and clang 14 (`-E -P @file` of a macro file).
TEST(ResponseFile, QuotesAndBackslashesLikeGcc) {
  EXPECT_EQ(split_response_file(R"(-DA='x\'y' -DB="p q" -DC=a\ b -DD='' -DE="\\")"),
            (Strings{"-DA=x'y", "-DB=p q", "-DC=a b", "-DD=", "-DE=\\"}));
  EXPECT_EQ(split_response_file(R"("my file.c" 'it''s' a"b"c)"),
            (Strings{"my file.c", "its", "abc"}));
  EXPECT_EQ(split_response_file("'' \"\""), (Strings{"", ""}));
  EXPECT_EQ(split_response_file("\"a\nb\""), (Strings{"a\nb"}));
}

class FakeFiles {
public:
  std::map<std::string, std::string> files;
  FileReader reader() {
    return [this](const std::string& path) -> util::Result<std::string> {
      const auto it = files.find(path);
      if (it == files.end()) {
        return util::not_found("no such file " + path);
      }
      return it->second;
    };
  }
};

TEST(ResponseFile, ExpandsRecursivelyRelativeToCwd) {
  FakeFiles fs;
  fs.files["/w/args.rsp"] = "-c @inner.rsp -o 'out dir/x.o'";
  fs.files["/w/inner.rsp"] = "-DX=1 x.c";
  const auto r = expand_response_files({"gcc", "-O2", "@args.rsp", "-g"}, "/w", fs.reader());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->args, (Strings{"gcc", "-O2", "-c", "-DX=1", "x.c", "-o", "out dir/x.o", "-g"}));
  EXPECT_EQ(r->files, (Strings{"/w/args.rsp", "/w/inner.rsp"}));
}

TEST(ResponseFile, AbsolutePathAndLoneAtSign) {
  FakeFiles fs;
  fs.files["/etc/flags"] = "-Wall";
  const auto r = expand_response_files({"@notexpanded", "@", "@/etc/flags"}, "/w", fs.reader());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->args, (Strings{"@notexpanded", "@", "-Wall"}));
}

TEST(ResponseFile, MissingFileIsAnError) {
  FakeFiles fs;
  const auto r = expand_response_files({"gcc", "@missing.rsp"}, "/w", fs.reader());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), util::ErrorCode::not_found);
  EXPECT_NE(r.error().message().find("missing.rsp"), std::string::npos);
}

TEST(ResponseFile, SelfInclusionIsBounded) {
  FakeFiles fs;
  fs.files["/w/loop.rsp"] = "-c @loop.rsp";
  const auto r = expand_response_files({"gcc", "@loop.rsp"}, "/w", fs.reader());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), util::ErrorCode::invalid_argument);
}

TEST(ResponseFile, TotalSizeIsBounded) {
  FakeFiles fs;
  fs.files["/w/spaces.rsp"] = std::string(k_max_response_bytes / 2 + 1, ' ');
  EXPECT_TRUE(expand_response_files({"gcc", "@spaces.rsp"}, "/w", fs.reader()));
  const auto r = expand_response_files({"gcc", "@spaces.rsp", "@spaces.rsp"}, "/w", fs.reader());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), util::ErrorCode::invalid_argument);
}

TEST(ResponseFile, EndlessDevicesAndFifosAreNotRead) {
  // The real reader: /dev/zero would grow the argument list until memory runs out.
  const auto r = expand_response_files({"gcc", "@/dev/zero", "-c", "x.c"}, "/", read_response_file);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("not a regular file"), std::string::npos);
}

} // namespace
} // namespace ccrex::toolchain
