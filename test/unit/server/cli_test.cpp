#include "server/cli.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

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

TEST(ServerCli, CompressionLevel) {
  auto o = parse_cli({});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->config.compression_level, 1); // ccache's default
  o = parse_cli({"--compression-level", "0"});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->config.compression_level, 0); // off
  o = parse_cli({"--compression-level", "-5"});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->config.compression_level, -5);
  for (const char* bad : {"20", "-6", "fast"}) {
    o = parse_cli({"--compression-level", bad});
    ASSERT_FALSE(o) << bad;
    EXPECT_NE(o.error().message().find("--compression-level"), std::string::npos)
        << o.error().message();
  }
}

TEST(ServerCli, SizesMustHoldSomething) {
  for (const char* opt : {"--max-size", "--max-blob-size"}) {
    const auto o = parse_cli({opt, "0"});
    ASSERT_FALSE(o) << opt;
    EXPECT_NE(o.error().message().find(opt), std::string::npos) << o.error().message();
    EXPECT_TRUE(parse_cli({opt, "1"})) << opt;
  }
}

// A bad value is reported with the option it was given to.
TEST(ServerCli, ErrorsNameTheirOption) {
  const std::vector<std::vector<std::string>> cases = {
      {"--max-size", "lots"},
      {"--max-output-size", "0"},
      {"--workers", "two"},
      {"--default-timeout", "soon"},
      {"--max-input-entries", "many"},
      {"--stream-idle-timeout=x"},
      {"--sandbox-max-memory", "big"},
      {"--sandbox-max-processes", "-x"},
      {"--api-versions", "9.9"},
      {"--cache-dir"},
  };
  for (const auto& args : cases) {
    const auto o = parse_cli(args);
    ASSERT_FALSE(o) << args[0];
    const std::string opt = args[0].substr(0, args[0].find('='));
    EXPECT_NE(o.error().message().find(opt), std::string::npos)
        << args[0] << ": " << o.error().message();
  }
}

// root's home is private, so a server run as root keeps its store where system services
// keep theirs; XDG_CACHE_HOME still wins.
TEST(ServerCli, DefaultStoreFollowsTheUser) {
  const char* old = std::getenv("XDG_CACHE_HOME"); // NOLINT(concurrency-mt-unsafe)
  const std::string saved = old != nullptr ? old : "";
  ::unsetenv("XDG_CACHE_HOME"); // NOLINT(concurrency-mt-unsafe)
  auto o = parse_cli({});
  ASSERT_TRUE(o);
  if (::geteuid() == 0) {
    EXPECT_EQ(o->config.cache_dir, "/var/cache/ccrex-server");
  } else {
    EXPECT_TRUE(o->config.cache_dir.ends_with("/.cache/ccrex-server")) << o->config.cache_dir;
  }
  ::setenv("XDG_CACHE_HOME", "/somewhere", 1); // NOLINT(concurrency-mt-unsafe)
  o = parse_cli({});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->config.cache_dir, "/somewhere/ccrex-server");
  if (old != nullptr) {
    ::setenv("XDG_CACHE_HOME", saved.c_str(), 1); // NOLINT(concurrency-mt-unsafe)
  } else {
    ::unsetenv("XDG_CACHE_HOME"); // NOLINT(concurrency-mt-unsafe)
  }
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

TEST(ServerCli, RemoteAssetPushesAreOptIn) {
  auto o = parse_cli({});
  ASSERT_TRUE(o);
  EXPECT_FALSE(o->config.allow_asset_pushes);
  EXPECT_TRUE(Config().allow_asset_pushes); // the embedded server's default
  auto allowed = parse_cli({"--allow-asset-pushes", "--max-assets", "10"});
  ASSERT_TRUE(allowed);
  EXPECT_TRUE(allowed->config.allow_asset_pushes);
  EXPECT_EQ(allowed->config.max_assets, 10U);
  EXPECT_FALSE(parse_cli({"--max-assets", "0"}));
  auto both = parse_cli({"--auth-tokens", "/tokens", "--allow-asset-pushes"});
  ASSERT_FALSE(both);
  EXPECT_NE(both.error().message().find("write-asset"), std::string::npos);
}

TEST(ServerCli, LimitDefaultsBoundASharedServer) {
  auto o = parse_cli({});
  ASSERT_TRUE(o);
  const Config& c = o->config;
  EXPECT_EQ(c.max_queued, 1024U);
  EXPECT_EQ(c.max_queued_per_client, 256U);
  EXPECT_EQ(c.max_streams_per_client, 64U);
  EXPECT_EQ(c.abandoned_grace, std::chrono::seconds(5));
  EXPECT_EQ(c.max_input_entries, 1000000);
  EXPECT_EQ(c.max_blob_size, int64_t{1} << 30);
  EXPECT_EQ(c.max_output_size, int64_t{4} << 30);
  EXPECT_EQ(c.stream_idle_timeout, std::chrono::seconds(60));
  EXPECT_EQ(c.partial_upload_expiry, std::chrono::seconds(300));
  // The embedded server's library defaults leave the queue and the streams unbounded.
  const Config embedded;
  EXPECT_EQ(embedded.max_queued, 0U);
  EXPECT_EQ(embedded.max_queued_per_client, 0U);
  EXPECT_EQ(embedded.max_streams_per_client, 0U);
}

TEST(ServerCli, ParsesLimitOptions) {
  auto o = parse_cli({"--abandoned-grace",
                      "12",
                      "--max-queued=7",
                      "--max-queued-per-client",
                      "3",
                      "--max-input-entries",
                      "5000",
                      "--max-blob-size",
                      "64M",
                      "--max-output-size",
                      "2G",
                      "--partial-upload-expiry",
                      "90",
                      "--stream-idle-timeout=15",
                      "--max-streams-per-client",
                      "9"});
  ASSERT_TRUE(o) << o.error().message();
  const Config& c = o->config;
  EXPECT_EQ(c.abandoned_grace, std::chrono::seconds(12));
  EXPECT_EQ(c.max_queued, 7U);
  EXPECT_EQ(c.max_queued_per_client, 3U);
  EXPECT_EQ(c.max_input_entries, 5000);
  EXPECT_EQ(c.max_blob_size, int64_t{64} << 20);
  EXPECT_EQ(c.max_output_size, int64_t{2} << 30);
  EXPECT_EQ(c.partial_upload_expiry, std::chrono::seconds(90));
  EXPECT_EQ(c.stream_idle_timeout, std::chrono::seconds(15));
  EXPECT_EQ(c.max_streams_per_client, 9U);
}

TEST(ServerCli, ZeroMeansUnboundedQueuesAndNoGrace) {
  auto o = parse_cli({"--max-queued", "0", "--max-queued-per-client", "0", "--abandoned-grace=0"});
  ASSERT_TRUE(o) << o.error().message();
  EXPECT_EQ(o->config.max_queued, 0U);
  EXPECT_EQ(o->config.max_queued_per_client, 0U);
  EXPECT_EQ(o->config.abandoned_grace.count(), 0);
}

TEST(ServerCli, BadLimitValuesGiveOneLineErrors) {
  const std::vector<std::vector<std::string>> bad = {
      {"--abandoned-grace", "soon"},
      {"--abandoned-grace", "-1"},
      {"--max-queued", "many"},
      {"--max-queued", "-5"},
      {"--max-queued-per-client", "1.5"},
      {"--max-input-entries", "lots"},
      {"--max-input-entries", "-1"},
      {"--max-blob-size", "big"},
      {"--max-blob-size", "12Q"},
      {"--partial-upload-expiry", "0"},
      {"--partial-upload-expiry", "x"},
      {"--stream-idle-timeout", "0"},
      {"--stream-idle-timeout", ""},
      {"--max-streams-per-client", "ten"},
      {"--max-queued", "99999999999999999999999"},
      {"--max-streams-per-client"}, // no value
      {"--stream-idle-timeout"},
  };
  for (const auto& args : bad) {
    const auto o = parse_cli(args);
    ASSERT_FALSE(o) << args[0] << " " << (args.size() > 1 ? args[1] : "(none)");
    const std::string& msg = o.error().message();
    EXPECT_FALSE(msg.empty()) << args[0];
    EXPECT_EQ(msg.find('\n'), std::string::npos) << args[0] << ": " << msg;
  }
}

TEST(ServerCli, LimitErrorsNameTheOptionOrTheValue) {
  for (const auto& [opt, value] :
       std::vector<std::pair<std::string, std::string>>{{"--abandoned-grace", "soon"},
                                                        {"--max-queued", "many"},
                                                        {"--max-queued-per-client", "x1"},
                                                        {"--max-input-entries", "lots"},
                                                        {"--max-blob-size", "big"},
                                                        {"--partial-upload-expiry", "0"},
                                                        {"--stream-idle-timeout", "0"},
                                                        {"--max-streams-per-client", "ten"}}) {
    const auto o = parse_cli({opt, value});
    ASSERT_FALSE(o) << opt;
    const std::string& msg = o.error().message();
    EXPECT_TRUE(msg.find(opt) != std::string::npos
                || msg.find("'" + value + "'") != std::string::npos)
        << opt << ": " << msg;
  }
}

} // namespace
} // namespace ccrex::server
