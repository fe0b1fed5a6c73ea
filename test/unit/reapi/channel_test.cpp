#include "reapi/call_settings.h"
#include "reapi/channel.h"

#include <gtest/gtest.h>

namespace ccrex::reapi {
namespace {

TEST(Endpoint, ParsesTheSupportedForms) {
  struct Case {
    const char* text;
    const char* target;
    bool tls;
    bool unix_socket;
  };
  for (const auto& c :
       std::vector<Case>{{"grpc://localhost:8980", "localhost:8980", false, false},
                         {"http://build.example:80/", "build.example:80", false, false},
                         {"grpcs://cache.example:443", "cache.example:443", true, false},
                         {"https://cache.example:1", "cache.example:1", true, false},
                         {"grpc://[::1]:9000", "[::1]:9000", false, false},
                         {"127.0.0.1:41234", "127.0.0.1:41234", false, false},
                         {"unix:/run/ccrex.sock", "unix:/run/ccrex.sock", false, true},
                         {"unix:///run/x.sock", "unix:///run/x.sock", false, true}}) {
    auto e = parse_endpoint(c.text);
    ASSERT_TRUE(e) << c.text << ": " << e.error().message();
    EXPECT_EQ(e->target, c.target);
    EXPECT_EQ(e->tls, c.tls) << c.text;
    EXPECT_EQ(e->unix_socket, c.unix_socket) << c.text;
  }
}

TEST(Endpoint, RejectsBadEndpointsWithOneLine) {
  for (const char* bad : {"",
                          "grpc://",
                          "grpc://host",
                          "grpc://host:0",
                          "grpc://host:99999",
                          "grpc://host:port",
                          "grpc://host:80/path",
                          "ftp://host:21",
                          "unix:",
                          "unix:relative.sock",
                          "grpc://[::1:80",
                          "hostonly"}) {
    auto e = parse_endpoint(bad);
    ASSERT_FALSE(e) << bad;
    EXPECT_EQ(e.error().code(), util::ErrorCode::invalid_argument);
    EXPECT_EQ(e.error().message().find('\n'), std::string::npos);
  }
}

TEST(Channel, TlsFilesNeedATlsEndpointAndMustExist) {
  ChannelOptions plain;
  plain.endpoint = "grpc://localhost:1";
  plain.ca_file = "/nonexistent/ca.pem";
  EXPECT_FALSE(make_channel(plain));

  ChannelOptions tls;
  tls.endpoint = "grpcs://localhost:1";
  tls.ca_file = "/nonexistent/ca.pem";
  EXPECT_FALSE(make_channel(tls));
  tls.ca_file.clear();
  tls.client_cert_file = "/some/cert.pem"; // key missing
  EXPECT_FALSE(make_channel(tls));
  tls.client_cert_file.clear();
  EXPECT_TRUE(make_channel(tls));
}

TEST(CallSettings, BearerTokenAndUuid) {
  CallSettings s;
  s.set_bearer_token("secret");
  ASSERT_EQ(s.headers.size(), 1U);
  EXPECT_EQ(s.headers[0].first, "authorization");
  EXPECT_EQ(s.headers[0].second, "Bearer secret");
  const auto a = random_uuid();
  EXPECT_EQ(a.size(), 36U);
  EXPECT_EQ(a[14], '4');
  EXPECT_NE(a, random_uuid());
  const auto md = make_request_metadata(s, "abc");
  EXPECT_EQ(md.tool_details().tool_name(), "ccrex");
  EXPECT_FALSE(md.tool_details().tool_version().empty());
  EXPECT_EQ(md.action_id(), "abc");
}

} // namespace
} // namespace ccrex::reapi
