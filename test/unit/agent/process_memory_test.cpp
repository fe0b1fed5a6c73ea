// The agent's heap: no more malloc arenas than it allows, however many threads allocate at
// once. The heap is glibc's only without a sanitizer, so the allocating runs in
// ccrex-test-heap-arenas (test/support/heap_arenas_main.cpp), which is never instrumented.
#include "util/strings.h"
#include "util/subprocess.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

namespace ccrex::agent {
namespace {

struct ArenaCounts {
  int before = -1;
  int after = -1;
};

ArenaCounts arenas_after_threads(int allowed, const std::vector<std::string>& env) {
  util::SubprocessOptions o;
  o.argv = {CCREX_TEST_HEAP_ARENAS_BIN, std::to_string(allowed)};
  o.env = env;
  o.timeout = std::chrono::seconds(60);
  auto r = util::run_subprocess(o);
  ArenaCounts counts;
  if (!r || r->exit_code != 0) {
    ADD_FAILURE() << "ccrex-test-heap-arenas did not run: "
                  << (r ? r->stderr_data : r.error().to_string());
    return counts;
  }
  for (const auto& line : util::split(r->stdout_data, '\n')) {
    if (line.starts_with("before ")) {
      counts.before = std::atoi(std::string(line.substr(7)).c_str());
    } else if (line.starts_with("after ")) {
      counts.after = std::atoi(std::string(line.substr(6)).c_str());
    }
  }
  return counts;
}

// The most arenas any of three runs made (threads that never met at the allocator make
// none: a loaded machine may run them one after the other).
int most_arenas(int allowed, const std::vector<std::string>& env) {
  int most = -1;
  for (int run = 0; run < 3; ++run) {
    const auto counts = arenas_after_threads(allowed, env);
    EXPECT_EQ(counts.before, 1) << "not a fresh heap";
    most = std::max(most, counts.after);
  }
  return most;
}

// With the cap at one, twelve threads allocating at once share the one heap. Without a
// cap (set far above what glibc makes on its own) the same threads make more, which shows
// that they met at the allocator, so that the capped runs show something.
TEST(HeapArenas, ManyThreadsAllocatingAtOnceShareTheArenasAllowed) {
  const std::vector<std::string> env = {"PATH=/usr/bin:/bin"};
  if (most_arenas(1000, env) <= 1) {
    GTEST_SKIP() << "the threads never met at the allocator (a loaded machine)";
  }
  EXPECT_EQ(most_arenas(1, env), 1);
}

// The user's own setting wins: with MALLOC_ARENA_MAX in the environment the agent leaves
// the allocator alone.
TEST(HeapArenas, TheUsersOwnSettingIsLeftAlone) {
  if (most_arenas(1000, {"PATH=/usr/bin:/bin"}) <= 1) {
    GTEST_SKIP() << "the threads never met at the allocator (a loaded machine)";
  }
  EXPECT_GT(most_arenas(1, {"PATH=/usr/bin:/bin", "MALLOC_ARENA_MAX=1000"}), 1);
}

} // namespace
} // namespace ccrex::agent
