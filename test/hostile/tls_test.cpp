// TLS and mutual TLS (--tls-cert, --tls-key, --tls-client-ca): a plaintext client, a client
// that trusts another CA, and a client without (or with a foreign) certificate get nothing;
// ccrex's own channel code (reapi::make_channel) gets through with the right files and token.

#include "hostile/hostile_support.h"
#include "reapi/channel.h"
#include "reapi/remote.h"
#include "support/test_certs.h"

#include <gtest/gtest.h>

namespace ccrex::test {
namespace {

const std::string k_token = "tls-token-6b1e0c4f9a2d47e8b3c5d1f0a9e8b7c6";

class Tls : public ::testing::Test {
protected:
  void SetUp() override {
    let_sandbox_search(m_dir.path());
    m_certs = TestCertificates::create(m_dir.path() + "/pki");
    if (!m_certs.available()) {
      GTEST_SKIP() << m_certs.skip_reason();
    }
    ASSERT_TRUE(m_certs.ok()) << m_certs.error();
    ASSERT_TRUE(util::write_file_atomic(m_dir.path() + "/tokens",
                                        token_line(k_token, "*", "read,write-cas", "tls")));
  }

  // Start a TLS server with `extra` options; its port goes to m_port.
  void start(std::vector<std::string> extra, const std::string& listen = "127.0.0.1:0") {
    std::vector<std::string> args = {
        "--tls-cert", m_certs.server_cert(), "--tls-key", m_certs.server_key()};
    args.insert(args.end(), extra.begin(), extra.end());
    m_server = std::make_unique<ServerProcess>(args, listen);
    ASSERT_TRUE(m_server->ok()) << m_server->error();
    m_port = m_server->address().substr(m_server->address().rfind(':') + 1);
  }

  // A channel made by ccrex's client code.
  std::shared_ptr<grpc::Channel>
  channel(const std::string& ca, const std::string& cert = "", const std::string& key = "") {
    reapi::ChannelOptions o;
    o.endpoint = "grpcs://127.0.0.1:" + m_port;
    o.ca_file = ca;
    o.client_cert_file = cert;
    o.client_key_file = key;
    auto ch = reapi::make_channel(o);
    EXPECT_TRUE(ch) << (ch ? "" : ch.error().message());
    return ch ? *ch : nullptr;
  }

  static grpc::Status probe(const std::shared_ptr<grpc::Channel>& ch, const std::string& token) {
    Caller c(ch, token);
    v2::ServerCapabilities caps;
    return c.capabilities("", &caps);
  }

  util::TempDir m_dir;
  TestCertificates m_certs;
  std::unique_ptr<ServerProcess> m_server;
  std::string m_port;
};

TEST_F(Tls, PlaintextClientGetsNothing) {
  start({});
  auto plain = plain_channel("127.0.0.1:" + m_port);
  Caller c(plain, "");
  for (const auto& [method, st] : c.call_everything()) {
    EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE)
        << method << ": " << st.error_message();
  }
  // Nothing it sent was stored.
  Caller good(channel(m_certs.ca()), "");
  EXPECT_TRUE(good.missing(reapi::digest_of("hostile probe")));
}

TEST_F(Tls, ClientTrustingAnotherCaRefusesTheServer) {
  start({});
  EXPECT_EQ(probe(channel(m_certs.other_ca()), "").error_code(), grpc::StatusCode::UNAVAILABLE);
  const auto st = probe(channel(m_certs.ca()), "");
  EXPECT_TRUE(st.ok()) << st.error_message();
}

TEST_F(Tls, MutualTlsRefusesClientsWithoutAValidCertificate) {
  start({"--tls-client-ca", m_certs.ca()});
  EXPECT_EQ(probe(channel(m_certs.ca()), "").error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(
      probe(channel(m_certs.ca(), m_certs.rogue_cert(), m_certs.rogue_key()), "").error_code(),
      grpc::StatusCode::UNAVAILABLE);
  // The rogue client's uploads never landed.
  auto good = channel(m_certs.ca(), m_certs.client_cert(), m_certs.client_key());
  Caller rogue(channel(m_certs.ca(), m_certs.rogue_cert(), m_certs.rogue_key()), "");
  EXPECT_NE(rogue.upload("from a rogue client").error_code(), grpc::StatusCode::OK);
  EXPECT_TRUE(Caller(good, "").missing(reapi::digest_of("from a rogue client")));
  const auto st = probe(good, "");
  EXPECT_TRUE(st.ok()) << st.error_message();
}

TEST_F(Tls, TokensStillRequiredOverTls) {
  start({"--tls-client-ca", m_certs.ca(), "--auth-tokens", m_dir.path() + "/tokens"});
  auto ch = channel(m_certs.ca(), m_certs.client_cert(), m_certs.client_key());
  EXPECT_EQ(probe(ch, "").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(probe(ch, "wrong").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(probe(ch, k_token).ok());

  // ccrex's REAPI client with its call settings: capabilities and an upload round trip.
  reapi::CallSettings settings;
  settings.set_bearer_token(k_token);
  reapi::GrpcRemoteExecutor remote(ch, settings);
  const auto info = remote.server_info();
  ASSERT_TRUE(info) << info.error().message();
  EXPECT_FALSE(info->ac_update_enabled);
  EXPECT_FALSE(info->exec_enabled);
  Caller c(ch, k_token);
  ASSERT_TRUE(c.upload("over TLS with a token").ok());
  EXPECT_FALSE(c.missing(reapi::digest_of("over TLS with a token")));

  reapi::GrpcRemoteExecutor anonymous(ch, reapi::CallSettings{});
  EXPECT_FALSE(anonymous.server_info());
}

TEST_F(Tls, AllInterfacesNeedNoOptionWithTls) {
  start({}, "0.0.0.0:0");
  const auto st = probe(channel(m_certs.ca()), "");
  EXPECT_TRUE(st.ok()) << st.error_message();
}

TEST_F(Tls, BrokenKeyIsOneClearError) {
  ASSERT_TRUE(util::write_file_atomic(m_dir.path() + "/bad.key", "not a key\n"));
  const auto r = run_server_to_exit({"--listen",
                                     "127.0.0.1:0",
                                     "--cache-dir",
                                     m_dir.path() + "/store",
                                     "--tls-cert",
                                     m_certs.server_cert(),
                                     "--tls-key",
                                     m_dir.path() + "/bad.key"});
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.stderr_data.find("ccrex-server: cannot listen"), std::string::npos) << r.stderr_data;
}

} // namespace
} // namespace ccrex::test
