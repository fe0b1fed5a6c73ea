// Output collection cannot be turned against files outside the action: an output that is
// a hard link to an outside file, or a stdout capture replaced by a symlink to one, never
// makes that file read-only and never lets a later rewrite of it change a stored blob.

#include "conformance/execution_support.h"
#include "hostile/hostile_support.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ccrex::test {
namespace {

class OutputCollection : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_TRUE(m_server.ok()) << m_server.error();
    m_outside = m_dir.path() + "/outside.txt";
    ASSERT_TRUE(util::write_file_atomic(m_outside, "genuine\n", 0644));
  }

  // Upload an action running `script` with output file "out".
  v2::Digest action(const std::string& script) {
    InputTree tree;
    tree.file("in.txt", "input\n");
    std::map<std::string, std::string> blobs;
    v2::Action a;
    *a.mutable_input_root_digest() = tree.build(blobs);
    v2::Command c;
    for (const char* arg : {"/bin/sh", "-c"}) {
      c.add_arguments(arg);
    }
    c.add_arguments(script);
    c.add_output_paths("out");
    blobs["command"] = c.SerializeAsString();
    *a.mutable_command_digest() = reapi::digest_of(blobs["command"]);
    blobs["action"] = a.SerializeAsString();
    for (const auto& [key, data] : blobs) {
      EXPECT_TRUE(m_caller.upload(data).ok());
    }
    return reapi::digest_of(blobs["action"]);
  }

  mode_t outside_mode() {
    struct stat st {};
    EXPECT_EQ(::lstat(m_outside.c_str(), &st), 0);
    return st.st_mode & 07777;
  }

  // Rewrite the outside file in place (same inode, same size), as its owner may.
  void rewrite_outside() {
    ASSERT_EQ(::chmod(m_outside.c_str(), 0644), 0);
    const int fd = ::open(m_outside.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::write(fd, "PWNED!!\n", 8), 8);
    ::close(fd);
  }

  // The bytes the CAS serves for `d` (empty when it has none).
  std::string read_blob(const v2::Digest& d) {
    grpc::ClientContext ctx;
    m_caller.prepare(ctx);
    v2::BatchReadBlobsRequest req;
    *req.add_digests() = d;
    v2::BatchReadBlobsResponse resp;
    const auto st = m_caller.cas->BatchReadBlobs(&ctx, req, &resp);
    if (!st.ok() || resp.responses_size() != 1 || resp.responses(0).status().code() != 0) {
      return "";
    }
    return resp.responses(0).data();
  }

  util::TempDir m_dir{"ccrex-outputs-"};
  // Unconfined, so the action can reach the outside file: collection must be safe on its
  // own, not only because a sandbox hides the file system.
  ServerProcess m_server{{"--workers", "1", "--no-sandbox"}};
  Caller m_caller{plain_channel(m_server.address()), ""};
  std::string m_outside;
};

TEST_F(OutputCollection, AnOutputLinkedFromOutsideIsCopied) {
  v2::ExecuteResponse resp;
  ASSERT_TRUE(m_caller.execute(action("ln " + m_outside + " out"), nullptr, &resp).ok());
  if (resp.status().code() != 0 || resp.result().exit_code() != 0
      || resp.result().output_files_size() != 1) {
    GTEST_SKIP() << "the action cannot reach " << m_outside << " (the attack needs it)";
  }
  EXPECT_EQ(outside_mode(), 0644U) << "collecting the output made a file outside read-only";
  const auto stored = resp.result().output_files(0).digest();
  rewrite_outside();
  EXPECT_EQ(read_blob(stored), "genuine\n")
      << "a stored blob changed when a file outside the store was rewritten";
}

TEST_F(OutputCollection, AStdoutReplacedBySymlinkIsNotFollowed) {
  v2::ExecuteResponse resp;
  ASSERT_TRUE(m_caller
                  .execute(action("echo hi; echo x > out; rm -f ../stdout && ln -s " + m_outside
                                  + " ../stdout"),
                           nullptr,
                           &resp)
                  .ok());
  EXPECT_EQ(outside_mode(), 0644U) << "collecting stdout made a file outside read-only";
  if (resp.result().has_stdout_digest() && resp.result().stdout_digest().size_bytes() > 0) {
    const auto stored = resp.result().stdout_digest();
    EXPECT_NE(read_blob(stored), "genuine\n") << "stdout was read through the symlink";
    rewrite_outside();
    const std::string now = read_blob(stored);
    EXPECT_TRUE(now.empty() || reapi::digest_of(now).hash() == stored.hash())
        << "a stored blob changed when a file outside the store was rewritten";
  }
}

// The server creates the parent directories of outputs before the command runs, as itself
// (root, for a shared server). An input symlink pointing out of the root, with an output
// below it, must not make it create directories on the host.
TEST_F(OutputCollection, OutputParentsAreNotCreatedThroughAnInputSymlink) {
  const std::string outside = m_dir.path() + "/outside-dir";
  ASSERT_TRUE(util::make_dirs(outside));
  InputTree tree;
  tree.file("in.txt", "input\n");
  // Enough ".." to reach / from wherever the root is staged, then down to `outside`.
  std::string up;
  for (int i = 0; i < 32; ++i) {
    up += "../";
  }
  tree.symlink("escape", up + outside.substr(1));
  std::map<std::string, std::string> blobs;
  v2::Action a;
  *a.mutable_input_root_digest() = tree.build(blobs);
  v2::Command c;
  for (const char* arg : {"/bin/sh", "-c", "true"}) {
    c.add_arguments(arg);
  }
  c.add_output_paths("escape/made/by/server.o");
  blobs["command"] = c.SerializeAsString();
  *a.mutable_command_digest() = reapi::digest_of(blobs["command"]);
  blobs["action"] = a.SerializeAsString();
  for (const auto& [key, data] : blobs) {
    ASSERT_TRUE(m_caller.upload(data).ok());
  }
  v2::ExecuteResponse resp;
  ASSERT_TRUE(m_caller.execute(reapi::digest_of(blobs["action"]), nullptr, &resp).ok());
  struct stat st {};
  EXPECT_NE(::lstat((outside + "/made").c_str(), &st), 0)
      << "the server created a directory outside the input root through a symlink";
}

} // namespace
} // namespace ccrex::test
