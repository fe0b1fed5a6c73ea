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

TEST(Project, RelativizeArguments) {
  const PathMapper m("/src/proj", "/src/proj/build");
  EXPECT_EQ(relativize_argument("/src/proj/src/a.c", m), "../src/a.c");
  EXPECT_EQ(relativize_argument("-I/src/proj/include", m), "-I../include");
  EXPECT_EQ(relativize_argument("-isystem/src/proj/third", m), "-isystem../third");
  EXPECT_EQ(relativize_argument("--sysroot=/src/proj/sysroot", m), "--sysroot=../sysroot");
  EXPECT_EQ(relativize_argument("-Wp,-MD,/src/proj/build/a.d", m), "-Wp,-MD,a.d");
  EXPECT_EQ(relativize_argument("-I/usr/include", m), "-I/usr/include");
  EXPECT_EQ(relativize_argument("-DPATH=\"/src/proj/x\"", m), "-DPATH=\"/src/proj/x\"");
  EXPECT_EQ(relativize_argument("-O2", m), "-O2");
}

} // namespace
} // namespace ccrex::agent
