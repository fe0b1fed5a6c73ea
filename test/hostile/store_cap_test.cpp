// The ActionCache cannot grow past the store's size cap: a client allowed to write results
// (or one running many executions) fills it, and the store on disk stays within the cap;
// the least recently used entries go first, so results that are read survive.

#include "hostile/hostile_support.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace ccrex::test {
namespace {

constexpr int64_t k_cap = 256 << 10;

// Bytes of every file of the CAS and the ActionCache under `cache_dir`.
int64_t store_bytes(const std::string& cache_dir) {
  int64_t total = 0;
  for (const char* sub : {"/cas", "/ac"}) {
    std::error_code ec;
    for (std::filesystem::recursive_directory_iterator it(cache_dir + sub, ec), end;
         !ec && it != end;
         it.increment(ec)) {
      if (it->is_regular_file(ec)) {
        total += static_cast<int64_t>(it->file_size(ec));
      }
    }
  }
  return total;
}

// A result of about 16 KiB that references no blob (the bytes sit in its metadata).
v2::ActionResult bulky_result(int i) {
  v2::ActionResult r;
  r.set_exit_code(0);
  r.mutable_execution_metadata()->set_worker(std::to_string(i) + std::string(16 << 10, 'w'));
  return r;
}

v2::Digest action_digest(int i) {
  return reapi::digest_of("filler action " + std::to_string(i));
}

TEST(StoreCap, ActionResultsStayWithinTheCapAndReadOnesSurvive) {
  ServerProcess server({"--max-size", std::to_string(k_cap), "--allow-ac-updates"});
  ASSERT_TRUE(server.ok()) << server.error();
  Caller caller(plain_channel(server.address()), "");
  constexpr int k_entries = 64; // 1 MiB of results against a 256 KiB cap
  for (int i = 0; i < k_entries; ++i) {
    const auto st = caller.update_result(action_digest(i), bulky_result(i));
    ASSERT_TRUE(st.ok()) << i << ": " << st.error_message();
    // The first entry is read after every write: it stays among the most recent.
    EXPECT_TRUE(caller.get_result(action_digest(0)).ok()) << "after " << i;
  }
  EXPECT_LE(store_bytes(server.cache_dir()), k_cap)
      << "the ActionCache grew past the store's size cap";
  v2::ActionResult got;
  ASSERT_TRUE(caller.get_result(action_digest(0), &got).ok());
  EXPECT_EQ(got.execution_metadata().worker(), bulky_result(0).execution_metadata().worker());
  EXPECT_EQ(caller.get_result(action_digest(1)).error_code(), grpc::StatusCode::NOT_FOUND)
      << "an entry nobody read since was not evicted";
  EXPECT_TRUE(caller.get_result(action_digest(k_entries - 1)).ok());
}

} // namespace
} // namespace ccrex::test
