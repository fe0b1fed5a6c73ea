// Staging an input root is part of the action's work: a tiny upload that expands to a huge
// tree (one Directory naming the same child twice, fifteen levels deep) cannot keep a
// worker busy past the action's timeout, and a tree beyond the server's entry limit is
// refused.

#include "conformance/execution_support.h"
#include "hostile/hostile_support.h"

#include <gtest/gtest.h>

namespace ccrex::test {
namespace {

using namespace std::chrono_literals;

class StagingLimits : public ExecutionFixture {
protected:
  std::vector<std::string> server_args() const override {
    return {"--workers", "1", "--max-input-entries", entry_limit()};
  }
  bool accepts_client_results() const override { return false; }
  virtual const char* entry_limit() const { return "1000000"; }

  // An input root whose every directory holds two entries naming the same child, `levels`
  // deep: 2^levels leaf directories from `levels` + 1 small blobs. Return its digest.
  v2::Digest doubling_tree(int levels) {
    v2::Directory leaf;
    auto* f = leaf.add_files();
    f->set_name("f");
    *f->mutable_digest() = put("x");
    v2::Digest child = put_message(leaf);
    for (int i = 0; i < levels; ++i) {
      v2::Directory d;
      for (const char* name : {"a", "b"}) {
        auto* n = d.add_directories();
        n->set_name(name);
        *n->mutable_digest() = child;
      }
      child = put_message(d);
    }
    return child;
  }

  v2::Digest action_on(const v2::Digest& root, int timeout_seconds) {
    v2::Action a;
    *a.mutable_command_digest() = put_message(command({"/bin/true"}));
    *a.mutable_input_root_digest() = root;
    a.mutable_timeout()->set_seconds(timeout_seconds);
    return put_message(a);
  }
};

TEST_F(StagingLimits, StagingCountsAgainstTheActionTimeout) {
  // 2^14 leaves: about 49k entries, far more than one second of staging.
  const auto digest = action_on(doubling_tree(14), 1);
  const auto start = std::chrono::steady_clock::now();
  const auto out = execute(digest);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  EXPECT_EQ(out.response.status().code(), grpc::StatusCode::DEADLINE_EXCEEDED)
      << out.response.status().message();
  EXPECT_LT(took, 60s); // did not stage the whole tree first (generous for a loaded machine)
}

class SmallEntryLimit : public StagingLimits {
protected:
  const char* entry_limit() const override { return "5000"; }
};

TEST_F(SmallEntryLimit, TreesBeyondTheEntryLimitAreRefused) {
  // 2^13 leaves: about 24k entries from 15 small blobs.
  const auto digest = action_on(doubling_tree(13), 3600);
  const auto start = std::chrono::steady_clock::now();
  const auto out = execute(digest);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  EXPECT_EQ(out.response.status().code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << out.response.status().message();
  EXPECT_LT(took, 60s);
}

} // namespace
} // namespace ccrex::test
