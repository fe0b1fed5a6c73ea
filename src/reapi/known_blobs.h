#pragma once

// KnownBlobs: the blobs one client knows an engine holds, learned from FindMissingBlobs
// answers and from uploads the engine accepted. The CAS client skips asking about them, so
// a compile whose inputs were all seen before goes straight to Execute.
//
// The knowledge can go stale (the engine evicts a blob): an Execute answering MISSING names
// what to forget, and the existing re-upload path recovers. The set is bounded: past
// `capacity` digests the oldest learned is dropped first, which only costs a question.
//
// Each digest is kept as 24 bytes (the first 128 bits of its SHA-256 and its size) rather
// than its text: at the default capacity that is about 15 MiB at most instead of about 60,
// and far fewer small allocations in the agent's heap. Two different blobs of one size
// sharing 128 bits of SHA-256 is not a case that happens; a digest that is not SHA-256 (64
// hex characters) is never known, so it is always asked about.
//
// Thread safety: all methods may be called concurrently.

#include "reapi/proto.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <unordered_set>
#include <vector>

namespace ccrex::reapi {

class KnownBlobs {
public:
  explicit KnownBlobs(size_t capacity = 200000) : m_capacity(capacity) {}

  // Whether the engine is known to hold `digest` (the empty blob always counts as held).
  bool contains(const v2::Digest& digest) const;
  // Remember that the engine holds `digest`.
  void add(const v2::Digest& digest);
  // Forget `digests` (the engine reported them missing).
  void forget(const std::vector<v2::Digest>& digests);
  // How many digests are remembered.
  size_t size() const;

  struct Key {
    std::array<uint8_t, 16> hash_prefix{};
    int64_t size = 0;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& key) const;
  };

private:
  mutable std::mutex m_mutex;
  size_t m_capacity;
  std::unordered_set<Key, KeyHash> m_keys;
  std::deque<Key> m_order; // oldest first; may hold forgotten keys
};

} // namespace ccrex::reapi
