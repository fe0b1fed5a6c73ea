// Conformance checks for what ccrex-server accepts beyond the letter of the spec, because
// clients in the field send it (unsorted environments, "." as an output directory), and for
// answers those clients can read (UNIMPLEMENTED always says what is missing).

#include "execution_support.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace ccrex::test {
namespace {

class Liberal : public ExecutionFixture {
protected:
  // The Tree of the only output directory of `r`, which must be reported as `path`.
  v2::Tree only_tree(const v2::ActionResult& r, const std::string& path) {
    v2::Tree tree;
    EXPECT_EQ(r.output_directories_size(), 1);
    if (r.output_directories_size() != 1) {
      return tree;
    }
    EXPECT_EQ(r.output_directories(0).path(), path);
    EXPECT_TRUE(tree.ParseFromString(blob(r.output_directories(0).tree_digest())));
    return tree;
  }
};

v2::Command with_env(v2::Command cmd, std::vector<std::pair<std::string, std::string>> vars) {
  for (auto& [name, value] : vars) {
    auto* var = cmd.add_environment_variables();
    var->set_name(name);
    var->set_value(value);
  }
  return cmd;
}

// Names of the files, directories and symlinks directly in `dir`.
std::set<std::string> entries(const v2::Directory& dir) {
  std::set<std::string> names;
  for (const auto& f : dir.files()) {
    names.insert(f.name());
  }
  for (const auto& d : dir.directories()) {
    names.insert(d.name() + "/");
  }
  for (const auto& s : dir.symlinks()) {
    names.insert(s.name() + "@");
  }
  return names;
}

TEST_F(Liberal, UnsortedEnvironmentRunsWithItsValues) {
  // PATH (from command()) comes first, then ZED before AAA: not sorted.
  const auto cmd =
      with_env(command({"sh", "-c", "echo \"$AAA $ZED\""}), {{"ZED", "last"}, {"AAA", "first"}});
  const auto resp = run_ok(action(cmd));
  EXPECT_EQ(resp.status().code(), 0) << resp.status().message();
  EXPECT_EQ(blob(resp.result().stdout_digest()), "first last\n");
}

TEST_F(Liberal, RepeatedEnvironmentNameGetsItsLastValueOnce) {
  const auto cmd = with_env(command({"sh", "-c", "echo \"$X\"; env | grep -c '^X='"}),
                            {{"X", "first"}, {"X", "second"}});
  const auto resp = run_ok(action(cmd));
  EXPECT_EQ(resp.status().code(), 0) << resp.status().message();
  EXPECT_EQ(blob(resp.result().stdout_digest()), "second\n1\n");
}

TEST_F(Liberal, DotAsOutputDirectoryIsTheWorkingDirectory) {
  InputTree tree;
  tree.file("outside.txt", "not in the working directory\n");
  tree.file("sub/in.txt", "input\n");
  for (int field = 0; field < 2; ++field) {
    auto cmd = command({"sh", "-c", "echo made > made.txt"});
    cmd.set_working_directory("sub");
    if (field == 0) {
      cmd.add_output_paths(".");
    } else {
      cmd.add_output_directories(".");
    }
    const auto resp = run_ok(action(cmd, tree), true);
    ASSERT_EQ(resp.status().code(), 0) << resp.status().message();
    const auto out = only_tree(resp.result(), ".");
    EXPECT_EQ(entries(out.root()), (std::set<std::string>{"in.txt", "made.txt"})) << field;
    EXPECT_EQ(resp.result().output_files_size(), 0);
  }
}

TEST_F(Liberal, EmptyOutputPathIsTheWorkingDirectoryToo) {
  auto cmd = command({"sh", "-c", "echo made > made.txt"}, {""});
  const auto resp = run_ok(action(cmd));
  ASSERT_EQ(resp.status().code(), 0) << resp.status().message();
  EXPECT_EQ(entries(only_tree(resp.result(), "").root()), (std::set<std::string>{"made.txt"}));
}

TEST_F(Liberal, DotOutputCannotEscapeThroughAReplacedWorkingDirectory) {
  // The command fills a directory outside the input root and swaps its working directory
  // for a symlink to it. Collecting "." must not follow the link: the output is a symlink
  // (refused when absolute, as every absolute output symlink is), never a Tree of what lies
  // outside.
  InputTree tree;
  tree.file("sub/in.txt", "input\n");
  const std::string secret = "outside the input root\n";
  for (const bool absolute : {true, false}) {
    for (int field = 0; field < 2; ++field) {
      auto cmd =
          command({"sh",
                   "-c",
                   "cd .. && mkdir -p ../outside && printf 'outside the input root\\n' "
                   "> ../outside/secret && rm -rf sub && ln -s "
                       + std::string(absolute ? "\"$PWD/../outside\"" : "../outside") + " sub"});
      cmd.set_working_directory("sub");
      if (field == 0) {
        cmd.add_output_paths(".");
      } else {
        cmd.add_output_directories(".");
      }
      const auto resp = run_ok(action(cmd, tree), true);
      const auto& r = resp.result();
      EXPECT_EQ(r.output_directories_size(), 0) << absolute << field;
      std::string data;
      EXPECT_EQ(get(reapi::digest_of(secret), &data), grpc::StatusCode::NOT_FOUND);
      if (absolute) {
        EXPECT_EQ(resp.status().code(), grpc::StatusCode::FAILED_PRECONDITION) << field;
        EXPECT_NE(resp.status().message().find("absolute"), std::string::npos)
            << resp.status().message();
      } else {
        EXPECT_EQ(resp.status().code(), 0) << resp.status().message();
        const auto& links = field == 0 ? r.output_symlinks() : r.output_directory_symlinks();
        ASSERT_EQ(links.size(), 1) << field;
        EXPECT_EQ(links[0].path(), ".");
        EXPECT_EQ(links[0].target(), "../outside");
      }
    }
  }
}

TEST_F(Liberal, DotSegmentsThatLeaveOrMisnameAreStillRefused) {
  for (const char* path : {"./..", "./x", "x/.", "./"}) {
    for (int field = 0; field < 3; ++field) {
      auto cmd = command({"true"});
      if (field == 0) {
        cmd.add_output_paths(path);
      } else if (field == 1) {
        cmd.add_output_directories(path);
      } else {
        cmd.add_output_files(path);
      }
      const auto out = execute(action(cmd));
      EXPECT_EQ(out.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
          << "'" << path << "' in field " << field;
      EXPECT_FALSE(out.status.error_message().empty());
    }
  }
  // "." names a directory, never an output file.
  auto cmd = command({"true"});
  cmd.add_output_files(".");
  EXPECT_EQ(execute(action(cmd)).status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(Liberal, UnservedMethodsAreUnimplementedWithAMessage) {
  // The Remote Asset API is served: an empty fetch (BuildStream's probe for it) is
  // INVALID_ARGUMENT; a push is refused or rejected, never unimplemented.
  EXPECT_EQ(raw_call("/build.bazel.remote.asset.v1.Fetch/FetchBlob").error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(raw_call("/build.bazel.remote.asset.v1.Push/PushBlob").error_code(),
            grpc::StatusCode::UNIMPLEMENTED);
  for (const char* method : {
           // A served service, a method it does not have.
           "/build.bazel.remote.asset.v1.Fetch/FetchEverything",
           // Generated but not served.
           "/google.longrunning.Operations/GetOperation",
           // A registered service, a method newer than the packaged protos.
           "/build.bazel.remote.execution.v2.ContentAddressableStorage/SplitBlob",
           "/no.such.Service/Method",
       }) {
    const auto st = raw_call(method);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::UNIMPLEMENTED) << method;
    EXPECT_NE(st.error_message().find(method), std::string::npos)
        << method << ": '" << st.error_message() << "'";
    EXPECT_NE(st.error_message().find("does not implement"), std::string::npos)
        << st.error_message();
  }
  // The server still serves what it implements afterwards.
  v2::GetCapabilitiesRequest req;
  v2::ServerCapabilities c;
  grpc::ClientContext ctx;
  EXPECT_TRUE(caps->GetCapabilities(&ctx, req, &c).ok());
}

} // namespace
} // namespace ccrex::test
