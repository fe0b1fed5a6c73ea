// An action that leaves more than --max-output-size in its outputs, stdout and stderr: the
// server answers RESOURCE_EXHAUSTED and stores none of it (no blob, no cached result).
// Without the cap, a command could fill the store with results no client could use.

#include "conformance/execution_support.h"
#include "reapi/digest.h"

#include <gtest/gtest.h>

namespace ccrex::test {
namespace {

class OutputLimit : public ExecutionFixture {
protected:
  std::vector<std::string> server_args() const override {
    return {"--workers", "2", "--max-output-size", "1M", "--compression-level", "0"};
  }
  bool accepts_client_results() const override { return false; }

  // Whether the CAS holds `data`.
  bool stored(const std::string& data) {
    std::string got;
    return get(reapi::digest_of(data), &got) == 0;
  }
};

TEST_F(OutputLimit, AResultOverTheCapIsRefusedAndNothingOfItIsStored) {
  // Three files of 400 KB: each fits, together they do not. Their bytes are distinct, so
  // finding any of them in the CAS means the result went in.
  const auto a = action(command({"/bin/sh",
                                 "-c",
                                 "mkdir d && for i in 1 2 3; do head -c 400000 /dev/urandom >d/$i; "
                                 "done; cat d/1 >kept; echo done"},
                                {"d", "kept"}));
  const auto r = run_ok(a);
  EXPECT_EQ(r.status().code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << r.status().message();
  EXPECT_NE(r.status().message().find("--max-output-size"), std::string::npos)
      << r.status().message();
  EXPECT_EQ(r.result().output_files_size() + r.result().output_directories_size(), 0);
  EXPECT_EQ(ac_lookup(a), grpc::StatusCode::NOT_FOUND);
}

TEST_F(OutputLimit, StdoutCountsAndSymlinksAreNotFollowed) {
  // 1.2 MB on stdout alone is over.
  auto r = run_ok(action(command({"/bin/sh", "-c", "head -c 1200000 /dev/zero"})));
  EXPECT_EQ(r.status().code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << r.status().message();
  // A symlink output to a large file that is not an output counts as the link, not as the
  // file it points to.
  r = run_ok(action(command(
      {"/bin/sh", "-c", "head -c 1200000 /dev/zero >data; ln -s data big; echo linked"}, {"big"})));
  EXPECT_EQ(r.status().code(), grpc::StatusCode::OK) << r.status().message();
  EXPECT_EQ(r.result().exit_code(), 0);
}

TEST_F(OutputLimit, AResultUnderTheCapIsKept) {
  const auto a = action(command({"/bin/sh", "-c", "printf small >f; echo hello"}, {"f"}));
  const auto r = run_ok(a);
  ASSERT_EQ(r.status().code(), grpc::StatusCode::OK) << r.status().message();
  ASSERT_EQ(r.result().output_files_size(), 1);
  EXPECT_EQ(blob(r.result().output_files(0).digest()), "small");
  EXPECT_TRUE(stored("small"));
  EXPECT_EQ(ac_lookup(a), grpc::StatusCode::OK);
}

} // namespace
} // namespace ccrex::test
