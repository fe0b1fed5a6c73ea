#include "support/test_engine.h"

#include <cstdlib>

namespace ccrex::test {

std::string test_engine_binary() {
  const char* bin = std::getenv("CCREX_TEST_ENGINE_BIN"); // NOLINT(concurrency-mt-unsafe)
  if (bin != nullptr && *bin != '\0') {
    return bin;
  }
  return CCREX_TEST_ENGINE_DEFAULT_BIN;
}

std::unique_ptr<ServerProcess> start_test_engine(const std::string& mode,
                                                 std::vector<std::string> extra_args) {
  extra_args.insert(extra_args.begin(), {"--lie", mode});
  // ServerProcess runs `wrapper... <ccrex-server> <options>`; this wrapper drops the
  // ccrex-server path and runs the engine with the same options instead.
  std::vector<std::string> wrapper = {
      "/bin/sh", "-c", "shift; exec \"$0\" \"$@\"", test_engine_binary()};
  return std::make_unique<ServerProcess>(
      std::move(extra_args), "127.0.0.1:0", "", std::move(wrapper));
}

} // namespace ccrex::test
