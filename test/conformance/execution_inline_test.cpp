// Inlined outputs in Execute's answer: a client that sends the inline hints of REAPI 2.9
// (reapi/execute_inline.h) gets stdout, stderr and the named output files' contents in the
// ExecuteResponse, for a run and for a cache hit, within the server's inline budget; a
// client that sends none gets the same ActionResult as before, contents left out.

#include "execution_support.h"
#include "reapi/execute_inline.h"

#include <gtest/gtest.h>

namespace ccrex::test {
namespace {

class InlineExecution : public ExecutionFixture {
protected:
  // Execute `action_digest` asking for `wanted` inline; return the final response.
  v2::ExecuteResponse run_inline(const v2::Digest& action_digest,
                                 const reapi::InlineOptions& wanted) {
    v2::ExecuteRequest req;
    *req.mutable_action_digest() = action_digest;
    reapi::set_execute_inline(req, wanted);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    auto reader = exec->Execute(&ctx, req);
    auto out = read_stream(*reader);
    EXPECT_TRUE(out.status.ok()) << out.status.error_message();
    EXPECT_TRUE(out.done);
    return out.response;
  }

  static reapi::InlineOptions everything(std::vector<std::string> paths) {
    reapi::InlineOptions o;
    o.inline_stdout = true;
    o.inline_stderr = true;
    o.inline_output_files = std::move(paths);
    return o;
  }

  static const v2::OutputFile& output(const v2::ActionResult& r, const std::string& path) {
    for (const auto& f : r.output_files()) {
      if (f.path() == path) {
        return f;
      }
    }
    ADD_FAILURE() << "no output " << path;
    return v2::OutputFile::default_instance();
  }
};

const char* const k_script = "echo out; echo err >&2; echo a > a.o; echo b > b.d";

TEST_F(InlineExecution, RunAndCacheHitCarryWhatWasAsked) {
  const auto digest = action(command({"sh", "-c", k_script}, {"a.o", "b.d"}));
  for (const bool cached : {false, true}) {
    const auto resp = run_inline(digest, everything({"a.o"}));
    EXPECT_EQ(resp.cached_result(), cached);
    const auto& r = resp.result();
    EXPECT_EQ(r.exit_code(), 0);
    EXPECT_EQ(r.stdout_raw(), "out\n");
    EXPECT_EQ(r.stderr_raw(), "err\n");
    EXPECT_EQ(output(r, "a.o").contents(), "a\n");
    EXPECT_EQ(blob(output(r, "a.o").digest()), "a\n");
    EXPECT_EQ(output(r, "b.d").contents(), "") << "not asked for";
  }
  // What the server stored is the plain result: inlining is per answer.
  v2::ActionResult stored;
  ASSERT_EQ(ac_lookup(digest, &stored), grpc::StatusCode::OK);
  EXPECT_EQ(stored.stdout_raw(), "");
  EXPECT_EQ(output(stored, "a.o").contents(), "");
}

// Bazel and every client before 2.9 send no hints: nothing is inlined, run or hit.
TEST_F(InlineExecution, NothingWithoutHints) {
  const auto digest = action(command({"sh", "-c", k_script}, {"a.o", "b.d"}));
  for (const bool cached : {false, true}) {
    const auto resp = run_ok(digest);
    EXPECT_EQ(resp.cached_result(), cached);
    EXPECT_EQ(resp.result().stdout_raw(), "");
    EXPECT_EQ(resp.result().stderr_raw(), "");
    for (const auto& f : resp.result().output_files()) {
      EXPECT_EQ(f.contents(), "") << f.path();
    }
  }
}

// A failed command's stderr comes inline too (it is never cached, so it is always a run).
TEST_F(InlineExecution, FailureCarriesItsStderr) {
  const auto digest = action(command({"sh", "-c", "echo 'error: nope' >&2; exit 1"}, {"a.o"}));
  const auto resp = run_inline(digest, everything({"a.o"}));
  EXPECT_EQ(resp.result().exit_code(), 1);
  EXPECT_EQ(resp.result().stderr_raw(), "error: nope\n");
  EXPECT_EQ(resp.result().output_files_size(), 0);
}

// Outputs beyond the budget are left for the client to read; what fits is still inlined.
TEST_F(InlineExecution, LargeOutputsAreLeftOut) {
  const auto digest =
      action(command({"sh", "-c", "head -c 1200000 /dev/zero > big.o; echo small > small.o"},
                     {"big.o", "small.o"}));
  const auto resp = run_inline(digest, everything({"big.o", "small.o"}));
  const auto& big = output(resp.result(), "big.o");
  EXPECT_EQ(big.digest().size_bytes(), 1200000);
  EXPECT_EQ(big.contents(), "");
  EXPECT_EQ(output(resp.result(), "small.o").contents(), "small\n");
}

} // namespace
} // namespace ccrex::test
