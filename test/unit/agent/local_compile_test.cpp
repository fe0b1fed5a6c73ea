#include "agent/local_compile.h"
#include "util/file.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

namespace ccrex::agent {
namespace {

// Each job holds a lock directory for a while; a second job running at the same time finds
// the directory taken and exits 9.
std::vector<int> run_concurrently(LocalCompiler& local, const std::string& dir, int jobs) {
  std::vector<int> codes(4, -1);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < codes.size(); ++i) {
    threads.emplace_back([&, i] {
      auto r = local.run({"/bin/sh", "-c", "mkdir lock || exit 9; sleep 0.2; rmdir lock"},
                         dir,
                         {"PATH=/usr/bin:/bin"},
                         jobs);
      codes[i] = r ? r->exit_code : -2;
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  return codes;
}

TEST(LocalCompiler, HonoursTheConfiguredLimit) {
  util::TempDir dir;
  LocalCompiler local;
  EXPECT_EQ(run_concurrently(local, dir.path(), 1), std::vector<int>(4, 0));
  // With room for all four, they overlap and the lock is contended.
  const auto codes = run_concurrently(local, dir.path(), 4);
  EXPECT_NE(std::count(codes.begin(), codes.end(), 9), 0);
}

} // namespace
} // namespace ccrex::agent
