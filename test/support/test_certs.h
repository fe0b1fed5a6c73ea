#pragma once

// TestCertificates: a throwaway PKI for TLS tests, made by make_test_certs.sh with the
// openssl command at test time (see that script for what each file is).
//
//   auto certs = TestCertificates::create(dir.path());
//   if (!certs.available()) GTEST_SKIP() << certs.skip_reason();
//   ASSERT_TRUE(certs.ok()) << certs.error();

#include <string>

namespace ccrex::test {

class TestCertificates {
public:
  // Create the certificates in `dir`.
  static TestCertificates create(const std::string& dir);

  // False when the openssl command is missing (skip_reason() says so).
  bool available() const { return m_skip_reason.empty(); }
  const std::string& skip_reason() const { return m_skip_reason; }
  // Whether the files exist; error() holds openssl's output otherwise.
  bool ok() const { return available() && m_error.empty(); }
  const std::string& error() const { return m_error; }

  // Paths of the PEM files.
  std::string ca() const { return m_dir + "/ca.pem"; }
  std::string server_cert() const { return m_dir + "/server.pem"; }
  std::string server_key() const { return m_dir + "/server.key"; }
  std::string client_cert() const { return m_dir + "/client.pem"; }
  std::string client_key() const { return m_dir + "/client.key"; }
  std::string other_ca() const { return m_dir + "/other-ca.pem"; }
  std::string rogue_cert() const { return m_dir + "/rogue.pem"; }
  std::string rogue_key() const { return m_dir + "/rogue.key"; }

private:
  std::string m_dir;
  std::string m_skip_reason;
  std::string m_error;
};

} // namespace ccrex::test
