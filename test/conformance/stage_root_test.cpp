// Staging at a fixed absolute path (CCREX_STAGE_ROOT): the command runs with the input root
// mounted at the requested path, in private, and its outputs are collected as usual.

#include "conformance/execution_support.h"
#include "server/stage_root.h"
#include "util/file.h"

#include <gtest/gtest.h>

namespace ccrex::test {
namespace {

class StageRoot : public ExecutionFixture {
protected:
  void SetUp() override {
    if (!server::stage_root_supported()) {
      GTEST_SKIP() << "mount namespaces are not available on this machine";
    }
    ExecutionFixture::SetUp();
  }

  static v2::Command staged(std::vector<std::string> args,
                            const std::string& root,
                            std::vector<std::string> outputs,
                            const std::string& working_dir) {
    auto c = command(std::move(args), std::move(outputs));
    auto* env = c.add_environment_variables(); // "CCREX..." sorts before "PATH"
    env->set_name("CCREX_STAGE_ROOT");
    env->set_value(root);
    std::swap(*c.mutable_environment_variables(0), *c.mutable_environment_variables(1));
    c.set_working_directory(working_dir);
    return c;
  }
};

TEST_F(StageRoot, RunsAtTheRequestedPathAndSeesOnlyTheInputRoot) {
  util::TempDir where;
  // A file at the real location must be hidden by the staged input root.
  ASSERT_TRUE(util::make_dirs(where.path() + "/src"));
  ASSERT_TRUE(util::write_file_atomic(where.path() + "/src/input.txt", "host copy\n"));
  ASSERT_TRUE(util::write_file_atomic(where.path() + "/host-only", "x"));
  InputTree tree;
  tree.file("src/input.txt", "staged copy\n");
  const auto cmd = staged({"/bin/sh",
                           "-c",
                           "pwd; cat input.txt; test -e ../host-only || echo hidden; "
                           "echo made > out.txt"},
                          where.path(),
                          {"out.txt"},
                          "src");
  const auto resp = run_ok(action(cmd, tree));
  ASSERT_EQ(resp.status().code(), 0) << resp.status().message();
  EXPECT_EQ(resp.result().exit_code(), 0);
  EXPECT_EQ(blob(resp.result().stdout_digest()), where.path() + "/src\nstaged copy\nhidden\n");
  ASSERT_EQ(resp.result().output_files_size(), 1);
  EXPECT_EQ(resp.result().output_files(0).path(), "out.txt");
  EXPECT_EQ(blob(resp.result().output_files(0).digest()), "made\n");
  // Nothing leaked onto the host.
  EXPECT_EQ(*util::read_file(where.path() + "/src/input.txt"), "host copy\n");
  EXPECT_FALSE(util::path_exists(where.path() + "/src/out.txt"));
}

TEST_F(StageRoot, MissingOrMalformedRootIsAServerSideFailure) {
  const auto missing = run_ok(action(staged({"/bin/true"}, "/nonexistent/ccrex-root", {}, "")));
  EXPECT_EQ(missing.status().code(), grpc::StatusCode::FAILED_PRECONDITION);
  // A malformed root is refused with the request, before anything runs.
  const auto bad = execute(action(staged({"/bin/true"}, "relative/dir", {}, "")));
  EXPECT_EQ(bad.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

} // namespace
} // namespace ccrex::test
