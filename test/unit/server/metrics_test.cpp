// Metrics: counting, the caps on client-chosen names, and the two renderings.

#include "server/metrics.h"

#include <gtest/gtest.h>

#include <string>

namespace ccrex::server {
namespace {

TEST(Metrics, QueueAndRunningFollowTheActions) {
  Metrics m;
  m.set_store_probe([] { return std::pair<int64_t, int64_t>{1234, 5678}; });
  m.action_queued();
  m.action_queued();
  m.action_queued();
  m.action_started("aa/1");
  m.action_dropped();
  auto s = m.snapshot();
  EXPECT_EQ(s.queued, 1);
  EXPECT_EQ(s.running, 1);
  ASSERT_EQ(s.running_actions.size(), 1U);
  EXPECT_EQ(s.running_actions[0].first, "aa/1");
  EXPECT_EQ(s.store_bytes, 1234);
  EXPECT_EQ(s.store_limit, 5678);
  m.action_finished({.action_digest = "aa/1", .instance = "i", .exit_code = 2});
  s = m.snapshot();
  EXPECT_EQ(s.running, 0);
  EXPECT_EQ(s.instances.at("i").executions, 1U);
  EXPECT_EQ(s.instances.at("i").failed_executions, 1U);
  m.set_store_probe(nullptr);
  EXPECT_EQ(m.snapshot().store_bytes, 0);
}

TEST(Metrics, RecentActionsAreCappedNewestFirst) {
  Metrics m;
  for (size_t i = 0; i < Metrics::k_recent_actions + 10; ++i) {
    m.action_finished({.action_digest = std::to_string(i) + "/1", .instance = "", .cached = true});
  }
  const auto s = m.snapshot();
  ASSERT_EQ(s.recent.size(), Metrics::k_recent_actions);
  EXPECT_EQ(s.recent.front().action_digest, std::to_string(Metrics::k_recent_actions + 9) + "/1");
  EXPECT_EQ(s.instances.at("").executions, 0U); // cache hits are not executions
}

TEST(Metrics, ClientChosenNamesCannotGrowIt) {
  Metrics m;
  for (int i = 0; i < 1000; ++i) {
    m.action_cache_lookup("instance-" + std::to_string(i), false);
    m.count_call("/made.up.Service/Method" + std::to_string(i), 12);
  }
  m.count_call("/build.bazel.remote.execution.v2.ActionCache/GetActionResult", 5);
  const auto s = m.snapshot();
  EXPECT_EQ(s.instances.size(), Metrics::k_max_instances + 1);
  EXPECT_EQ(s.instances.at(std::string(Metrics::k_other_instance)).ac_misses,
            1000 - Metrics::k_max_instances);
  EXPECT_EQ(s.calls.size(), 2U);
  EXPECT_EQ(s.calls.at({"other", "UNIMPLEMENTED"}), 1000U);
  EXPECT_EQ(s.calls.at({"ActionCache/GetActionResult", "NOT_FOUND"}), 1U);
}

TEST(Metrics, PrometheusTextEscapesLabelsAndAnnouncesEveryMetric) {
  Metrics m;
  m.action_cache_lookup("a\"b\\c\nd", true);
  const std::string text = prometheus_text(m.snapshot());
  EXPECT_NE(text.find(R"(ccrex_action_cache_lookups_total{instance="a\"b\\c\nd",result="hit"} 1)"),
            std::string::npos)
      << text;
  for (const std::string name : {"ccrex_uptime_seconds",
                                 "ccrex_store_bytes",
                                 "ccrex_actions_queued",
                                 "ccrex_grpc_calls_total",
                                 "ccrex_action_cache_lookups_total"}) {
    EXPECT_NE(text.find("# HELP " + name + " "), std::string::npos) << name;
    EXPECT_NE(text.find("# TYPE " + name + " "), std::string::npos) << name;
  }
}

TEST(Metrics, CompressedTransfersAreCountedByDirection) {
  Metrics m;
  m.compressed_transfer(true, 100, 1000);
  m.compressed_transfer(false, 30, 400);
  m.compressed_transfer(false, 20, 300);
  const auto s = m.snapshot();
  EXPECT_EQ(s.compressed.writes, 1U);
  EXPECT_EQ(s.compressed.reads, 2U);
  EXPECT_EQ(s.compressed.wire_bytes_received, 100U);
  EXPECT_EQ(s.compressed.wire_bytes_sent, 50U);
  EXPECT_EQ(s.compressed.blob_bytes_received, 1000U);
  EXPECT_EQ(s.compressed.blob_bytes_sent, 700U);
  const std::string text = prometheus_text(s);
  EXPECT_NE(text.find(R"(ccrex_cas_compressed_streams_total{direction="read"} 2)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(ccrex_cas_compressed_wire_bytes_total{direction="write"} 100)"),
            std::string::npos);
  EXPECT_NE(text.find(R"(ccrex_cas_compressed_blob_bytes_total{direction="read"} 700)"),
            std::string::npos);
}

TEST(Metrics, StatusPageEscapesWhatClientsChose) {
  Metrics m;
  m.action_cache_lookup("<img src=x onerror=alert(1)>", true);
  m.action_cache_lookup("<img src=x onerror=alert(1)>", false);
  m.action_finished({.action_digest = "ab/3", .instance = "'\"&", .exit_code = 0});
  const std::string page = status_page(m.snapshot());
  EXPECT_EQ(page.find("<img"), std::string::npos);
  EXPECT_NE(page.find("&lt;img src=x onerror=alert(1)&gt;"), std::string::npos);
  EXPECT_NE(page.find("&#39;&quot;&amp;"), std::string::npos);
  EXPECT_NE(page.find(R"(<td id="hit-rate">50.0 %</td>)"), std::string::npos) << page;
  EXPECT_EQ(page.find("<script"), std::string::npos);
}

} // namespace
} // namespace ccrex::server
