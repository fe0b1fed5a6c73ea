#include "support/test_certs.h"

#include "util/subprocess.h"

namespace ccrex::test {

TestCertificates TestCertificates::create(const std::string& dir) {
  TestCertificates out;
  out.m_dir = dir;
  util::SubprocessOptions o;
  o.argv = {"/bin/bash", CCREX_TEST_CERT_SCRIPT, dir};
  o.timeout = std::chrono::seconds(60);
  const auto r = util::run_subprocess(o);
  if (!r) {
    out.m_error = "cannot run " + std::string(CCREX_TEST_CERT_SCRIPT) + ": " + r.error().message();
  } else if (r->exit_code == 77) {
    out.m_skip_reason = "the openssl command is not installed (scripts/install-deps.sh)";
  } else if (r->exit_code != 0) {
    out.m_error = "making test certificates failed: " + r->stderr_data;
  }
  return out;
}

} // namespace ccrex::test
