#include "util/sha256.h"

// OpenSSL 3 marks the SHA256_* functions deprecated in favour of EVP. They run the same
// assembly (the CPU's SHA extensions where it has them) without EVP's provider machinery:
// the first EVP digest of a process sets up OpenSSL's providers and method store, about
// 2 MiB more resident memory in the agent and the server, and each EVP context is a heap
// allocation. Nothing else in ccrex uses libcrypto unless TLS is configured.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>

namespace ccrex::util {

struct Sha256::Impl {
  SHA256_CTX ctx{};
};

Sha256::Sha256() : m_impl(std::make_unique<Impl>()) {
  SHA256_Init(&m_impl->ctx); // cannot fail: it only sets the initial state
}

Sha256::~Sha256() = default;

void Sha256::update(std::string_view data) {
  SHA256_Update(&m_impl->ctx, data.data(), data.size());
}

std::string Sha256::finish() {
  std::array<unsigned char, SHA256_DIGEST_LENGTH> md{};
  SHA256_Final(md.data(), &m_impl->ctx);
  static constexpr std::string_view k_hex = "0123456789abcdef";
  std::string out(md.size() * 2, '0');
  for (size_t i = 0; i < md.size(); ++i) {
    out[2 * i] = k_hex[md[i] >> 4];
    out[2 * i + 1] = k_hex[md[i] & 0xf];
  }
  return out;
}

std::string sha256_hex(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.finish();
}

Digest digest_of(std::string_view data) {
  return {sha256_hex(data), static_cast<int64_t>(data.size())};
}

Result<Digest> digest_file(const std::string& path) {
  // Without blocking: a FIFO with no writer is refused at once, like any other file that
  // is not regular (a device such as /dev/zero would never end).
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    return errno_error("open " + path, errno);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Error(ErrorCode::failed_precondition, path + " is not a regular file");
  }
  Sha256 h;
  std::array<char, 1 << 16> buf{};
  int64_t total = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      const int err = errno;
      ::close(fd);
      return errno_error("read " + path, err);
    }
    if (n == 0) {
      break;
    }
    h.update(std::string_view(buf.data(), static_cast<size_t>(n)));
    total += n;
  }
  ::close(fd);
  return Digest{h.finish(), total};
}

bool is_valid_sha256_hex(std::string_view hash) {
  if (hash.size() != 64) {
    return false;
  }
  for (const char c : hash) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

} // namespace ccrex::util
