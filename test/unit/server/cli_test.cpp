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

TEST(ServerCli, ApiVersionsDefaultToEverythingSpoken) {
  auto o = parse_cli({});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->config.api_versions, (ApiVersions{0, 2}));
  EXPECT_NE(usage().find("--api-versions RANGE"), std::string::npos);
}

TEST(ServerCli, ParsesApiVersionRanges) {
  const std::vector<std::pair<std::string, ApiVersions>> cases = {
      {"2.0", {0, 0}},
      {"2.1", {1, 1}},
      {"2.2", {2, 2}},
      {"2.1-2.2", {1, 2}},
      {"2.0-2.2", {0, 2}},
      {"2.0-2.1", {0, 1}},
      {"2.2-2.2", {2, 2}},
      {"2.1+", {1, 2}},
      {"2.0+", {0, 2}},
      {"2.2+", {2, 2}},
  };
  for (const auto& [text, want] : cases) {
    auto o = parse_cli({"--api-versions", text});
    ASSERT_TRUE(o) << text << ": " << o.error().message();
    EXPECT_EQ(o->config.api_versions, want) << text;
    auto inline_form = parse_cli({"--api-versions=" + text});
    ASSERT_TRUE(inline_form) << text;
    EXPECT_EQ(inline_form->config.api_versions, want) << text;
  }
  EXPECT_EQ((ApiVersions{1, 2}).to_string(), "2.1-2.2");
  EXPECT_EQ((ApiVersions{0, 0}).to_string(), "2.0");
}

TEST(ServerCli, RejectsBadApiVersionRanges) {
  for (const char* bad :
       {"",        "2",         "2.",      "2.3",         "3.0",   "1.0",   "2.2-2.1",
        "2.1-2.0", "2.0-2.3",   "2.3+",    "2.0-",        "-2.1",  "2.1++", "+",
        "2.01",    " 2.0",      "2.0 ",    "2.1-2.2-2.2", "2.-1",  "2.x",   "v2.0",
        "2.0,2.1", "2.1 - 2.2", "2.99999", "2.0\n",       "latest"}) {
    auto o = parse_cli({"--api-versions", bad});
    ASSERT_FALSE(o) << "'" << bad << "' accepted";
    const std::string& message = o.error().message();
    EXPECT_FALSE(message.empty()) << bad;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    EXPECT_NE(message.find("--api-versions"), std::string::npos) << message;
  }
  EXPECT_FALSE(parse_cli({"--api-versions"})); // no value
}

TEST(ServerCli, SharedServerDefaultsAreStrict) {
  auto o = parse_cli({});
  ASSERT_TRUE(o);
  EXPECT_FALSE(o->config.allow_ac_updates);
  EXPECT_FALSE(o->config.allow_insecure_listen);
  EXPECT_EQ(o->config.store_lock_wait.count(), 0);
  EXPECT_TRUE(o->config.auth_tokens_file.empty());
  // The library's defaults are the embedded server's: in-process, trusted.
  const Config embedded;
  EXPECT_TRUE(embedded.allow_ac_updates);
  EXPECT_GT(embedded.store_lock_wait.count(), 0);
}

TEST(ServerCli, ParsesSecurityOptions) {
  auto o = parse_cli({"--tls-cert",
                      "/c.pem",
                      "--tls-key=/k.pem",
                      "--tls-client-ca",
                      "/ca.pem",
                      "--auth-tokens",
                      "/tokens",
                      "--allow-insecure-listen"});
  ASSERT_TRUE(o) << o.error().message();
  EXPECT_EQ(o->config.tls_cert_file, "/c.pem");
  EXPECT_EQ(o->config.tls_key_file, "/k.pem");
  EXPECT_EQ(o->config.tls_client_ca_file, "/ca.pem");
  EXPECT_EQ(o->config.auth_tokens_file, "/tokens");
  EXPECT_TRUE(o->config.allow_insecure_listen);
  auto updates = parse_cli({"--allow-ac-updates"});
  ASSERT_TRUE(updates);
  EXPECT_TRUE(updates->config.allow_ac_updates);
}

TEST(ServerCli, RejectsInconsistentSecurityOptions) {
  EXPECT_FALSE(parse_cli({"--tls-cert", "/c.pem"}));
  EXPECT_FALSE(parse_cli({"--tls-key", "/k.pem"}));
  EXPECT_FALSE(parse_cli({"--tls-client-ca", "/ca.pem"}));
  EXPECT_FALSE(parse_cli({"--auth-tokens"}));
  auto both = parse_cli({"--auth-tokens", "/tokens", "--allow-ac-updates"});
  ASSERT_FALSE(both);
  EXPECT_NE(both.error().message().find("write-ac"), std::string::npos);
}

} // namespace
} // namespace ccrex::server
