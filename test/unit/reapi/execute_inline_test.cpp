#include "reapi/digest.h"
#include "reapi/execute_inline.h"

#include <gtest/gtest.h>

namespace ccrex::reapi {
namespace {

// The hints are on the wire exactly as REAPI 2.9 defines them: inline_stdout = 10 and
// inline_stderr = 11 as varints, inline_output_files = 12 as length-delimited strings, so a
// 2.9 server reads them with its own proto.
TEST(ExecuteInline, WireFormatIsTheSpecsFields) {
  v2::ExecuteRequest req;
  InlineOptions wanted;
  wanted.inline_stdout = true;
  wanted.inline_stderr = true;
  wanted.inline_output_files = {"a.o", "dir/b.d"};
  set_execute_inline(req, wanted);
  const std::string expected = std::string("\x50\x01", 2) + std::string("\x58\x01", 2) + "\x62\x03"
                               + "a.o" + "\x62\x07" + "dir/b.d";
  EXPECT_EQ(req.SerializeAsString(), expected);
}

TEST(ExecuteInline, SurvivesSerializationAndReplacesEarlierHints) {
  v2::ExecuteRequest req;
  req.set_instance_name("main");
  *req.mutable_action_digest() = digest_of("action");
  req.set_skip_cache_lookup(true);
  InlineOptions first;
  first.inline_stdout = true;
  first.inline_output_files = {"old.o"};
  set_execute_inline(req, first);
  InlineOptions second;
  second.inline_stderr = true;
  second.inline_output_files = {"a.o", "a.d"};
  set_execute_inline(req, second);

  v2::ExecuteRequest parsed;
  ASSERT_TRUE(parsed.ParseFromString(req.SerializeAsString()));
  EXPECT_EQ(parsed.instance_name(), "main");
  EXPECT_TRUE(parsed.skip_cache_lookup());
  const InlineOptions got = execute_inline_of(parsed);
  EXPECT_FALSE(got.inline_stdout);
  EXPECT_TRUE(got.inline_stderr);
  EXPECT_EQ(got.inline_output_files, (std::vector<std::string>{"a.o", "a.d"}));
}

TEST(ExecuteInline, NoHintsByDefaultAndWrongWireTypesAreIgnored) {
  v2::ExecuteRequest req;
  *req.mutable_action_digest() = digest_of("action");
  InlineOptions none = execute_inline_of(req);
  EXPECT_FALSE(none.inline_stdout || none.inline_stderr);
  EXPECT_TRUE(none.inline_output_files.empty());
  set_execute_inline(req, {});
  EXPECT_EQ(req.SerializeAsString(), v2::ExecuteRequest(req).SerializeAsString());
  EXPECT_EQ(req.GetReflection()->GetUnknownFields(req).field_count(), 0);

  // Field 10 as a string and field 12 as a varint are not the hints.
  v2::ExecuteRequest odd;
  ASSERT_TRUE(odd.ParseFromString(std::string("\x52\x01x", 3) + std::string("\x60\x01", 2)));
  none = execute_inline_of(odd);
  EXPECT_FALSE(none.inline_stdout);
  EXPECT_TRUE(none.inline_output_files.empty());
}

} // namespace
} // namespace ccrex::reapi
