// A log file past its limit is renamed to <path>.1 and logging goes on in a new file, also
// while other threads are writing.
#include "util/file.h"
#include "util/logging.h"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <string>
#include <thread>
#include <vector>

namespace ccrex::util {
namespace {

int64_t size_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

TEST(Logging, RotatesPastItsLimit) {
  TempDir dir;
  const std::string path = join_path(dir.path(), "agent.log");
  ASSERT_TRUE(logging::log_to_file(path, logging::Level::info, 4096));
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([t] {
      for (int i = 0; i < 500; ++i) {
        CCREX_LOG_INFO("writer " << t << " line " << i);
      }
    });
  }
  for (auto& w : writers) {
    w.join();
  }
  CCREX_LOG_INFO("the last line");
  logging::disable();
  // Both files exist and stay near the limit (it is checked every few lines).
  EXPECT_GT(size_of(path + ".1"), 4096);
  EXPECT_LT(size_of(path + ".1"), 4096 + 64 * 4 * 100);
  EXPECT_LT(size_of(path), 4096 + 64 * 4 * 100);
  auto text = read_file(path);
  ASSERT_TRUE(text);
  EXPECT_NE(text->find("the last line"), std::string::npos);
  // Every line is whole: each ends its own write.
  for (const auto* file : {&path}) {
    auto t = read_file(*file);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->back(), '\n');
  }
}

TEST(Logging, NoLimitNoRotation) {
  TempDir dir;
  const std::string path = join_path(dir.path(), "server.log");
  ASSERT_TRUE(logging::log_to_file(path, logging::Level::info, 0));
  for (int i = 0; i < 300; ++i) {
    CCREX_LOG_INFO("line " << i);
  }
  logging::disable();
  EXPECT_EQ(size_of(path + ".1"), -1);
  EXPECT_GT(size_of(path), 300 * 20);
}

} // namespace
} // namespace ccrex::util
