#include "server/config.h"
#include "server/local_server.h"
#include "server/process_tree.h"
#include "util/file.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace ccrex::server {
namespace {

// A server whose actions run unconfined (the agent's embedded one) checks for PID
// namespaces and ccrex-action-init as it starts, not when its first action arrives: here
// no action ever arrives and the answers are there.
TEST(StartupProbes, UnconfinedServerAnswersBeforeItsFirstAction) {
  if (process_tree_probed()) {
    GTEST_SKIP() << "an earlier test of this process already made the checks";
  }
  util::TempDir dir("startup-probes-");
  Config cfg;
  cfg.cache_dir = dir.path() + "/store";
  cfg.listen = {"unix:" + dir.path() + "/s.sock"};
  cfg.workers = 1;
  cfg.sandbox.enabled = false;
  auto srv = LocalServer::start(cfg);
  ASSERT_TRUE(srv) << srv.error().message();
  for (int i = 0; i < 600 && !process_tree_probed(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(process_tree_probed());
}

} // namespace
} // namespace ccrex::server
