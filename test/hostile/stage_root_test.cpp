// CCREX_STAGE_ROOT cannot name a system directory or the server's store, and the answer
// never tells whether a directory exists.

#include "conformance/execution_support.h"
#include "hostile/hostile_support.h"
#include "server/stage_root.h"

#include <gtest/gtest.h>

#include <unistd.h>

namespace ccrex::test {
namespace {

// `message` with every occurrence of `value` replaced by "<root>".
std::string generic(std::string message, const std::string& value) {
  for (size_t at = message.find(value); !value.empty() && at != std::string::npos;
       at = message.find(value, at)) {
    message.replace(at, value.size(), "<root>");
  }
  return message;
}

class HostileStageRoot : public ExecutionFixture {
protected:
  bool accepts_client_results() const override { return false; }

  v2::Digest staged_action(const std::string& root) {
    auto c = command({"/bin/sh", "-c", "echo ran > out"}, {"out"});
    auto* env = c.add_environment_variables(); // "CCREX..." sorts before "PATH"
    env->set_name("CCREX_STAGE_ROOT");
    env->set_value(root);
    std::swap(*c.mutable_environment_variables(0), *c.mutable_environment_variables(1));
    return action(c);
  }
};

TEST_F(HostileStageRoot, SystemDirectoriesTheStoreAndMalformedPathsAreRefusedAlike) {
  const std::string store = server().cache_dir();
  const std::vector<std::string> refused = {
      "/etc",
      "/etc/ssl",               // exists
      "/etc/ccrex-no-such-dir", // does not
      "/proc",
      "/proc/self",
      "/sys",
      "/dev",
      "/usr",
      "/usr/lib/ccrex-no-such-dir",
      "/lib64",
      "/var/lib",
      "/boot",
      "/run",
      "/",
      "relative/dir",
      "/tmp/../etc",
      "/tmp//x",
      "/tmp/x/",
      store,
      store + "/cas",
      store + "/work/ccrex-no-such-dir",
  };
  std::set<std::string> messages;
  for (const auto& root : refused) {
    const auto out = execute(staged_action(root));
    EXPECT_EQ(out.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << root << ": " << out.status.error_message();
    EXPECT_FALSE(out.done) << root << " ran";
    messages.insert(generic(out.status.error_message(), root));
  }
  EXPECT_EQ(messages.size(), 1U) << "the answers differ: " << ::testing::PrintToString(messages);
}

TEST_F(HostileStageRoot, MissingDirectoriesAndSymlinksOutLookTheSame) {
  if (!server::stage_root_supported()) {
    GTEST_SKIP() << "mount namespaces are not available on this machine";
  }
  util::TempDir dir;
  const std::string to_etc = dir.path() + "/to-etc";
  const std::string to_store = dir.path() + "/to-store";
  const std::string file = dir.path() + "/file";
  ASSERT_EQ(::symlink("/etc", to_etc.c_str()), 0);
  ASSERT_EQ(::symlink(server().cache_dir().c_str(), to_store.c_str()), 0);
  ASSERT_TRUE(util::write_file_atomic(file, "x"));
  std::set<std::string> messages;
  for (const auto& root : {dir.path() + "/missing", to_etc, to_store, file}) {
    const auto resp = run_ok(staged_action(root));
    EXPECT_EQ(resp.status().code(), grpc::StatusCode::FAILED_PRECONDITION)
        << root << ": " << resp.status().message();
    EXPECT_EQ(resp.result().output_files_size(), 0) << root << " ran";
    messages.insert(generic(resp.status().message(), root));
  }
  EXPECT_EQ(messages.size(), 1U) << "the answers differ: " << ::testing::PrintToString(messages);
  // An ordinary directory still works.
  const auto ok = run_ok(staged_action(dir.path()));
  EXPECT_EQ(ok.status().code(), 0) << ok.status().message();
}

} // namespace
} // namespace ccrex::test
