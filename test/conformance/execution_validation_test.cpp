// Conformance checks for how ccrex-server's Execute refuses bad requests: missing blobs
// (FAILED_PRECONDITION with PreconditionFailure), non-canonical or unsafe trees and
// commands (INVALID_ARGUMENT), timeouts and platform properties. E-numbers refer to the
// REAPI notes (§12.4).

#include "execution_support.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace ccrex::test {
namespace {

using Validation = ExecutionFixture;

std::string subject(const v2::Digest& d) {
  return "blobs/" + d.hash() + "/" + std::to_string(d.size_bytes());
}

v2::Digest directory_digest(const v2::Directory& d) {
  return reapi::digest_of(d.SerializeAsString());
}

class ValidationAccess : public Validation {
public:
  v2::Digest raw_action(const v2::Directory& root,
                        const v2::Command& cmd,
                        const v2::Platform* platform = nullptr) {
    v2::Action a;
    *a.mutable_input_root_digest() = put_message(root);
    *a.mutable_command_digest() = put_message(cmd);
    if (platform != nullptr) {
      *a.mutable_platform() = *platform;
    }
    return put_message(a);
  }
  grpc::StatusCode code_of(const v2::Digest& action_digest) {
    const auto out = execute(action_digest);
    EXPECT_TRUE(out.operations.empty() || !out.status.ok());
    return out.status.error_code();
  }
};

v2::Platform platform(std::vector<std::pair<std::string, std::string>> props) {
  v2::Platform p;
  for (auto& [name, value] : props) {
    auto* prop = p.add_properties();
    prop->set_name(name);
    prop->set_value(value);
  }
  return p;
}

TEST_F(ValidationAccess, E6_MissingInputFileAndCommandAreAllListed) {
  InputTree tree;
  tree.file("present.txt", "here\n");
  tree.file("absent.txt", "never uploaded\n");
  std::map<std::string, std::string> blobs;
  v2::Action a;
  *a.mutable_input_root_digest() = tree.build(blobs);
  for (const auto& [key, data] : blobs) {
    if (data != "never uploaded\n") {
      put(data);
    }
  }
  const auto cmd = command({"true"});
  *a.mutable_command_digest() = reapi::digest_of(cmd.SerializeAsString()); // not uploaded
  const auto out = execute(put_message(a));
  ASSERT_EQ(out.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(out.operations.empty());
  auto subjects = missing_subjects(out.status);
  std::sort(subjects.begin(), subjects.end());
  std::vector<std::string> expected = {subject(reapi::digest_of("never uploaded\n")),
                                       subject(a.command_digest())};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(subjects, expected);
}

TEST_F(ValidationAccess, E6_MissingActionAndMissingDirectory) {
  const auto absent = reapi::digest_of("no such action");
  const auto out = execute(absent);
  ASSERT_EQ(out.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(missing_subjects(out.status), std::vector<std::string>{subject(absent)});

  v2::Directory sub;
  auto* f = sub.add_files();
  f->set_name("x");
  *f->mutable_digest() = put("x");
  v2::Directory root;
  auto* d = root.add_directories();
  d->set_name("sub");
  *d->mutable_digest() = directory_digest(sub); // sub itself is never uploaded
  const auto digest = raw_action(root, command({"true"}));
  const auto out2 = execute(digest);
  ASSERT_EQ(out2.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(missing_subjects(out2.status),
            std::vector<std::string>{subject(directory_digest(sub))});
}

TEST_F(ValidationAccess, MalformedOrAbsentActionDigestIsInvalid) {
  v2::Digest bad;
  bad.set_hash("ABC");
  bad.set_size_bytes(3);
  EXPECT_EQ(code_of(bad), grpc::StatusCode::INVALID_ARGUMENT);
  v2::ExecuteRequest req;
  grpc::ClientContext ctx;
  auto reader = exec->Execute(&ctx, req);
  EXPECT_EQ(read_stream(*reader).status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ValidationAccess, E13_TimeoutAboveTheMaximumIsRejected) {
  const auto digest = action(command({"true"}), {}, [](v2::Action& a) {
    a.mutable_timeout()->set_seconds(7200); // the server's default maximum is 3600 s
  });
  EXPECT_EQ(code_of(digest), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ValidationAccess, E14_UnsortedDirectoryEntriesAreInvalid) {
  v2::Directory root;
  for (const char* name : {"b.txt", "a.txt"}) {
    auto* f = root.add_files();
    f->set_name(name);
    *f->mutable_digest() = put(name);
  }
  EXPECT_EQ(code_of(raw_action(root, command({"true"}))), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ValidationAccess, E14_DuplicateNamesAcrossListsAreInvalid) {
  v2::Directory root;
  auto* f = root.add_files();
  f->set_name("same");
  *f->mutable_digest() = put("same");
  auto* s = root.add_symlinks();
  s->set_name("same");
  s->set_target("other");
  EXPECT_EQ(code_of(raw_action(root, command({"true"}))), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ValidationAccess, E14_UnsortedEnvironmentIsAccepted) {
  // The spec asks for sorted names; clients in the field do not always sort, and the order
  // changes nothing for the command. See liberal_test.cpp for the values the command sees.
  auto cmd = command({"true"});
  auto* var = cmd.add_environment_variables();
  var->set_name("AAA"); // after PATH: out of order
  var->set_value("1");
  const auto out = execute(action(cmd));
  EXPECT_TRUE(out.status.ok()) << out.status.error_message();
  EXPECT_EQ(out.response.result().exit_code(), 0);
}

TEST_F(ValidationAccess, E14_UnsortedPlatformIsInvalid) {
  const auto p = platform({{"OSFamily", "linux"}, {"ISA", "x86-64"}});
  EXPECT_EQ(code_of(raw_action({}, command({"true"}), &p)), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ValidationAccess, UnsortedOutputPathsAreInvalid) {
  EXPECT_EQ(code_of(action(command({"true"}, {"b", "a"}))), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(code_of(action(command({"true"}, {"/abs"}))), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(code_of(action(command({"true"}, {"../../escape"}))),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ValidationAccess, E15_UnknownPlatformPropertyIsInvalid) {
  const auto p = platform({{"container-image", "docker://x"}});
  EXPECT_EQ(code_of(raw_action({}, command({"true"}), &p)), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ValidationAccess, E15_UnsatisfiablePlatformValueIsFailedPrecondition) {
  const auto p = platform({{"OSFamily", "windows"}});
  const auto out = execute(raw_action({}, command({"true"}), &p));
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(out.status.error_message().find("OSFamily=windows"), std::string::npos)
      << out.status.error_message();
  EXPECT_NE(out.status.error_message().find("OSFamily=linux"), std::string::npos)
      << out.status.error_message();
}

TEST_F(ValidationAccess, E15_OfferedPlatformRunsFromActionOrCommand) {
  const auto p = platform({{"OSFamily", "linux"}});
  auto out = execute(raw_action({}, command({"true"}), &p));
  EXPECT_TRUE(out.status.ok()) << out.status.error_message();
  auto cmd = command({"true"});
  *cmd.mutable_platform() = platform({{"OSFamily", "plan9"}});
  out = execute(raw_action({}, cmd)); // Command.platform is read when Action has none
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(ValidationAccess, PathTraversalNamesAreRejected) {
  for (const char* name : {"..", ".", "a/b", ""}) {
    v2::Directory root;
    auto* f = root.add_files();
    f->set_name(name);
    *f->mutable_digest() = put("payload");
    EXPECT_EQ(code_of(raw_action(root, command({"true"}))), grpc::StatusCode::INVALID_ARGUMENT)
        << "name '" << name << "'";
  }
  v2::Directory root;
  auto* d = root.add_directories();
  d->set_name("..");
  *d->mutable_digest() = reapi::digest_of("");
  EXPECT_EQ(code_of(raw_action(root, command({"true"}))), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ValidationAccess, AbsoluteInputSymlinkIsRejected) {
  v2::Directory root;
  auto* s = root.add_symlinks();
  s->set_name("etc");
  s->set_target("/etc");
  EXPECT_EQ(code_of(raw_action(root, command({"true"}))), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ValidationAccess, WorkingDirectoryMustExistInTheInputRoot) {
  auto cmd = command({"true"});
  cmd.set_working_directory("nowhere");
  EXPECT_EQ(code_of(action(cmd)), grpc::StatusCode::INVALID_ARGUMENT);
  cmd.set_working_directory("../up");
  EXPECT_EQ(code_of(action(cmd)), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ValidationAccess, EmptyArgumentsAreInvalid) {
  v2::Command cmd;
  EXPECT_EQ(code_of(action(cmd)), grpc::StatusCode::INVALID_ARGUMENT);
}

class LenientValidation : public ValidationAccess {
protected:
  std::vector<std::string> server_args() const override {
    return {"--workers", "1", "--lenient-platform", "--max-timeout", "5", "--default-timeout", "5"};
  }
};

TEST_F(LenientValidation, UnknownPropertyIsIgnoredWhenLenient) {
  const auto p = platform({{"OSFamily", "linux"}, {"container-image", "docker://x"}});
  const auto out = execute(raw_action({}, command({"true"}), &p));
  EXPECT_TRUE(out.status.ok()) << out.status.error_message();
  EXPECT_EQ(out.response.result().exit_code(), 0);
}

TEST_F(LenientValidation, MaxTimeoutFlagIsEnforced) {
  const auto digest =
      action(command({"true"}), {}, [](v2::Action& a) { a.mutable_timeout()->set_seconds(6); });
  EXPECT_EQ(code_of(digest), grpc::StatusCode::INVALID_ARGUMENT);
}

} // namespace
} // namespace ccrex::test
