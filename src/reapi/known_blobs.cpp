#include "reapi/known_blobs.h"

#include "reapi/digest.h"

namespace ccrex::reapi {

bool KnownBlobs::contains(const v2::Digest& digest) const {
  if (is_empty_blob(digest)) {
    return true;
  }
  const std::string key = to_string(digest);
  const std::lock_guard lock(m_mutex);
  return m_keys.count(key) != 0;
}

void KnownBlobs::add(const v2::Digest& digest) {
  if (is_empty_blob(digest) || m_capacity == 0) {
    return;
  }
  std::string key = to_string(digest);
  const std::lock_guard lock(m_mutex);
  if (!m_keys.insert(key).second) {
    return;
  }
  m_order.push_back(std::move(key));
  // Forgotten keys stay in m_order until they reach the front; bound both.
  while (m_keys.size() > m_capacity || m_order.size() > 2 * m_capacity) {
    m_keys.erase(m_order.front());
    m_order.pop_front();
  }
}

void KnownBlobs::forget(const std::vector<v2::Digest>& digests) {
  const std::lock_guard lock(m_mutex);
  for (const auto& d : digests) {
    m_keys.erase(to_string(d));
  }
}

size_t KnownBlobs::size() const {
  const std::lock_guard lock(m_mutex);
  return m_keys.size();
}

} // namespace ccrex::reapi
