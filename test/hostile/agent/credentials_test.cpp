// The agent's secrets: an access token or extra headers never go over plaintext to an
// engine that is not on this machine unless allow_plaintext_credentials says so, and
// `ccrex --show-config` never prints them.

#include "agent/config.h"
#include "agent/grpc_executor.h"
#include "reapi/channel.h"

#include <gtest/gtest.h>

namespace ccrex::agent {
namespace {

Config config_for(const std::string& remote) {
  auto c = load_config({"HOME=/nonexistent-home"});
  EXPECT_TRUE(c) << (c ? "" : c.error().message());
  Config out = c ? *c : Config{};
  out.remote = remote;
  return out;
}

TEST(PlaintextCredentials, AreNotSentToARemoteEngine) {
  for (const std::string remote :
       {"grpc://192.0.2.10:8980", "http://build.example:80", "10.1.2.3:8980"}) {
    auto token = config_for(remote);
    token.access_token = "s3cret-token";
    auto r = make_remote_executor(token);
    ASSERT_FALSE(r) << remote << ": an executor that sends the token in plaintext";
    EXPECT_EQ(r.error().code(), util::ErrorCode::permission_denied);
    EXPECT_NE(r.error().message().find("plaintext"), std::string::npos) << r.error().message();
    EXPECT_NE(r.error().message().find("allow_plaintext_credentials"), std::string::npos);
    EXPECT_EQ(r.error().message().find("s3cret"), std::string::npos) << r.error().message();

    auto headers = config_for(remote);
    headers.headers = {"x-api-key=s3cret-key"};
    EXPECT_FALSE(make_remote_executor(headers)) << remote << ": headers in plaintext";

    // Explicitly allowed, or nothing secret to send: fine.
    token.allow_plaintext_credentials = true;
    EXPECT_TRUE(make_remote_executor(token)) << remote;
    EXPECT_TRUE(make_remote_executor(config_for(remote))) << remote;
  }
}

TEST(PlaintextCredentials, MayGoToThisMachineOrOverTls) {
  for (const std::string remote : {"grpc://127.0.0.1:8980",
                                   "grpc://127.8.9.10:8980",
                                   "grpc://localhost:8980",
                                   "grpc://[::1]:8980",
                                   "unix:/run/ccrex.sock",
                                   "grpcs://build.example:443"}) {
    auto c = config_for(remote);
    c.access_token = "s3cret-token";
    c.headers = {"x-api-key=s3cret-key"};
    auto r = make_remote_executor(c);
    EXPECT_TRUE(r) << remote << ": " << (r ? "" : r.error().message());
  }
}

TEST(PlaintextCredentials, SettingIsAConfigKey) {
  auto c = load_config({"HOME=/nonexistent-home", "CCREX_ALLOW_PLAINTEXT_CREDENTIALS=1"});
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_TRUE(c->allow_plaintext_credentials);
  EXPECT_NE(describe(*c).find("allow_plaintext_credentials = true"), std::string::npos);
}

TEST(ShowConfig, MasksTokenAndHeaderValues) {
  auto c = load_config({"HOME=/nonexistent-home",
                        "CCREX_ACCESS_TOKEN=tok-7f3a9c",
                        "CCREX_HEADERS=x-api-key=key-5e1d2b,x-team=team-8c4f0a"});
  ASSERT_TRUE(c) << c.error().message();
  const std::string text = describe(*c);
  for (const char* secret : {"tok-7f3a9c", "key-5e1d2b", "team-8c4f0a"}) {
    EXPECT_EQ(text.find(secret), std::string::npos) << secret << " shown:\n" << text;
  }
  EXPECT_NE(text.find("headers = x-api-key=***,x-team=***"), std::string::npos) << text;
  EXPECT_NE(text.find("access_token = ***"), std::string::npos) << text;
}

TEST(LoopbackHosts, OnlyAddressesThatCannotLeaveTheMachine) {
  for (const char* host : {"localhost",
                           "LocalHost",
                           "127.0.0.1",
                           "127.255.0.9",
                           "::1",
                           "0:0:0:0:0:0:0:1",
                           "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(reapi::is_loopback_host(host)) << host;
  }
  for (const char* host : {"0.0.0.0",
                           "::",
                           "",
                           "10.0.0.1",
                           "128.0.0.1",
                           "localhost.example",
                           "127.0.0.1.example",
                           "::ffff:10.0.0.1",
                           "myhost"}) {
    EXPECT_FALSE(reapi::is_loopback_host(host)) << host;
  }
  EXPECT_EQ(reapi::target_host("[::1]:8980"), "::1");
  EXPECT_EQ(reapi::target_host("127.0.0.1:8980"), "127.0.0.1");
  EXPECT_EQ(reapi::target_host("0.0.0.0:0"), "0.0.0.0");
  EXPECT_EQ(reapi::target_host(":8980"), "");
}

} // namespace
} // namespace ccrex::agent
