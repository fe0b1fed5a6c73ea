#include "reapi/known_blobs.h"

#include "reapi/digest.h"
#include "util/sha256.h"

#include <cstring>
#include <optional>

namespace ccrex::reapi {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  return -1;
}

// The compact key of a well-formed digest; nullopt for any other.
std::optional<KnownBlobs::Key> key_of(const v2::Digest& digest) {
  if (digest.size_bytes() < 0 || !util::is_valid_sha256_hex(digest.hash())) {
    return std::nullopt;
  }
  KnownBlobs::Key key;
  const std::string& hex = digest.hash();
  for (size_t i = 0; i < key.hash_prefix.size(); ++i) {
    key.hash_prefix[i] =
        static_cast<uint8_t>(hex_value(hex[2 * i]) << 4 | hex_value(hex[2 * i + 1]));
  }
  key.size = digest.size_bytes();
  return key;
}

} // namespace

size_t KnownBlobs::KeyHash::operator()(const Key& key) const {
  uint64_t bits = 0;
  std::memcpy(&bits, key.hash_prefix.data(), sizeof bits); // already uniformly spread
  return static_cast<size_t>(bits ^ static_cast<uint64_t>(key.size));
}

bool KnownBlobs::contains(const v2::Digest& digest) const {
  if (is_empty_blob(digest)) {
    return true;
  }
  const auto key = key_of(digest);
  if (!key) {
    return false;
  }
  const std::lock_guard lock(m_mutex);
  return m_keys.count(*key) != 0;
}

void KnownBlobs::add(const v2::Digest& digest) {
  if (is_empty_blob(digest) || m_capacity == 0) {
    return;
  }
  const auto key = key_of(digest);
  if (!key) {
    return;
  }
  const std::lock_guard lock(m_mutex);
  if (!m_keys.insert(*key).second) {
    return;
  }
  m_order.push_back(*key);
  // Forgotten keys stay in m_order until they reach the front; bound both.
  while (m_keys.size() > m_capacity || m_order.size() > 2 * m_capacity) {
    m_keys.erase(m_order.front());
    m_order.pop_front();
  }
}

void KnownBlobs::forget(const std::vector<v2::Digest>& digests) {
  const std::lock_guard lock(m_mutex);
  for (const auto& d : digests) {
    if (const auto key = key_of(d)) {
      m_keys.erase(*key);
    }
  }
}

size_t KnownBlobs::size() const {
  const std::lock_guard lock(m_mutex);
  return m_keys.size();
}

} // namespace ccrex::reapi
