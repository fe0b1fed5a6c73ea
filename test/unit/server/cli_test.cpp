#include "server/cli.h"

#include <gtest/gtest.h>

namespace ccrex::server {
namespace {

TEST(ServerCli, ParsesOptions) {
  auto o = parse_cli({"--listen",
                      "unix:/tmp/s.sock",
                      "--listen=127.0.0.1:0",
                      "--cache-dir",
                      "/x",
                      "--max-size",
                      "2G",
                      "--workers",
                      "3",
                      "--platform",
                      "ISA=arm-a64",
                      "--lenient-platform"});
  ASSERT_TRUE(o) << o.error().message();
  EXPECT_EQ(o->config.listen.size(), 2U);
  EXPECT_EQ(o->config.cache_dir, "/x");
  EXPECT_EQ(o->config.max_size, int64_t{2} << 30);
  EXPECT_EQ(o->config.workers, 3);
  EXPECT_EQ(o->config.platform["ISA"], std::vector<std::string>{"arm-a64"});
  EXPECT_FALSE(o->config.platform["OSFamily"].empty()); // host default kept
  EXPECT_TRUE(o->config.lenient_platform);
}

TEST(ServerCli, DefaultsListenAddress) {
  auto o = parse_cli({});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->config.listen, std::vector<std::string>{"127.0.0.1:8980"});
}

TEST(ServerCli, RejectsBadInput) {
  EXPECT_FALSE(parse_cli({"--bogus"}));
  EXPECT_FALSE(parse_cli({"--workers"}));
  EXPECT_FALSE(parse_cli({"--workers", "0"}));
  EXPECT_FALSE(parse_cli({"--max-size", "lots"}));
  EXPECT_FALSE(parse_cli({"--platform", "novalue"}));
  EXPECT_FALSE(parse_cli({"--default-timeout", "100", "--max-timeout", "10"}));
}

} // namespace
} // namespace ccrex::server
