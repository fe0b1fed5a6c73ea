#include "agent/action_builder.h"
#include "agent/project.h"
#include "util/file.h"

#include <gtest/gtest.h>

namespace ccrex::agent {
namespace {

TEST(Project, RootFromConfigGitOrCwd) {
  util::TempDir dir;
  const std::string repo = dir.path() + "/repo";
  ASSERT_TRUE(util::make_dirs(repo + "/.git"));
  ASSERT_TRUE(util::make_dirs(repo + "/a/b"));
  EXPECT_EQ(find_project_root(repo + "/a/b", ""), repo);
  EXPECT_EQ(find_project_root(repo + "/a/b", "/x/y/"), "/x/y");
  EXPECT_EQ(find_project_root(repo + "/a/b", ".."), repo + "/a");
  EXPECT_EQ(find_project_root(dir.path(), ""), dir.path()); // no .git above
}

TEST(Project, InputPathsAreRelativeToRoot) {
  const PathMapper m("/src/proj", "/src/proj/build/sub");
  EXPECT_EQ(m.working_directory(), "build/sub");
  EXPECT_EQ(m.input_path("../../lib/a.h"), "lib/a.h");
  EXPECT_EQ(m.input_path("x.c"), "build/sub/x.c");
  EXPECT_EQ(m.input_path("/src/proj/inc/b.h"), "inc/b.h");
  EXPECT_FALSE(m.input_path("/usr/include/stdio.h"));
  EXPECT_FALSE(m.input_path("../../../other/c.h"));
  EXPECT_FALSE(m.input_path("/src/projector/x.h")); // prefix of a name is not a parent
  EXPECT_EQ(m.absolute("./a/../b.c"), "/src/proj/build/sub/b.c");
}

TEST(Project, SameRelativeLayoutGivesSamePaths) {
  const PathMapper one("/home/a/checkout1", "/home/a/checkout1/build");
  const PathMapper two("/tmp/ci/checkout2", "/tmp/ci/checkout2/build");
  EXPECT_EQ(one.working_directory(), two.working_directory());
  EXPECT_EQ(one.input_path("../src/x.c"), two.input_path("../src/x.c"));
}

// A directory the client could not name (empty) or a relative one ends the search for
// the project root instead of looping on ".".
TEST(Project, RootSearchEndsWithoutAnAbsoluteDirectory) {
  // (Run from a checkout, "./.git" may exist: then "." is the answer.)
  for (const std::string cwd : {"", "some/relative/dir"}) {
    const std::string root = find_project_root(cwd, "");
    EXPECT_TRUE(root == util::normalize_path(cwd) || root == ".") << cwd << " -> " << root;
  }
}

TEST(Project, RootTokenArguments) {
  const PathMapper m("/src/proj", "/src/proj/build");
  const std::string t(k_root_token);
  EXPECT_EQ(root_token_argument("/src/proj/src/a.c", m), t + "/src/a.c");
  EXPECT_EQ(root_token_argument("-I/src/proj/include", m), "-I" + t + "/include");
  EXPECT_EQ(root_token_argument("-isystem/src/proj/third", m), "-isystem" + t + "/third");
  EXPECT_EQ(root_token_argument("--sysroot=/src/proj/sysroot", m), "--sysroot=" + t + "/sysroot");
  EXPECT_EQ(root_token_argument("-Wp,-MD,/src/proj/build/a.d", m), "-Wp,-MD," + t + "/build/a.d");
  EXPECT_EQ(root_token_argument("/src/proj/build/../src/./b.c", m), t + "/src/b.c");
  // Not a path of the project, or a path that leaves it, or not a path at all: as is.
  EXPECT_EQ(root_token_argument("-I/usr/include", m), "-I/usr/include");
  EXPECT_EQ(root_token_argument("/src/proj/../other/x.c", m), "/src/proj/../other/x.c");
  EXPECT_EQ(root_token_argument("-DPATH=\"/src/proj/x\"", m), "-DPATH=\"/src/proj/x\"");
  EXPECT_EQ(root_token_argument("-O2", m), "-O2");
}

} // namespace
} // namespace ccrex::agent
