#include "reapi/digest.h"
#include "server/tree_validation.h"
#include "util/file.h"

#include <gtest/gtest.h>

namespace ccrex::server {
namespace {

namespace v2 = reapi::v2;

v2::FileNode file_node(const std::string& name) {
  v2::FileNode f;
  f.set_name(name);
  *f.mutable_digest() = reapi::digest_of(name);
  return f;
}

v2::Command command_with_outputs(std::vector<std::string> paths, std::string wd = "") {
  v2::Command c;
  c.add_arguments("true");
  c.set_working_directory(std::move(wd));
  for (auto& p : paths) {
    c.add_output_paths(std::move(p));
  }
  return c;
}

bool invalid(const util::Status& st) {
  return !st && st.error().code() == util::ErrorCode::invalid_argument;
}

TEST(TreeValidation, NamesAreSingleSegments) {
  EXPECT_TRUE(validate_name("a.txt"));
  EXPECT_TRUE(validate_name("..."));
  for (const char* bad : {"", ".", "..", "a/b", "/"}) {
    EXPECT_TRUE(invalid(validate_name(bad))) << bad;
  }
  EXPECT_TRUE(invalid(validate_name(std::string("a\0b", 3))));
}

TEST(TreeValidation, DirectoryMustBeSortedAndUnique) {
  v2::Directory d;
  *d.add_files() = file_node("a");
  *d.add_files() = file_node("b");
  EXPECT_TRUE(validate_directory(d));
  v2::Directory unsorted;
  *unsorted.add_files() = file_node("b");
  *unsorted.add_files() = file_node("a");
  EXPECT_TRUE(invalid(validate_directory(unsorted)));
  v2::Directory twice;
  *twice.add_files() = file_node("a");
  *twice.add_files() = file_node("a");
  EXPECT_TRUE(invalid(validate_directory(twice)));
  v2::Directory across = d;
  auto* sub = across.add_directories();
  sub->set_name("a");
  *sub->mutable_digest() = reapi::digest_of("");
  EXPECT_TRUE(invalid(validate_directory(across)));
  v2::Directory bad_digest;
  auto* f = bad_digest.add_files();
  f->set_name("x");
  f->mutable_digest()->set_hash("XYZ");
  EXPECT_TRUE(invalid(validate_directory(bad_digest)));
}

TEST(TreeValidation, SymlinkTargetsMustBeRelative) {
  v2::Directory d;
  auto* s = d.add_symlinks();
  s->set_name("l");
  s->set_target("../x");
  EXPECT_TRUE(validate_directory(d));
  s->set_target("/x");
  EXPECT_TRUE(invalid(validate_directory(d)));
  s->set_target("");
  EXPECT_TRUE(invalid(validate_directory(d)));
}

TEST(TreeValidation, OutputPathRules) {
  EXPECT_TRUE(validate_command(command_with_outputs({"a", "b/c"})));
  EXPECT_TRUE(validate_command(command_with_outputs({""})));
  EXPECT_TRUE(validate_command(command_with_outputs({"../up.o"}, "src")));
  EXPECT_TRUE(invalid(validate_command(command_with_outputs({"../up.o"}))));
  EXPECT_TRUE(invalid(validate_command(command_with_outputs({"b", "a"}))));
  EXPECT_TRUE(invalid(validate_command(command_with_outputs({"a", "a"}))));
  EXPECT_TRUE(invalid(validate_command(command_with_outputs({"/abs"}))));
  EXPECT_TRUE(invalid(validate_command(command_with_outputs({"dir/"}))));
  EXPECT_TRUE(invalid(validate_command(command_with_outputs({"a//b"}))));
  EXPECT_TRUE(invalid(validate_command(command_with_outputs({"./a"}))));
  v2::Command legacy;
  legacy.add_arguments("true");
  legacy.add_output_files("x");
  legacy.add_output_files("x/y");
  EXPECT_TRUE(invalid(validate_command(legacy)));
  legacy.clear_output_files();
  legacy.add_output_files("x");
  legacy.add_output_directories("x");
  EXPECT_TRUE(invalid(validate_command(legacy)));
}

TEST(TreeValidation, DotNamesTheWorkingDirectoryAsAnOutputDirectoryOnly) {
  EXPECT_TRUE(validate_command(command_with_outputs({"."})));
  EXPECT_TRUE(validate_command(command_with_outputs({"."}, "src")));
  for (const char* bad : {"./..", "./x", "..", "./", "/.", "x/."}) {
    EXPECT_TRUE(invalid(validate_command(command_with_outputs({bad})))) << bad;
  }
  v2::Command legacy;
  legacy.add_arguments("true");
  legacy.add_output_directories(".");
  EXPECT_TRUE(validate_command(legacy));
  legacy.add_output_files("."); // a file cannot be the working directory
  legacy.clear_output_directories();
  EXPECT_TRUE(invalid(validate_command(legacy)));
  legacy.set_output_files(0, "");
  EXPECT_TRUE(invalid(validate_command(legacy)));
}

TEST(OutputFields, FollowTheVersionRange) {
  v2::Command both;
  both.add_output_paths("p");
  both.add_output_files("f");
  both.add_output_directories("d");
  v2::Command legacy;
  legacy.add_output_files("f");
  legacy.add_output_directories("d");
  const ApiVersions only_20{0, 0};
  const ApiVersions from_21{1, 2};
  const ApiVersions all{};
  using F = OutputFields;
  EXPECT_EQ(output_fields_read(both, only_20), F::files_and_directories);
  EXPECT_EQ(output_fields_read(legacy, only_20), F::files_and_directories);
  EXPECT_EQ(output_fields_read(both, from_21), F::paths);
  EXPECT_EQ(output_fields_read(legacy, from_21), F::paths); // nothing is read
  EXPECT_EQ(output_fields_read(both, all), F::paths);
  EXPECT_EQ(output_fields_read(legacy, all), F::files_and_directories);
  EXPECT_EQ(output_names(both, F::paths), std::vector<std::string>{"p"});
  EXPECT_EQ(output_names(legacy, F::paths), std::vector<std::string>{});
  EXPECT_EQ(output_names(both, F::files_and_directories), (std::vector<std::string>{"f", "d"}));
  EXPECT_FALSE(ignored_outputs_note(both, F::files_and_directories, only_20).empty());
  EXPECT_FALSE(ignored_outputs_note(legacy, F::paths, from_21).empty());
  EXPECT_TRUE(ignored_outputs_note(both, F::paths, all).empty());
  EXPECT_TRUE(ignored_outputs_note(legacy, F::files_and_directories, all).empty());
}

TEST(TreeValidation, EnvironmentAndPlatformOrder) {
  v2::Command c;
  c.add_arguments("true");
  // Unsorted and repeated environment names are accepted (clients in the field send them).
  for (const char* name : {"B", "A", "B"}) {
    auto* v = c.add_environment_variables();
    v->set_name(name);
  }
  EXPECT_TRUE(validate_command(c));
  for (const char* bad : {"", "A=B"}) {
    v2::Command b = c;
    b.add_environment_variables()->set_name(bad);
    EXPECT_TRUE(invalid(validate_command(b))) << "name '" << bad << "'";
  }
  v2::Platform p;
  for (auto [n, v] : {std::pair{"ISA", "x86-64"}, std::pair{"ISA", "x86-avx"}}) {
    auto* prop = p.add_properties();
    prop->set_name(n);
    prop->set_value(v);
  }
  EXPECT_TRUE(validate_platform_order(p));
  p.mutable_properties()->SwapElements(0, 1);
  EXPECT_TRUE(invalid(validate_platform_order(p)));
  EXPECT_TRUE(invalid(validate_command(v2::Command{})));
}

class PrepareActionTest : public ::testing::Test {
protected:
  void SetUp() override {
    m_store = std::move(BlobStore::open(m_dir.path(), int64_t{1} << 20)).value();
    m_config.platform = {{"OSFamily", {"linux"}}};
  }
  v2::Digest put(const std::string& data) {
    EXPECT_TRUE(m_store->put_computed(data));
    return reapi::digest_of(data);
  }
  util::TempDir m_dir{"ccrex-validation-test-"};
  std::unique_ptr<BlobStore> m_store;
  Config m_config;
};

TEST_F(PrepareActionTest, ListsEveryMissingBlobOnce) {
  v2::Directory sub; // never stored
  *sub.add_files() = file_node("s");
  v2::Directory root;
  *root.add_files() = file_node("a"); // content "a" never stored
  *root.add_files() = file_node("b");
  put("b");
  for (const char* name : {"x", "y"}) { // the same missing Directory twice
    auto* d = root.add_directories();
    d->set_name(name);
    *d->mutable_digest() = reapi::digest_of(sub.SerializeAsString());
  }
  v2::Action action;
  *action.mutable_input_root_digest() = put(root.SerializeAsString());
  *action.mutable_command_digest() = reapi::digest_of("not a stored command");
  auto p = prepare_action(*m_store, put(action.SerializeAsString()), m_config);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, util::ErrorCode::failed_precondition);
  std::vector<std::string> got;
  for (const auto& d : p.error().missing) {
    got.push_back(reapi::to_string(d));
  }
  std::sort(got.begin(), got.end());
  std::vector<std::string> want = {reapi::to_string(reapi::digest_of("a")),
                                   reapi::to_string(reapi::digest_of(sub.SerializeAsString())),
                                   reapi::to_string(reapi::digest_of("not a stored command"))};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
}

TEST_F(PrepareActionTest, TimeoutDefaultsAndLimits) {
  v2::Command cmd;
  cmd.add_arguments("true");
  v2::Action action;
  *action.mutable_input_root_digest() = reapi::digest_of("");
  *action.mutable_command_digest() = put(cmd.SerializeAsString());
  m_config.default_timeout = std::chrono::seconds(7);
  m_config.max_timeout = std::chrono::seconds(60);
  auto p = prepare_action(*m_store, put(action.SerializeAsString()), m_config);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->timeout, std::chrono::seconds(7));
  action.mutable_timeout()->set_nanos(500000000);
  p = prepare_action(*m_store, put(action.SerializeAsString()), m_config);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->timeout, std::chrono::milliseconds(500));
  action.mutable_timeout()->set_seconds(61);
  p = prepare_action(*m_store, put(action.SerializeAsString()), m_config);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, util::ErrorCode::invalid_argument);
}

TEST_F(PrepareActionTest, ActionThatIsNotAMessageIsInvalid) {
  auto p = prepare_action(*m_store, put(std::string("\xff\xff\xff", 3)), m_config);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, util::ErrorCode::invalid_argument);
}

} // namespace
} // namespace ccrex::server
