#pragma once

// KnownBlobs: the blobs one client knows an engine holds, learned from FindMissingBlobs
// answers and from uploads the engine accepted. The CAS client skips asking about them, so
// a compile whose inputs were all seen before goes straight to Execute.
//
// The knowledge can go stale (the engine evicts a blob): an Execute answering MISSING names
// what to forget, and the existing re-upload path recovers. The set is bounded: past
// `capacity` digests the oldest learned is dropped first, which only costs a question.
//
// Thread safety: all methods may be called concurrently.

#include "reapi/proto.h"

#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
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

private:
  mutable std::mutex m_mutex;
  size_t m_capacity;
  std::unordered_set<std::string> m_keys; // "hash/size"
  std::deque<std::string> m_order;        // oldest first; may hold forgotten keys
};

} // namespace ccrex::reapi
