#pragma once

// SHA-256 through OpenSSL, with lowercase hex output (the REAPI digest form).
// A Sha256 object is single-threaded; the free functions are thread-safe.

#include "util/result.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace ccrex::util {

// Content digest of a blob: lowercase hex SHA-256 and byte length.
struct Digest {
  std::string hash;
  int64_t size = 0;

  bool operator==(const Digest&) const = default;
  // Return "hash/size".
  std::string to_string() const { return hash + "/" + std::to_string(size); }
};

class Sha256 {
public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::string_view data);
  // Return the hex digest. The object must not be updated afterwards.
  std::string finish();

private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

// Return the lowercase hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);
// Return the digest (hash and size) of `data`.
Digest digest_of(std::string_view data);
// Return the digest of the regular file at `path`, read in chunks (anything else, FIFOs
// and devices included, is failed_precondition, without blocking).
Result<Digest> digest_file(const std::string& path);

// The SHA-256 of the empty string.
inline constexpr std::string_view k_empty_sha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// Return whether `hash` is 64 lowercase hex characters.
bool is_valid_sha256_hex(std::string_view hash);

} // namespace ccrex::util
