// An action cannot change what later actions read: an input it makes writable and rewrites
// is its own copy, never the stored blob. The server runs as an ordinary user here (as a
// shared server should), since that is where inputs used to be hard links into the store.

#include "conformance/execution_support.h"
#include "hostile/hostile_support.h"

#include <gtest/gtest.h>

#include <unistd.h>

namespace ccrex::test {
namespace {

constexpr uid_t k_nobody = 65534;

class InputTamper : public ::testing::Test {
protected:
  void SetUp() override {
    std::vector<std::string> wrapper;
    std::string cache;
    if (::geteuid() == 0) {
      // Run the server as nobody, in a store nobody owns.
      cache = m_dir.path() + "/cache";
      ASSERT_EQ(::mkdir(cache.c_str(), 0700), 0);
      ASSERT_EQ(::chown(cache.c_str(), k_nobody, k_nobody), 0);
      ASSERT_EQ(::chmod(m_dir.path().c_str(), 0755), 0);
      wrapper = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"};
    }
    m_server = std::make_unique<ServerProcess>(
        std::vector<std::string>{"--workers", "1"}, "127.0.0.1:0", cache, wrapper);
    ASSERT_TRUE(m_server->ok()) << m_server->error();
    m_caller = std::make_unique<Caller>(plain_channel(m_server->address()), "");
  }

  // Upload everything an action running `script` on an input root holding in.txt needs.
  v2::Digest action(const std::string& script) {
    InputTree tree;
    tree.file("in.txt", "genuine\n");
    std::map<std::string, std::string> blobs;
    v2::Action a;
    *a.mutable_input_root_digest() = tree.build(blobs);
    v2::Command c;
    for (const char* arg : {"/bin/sh", "-c"}) {
      c.add_arguments(arg);
    }
    c.add_arguments(script);
    blobs["command"] = c.SerializeAsString();
    *a.mutable_command_digest() = reapi::digest_of(blobs["command"]);
    blobs["action"] = a.SerializeAsString();
    for (const auto& [key, data] : blobs) {
      EXPECT_TRUE(m_caller->upload(data).ok());
    }
    return reapi::digest_of(blobs["action"]);
  }

  util::TempDir m_dir{"ccrex-tamper-"};
  std::unique_ptr<ServerProcess> m_server;
  std::unique_ptr<Caller> m_caller;
};

TEST_F(InputTamper, RewrittenInputsDoNotReachTheStoreOrLaterActions) {
  v2::ExecuteResponse first;
  ASSERT_TRUE(
      m_caller
          ->execute(action("chmod u+w in.txt; echo tampered > in.txt; cat in.txt"), nullptr, &first)
          .ok());
  // A different action with the same input reads the uploaded bytes.
  v2::ExecuteResponse second;
  ASSERT_TRUE(m_caller->execute(action("cat in.txt"), nullptr, &second).ok());
  ASSERT_EQ(second.status().code(), 0) << second.status().message();
  EXPECT_EQ(reapi::to_string(second.result().stdout_digest()),
            reapi::to_string(reapi::digest_of("genuine\n")))
      << "a later action read an input another action rewrote";
}

} // namespace
} // namespace ccrex::test
