#include "util/sha256.h"

#include <openssl/evp.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>

namespace ccrex::util {

struct Sha256::Impl {
  EVP_MD_CTX* ctx = nullptr;
};

namespace {

// The implementation, fetched once: with OpenSSL 3, initialising from EVP_sha256() looks
// the provider's implementation up again on every digest (locks and a property query),
// which costs more than hashing a small blob.
const EVP_MD* sha256_md() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md != nullptr ? md : EVP_sha256();
}

} // namespace

Sha256::Sha256() : m_impl(std::make_unique<Impl>()) {
  m_impl->ctx = EVP_MD_CTX_new();
  // Only allocation failure can make these fail; treat it like std::bad_alloc.
  if (m_impl->ctx == nullptr || EVP_DigestInit_ex(m_impl->ctx, sha256_md(), nullptr) != 1) {
    throw std::bad_alloc();
  }
}

Sha256::~Sha256() {
  EVP_MD_CTX_free(m_impl->ctx);
}

void Sha256::update(std::string_view data) {
  EVP_DigestUpdate(m_impl->ctx, data.data(), data.size());
}

std::string Sha256::finish() {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(m_impl->ctx, md.data(), &len);
  static constexpr std::string_view k_hex = "0123456789abcdef";
  std::string out(static_cast<size_t>(len) * 2, '0');
  for (unsigned int i = 0; i < len; ++i) {
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
