#pragma once

// ByteLru: a map whose entries each declare what they cost in bytes, holding at most
// `capacity` bytes in all. Inserting past the bound drops the least recently used entries
// first; a lookup makes its entry the most recently used, so what is in use stays.
// An entry larger than the whole capacity is not kept at all.
//
// Thread safety: none; the owner locks.

#include <cstddef>
#include <functional>
#include <list>
#include <unordered_map>
#include <utility>

namespace ccrex::util {

template <typename Key, typename Value, typename Hash = std::hash<Key>>
class ByteLru {
public:
  explicit ByteLru(size_t capacity) : m_capacity(capacity) {}

  // Return the value under `key` and mark it used, or nullptr.
  Value* find(const Key& key) {
    const auto it = m_index.find(key);
    if (it == m_index.end()) {
      return nullptr;
    }
    m_order.splice(m_order.begin(), m_order, it->second);
    return &it->second->value;
  }

  // Set `key` to `value`, costing `bytes`, as the most recently used entry, then drop the
  // least recently used entries until the bound holds. Returns whether `key` was kept.
  bool put(const Key& key, Value value, size_t bytes) {
    erase(key);
    if (bytes > m_capacity) {
      return false;
    }
    m_order.push_front(Node{key, std::move(value), bytes});
    m_index.emplace(key, m_order.begin());
    m_bytes += bytes;
    while (m_bytes > m_capacity) {
      erase(m_order.back().key);
    }
    return true;
  }

  // Forget `key`, if present.
  void erase(const Key& key) {
    const auto it = m_index.find(key);
    if (it == m_index.end()) {
      return;
    }
    m_bytes -= it->second->bytes;
    m_order.erase(it->second);
    m_index.erase(it);
  }

  void clear() {
    m_index.clear();
    m_order.clear();
    m_bytes = 0;
  }

  size_t bytes() const { return m_bytes; }
  size_t size() const { return m_index.size(); }
  size_t capacity() const { return m_capacity; }

private:
  struct Node {
    Key key;
    Value value;
    size_t bytes;
  };
  using Order = std::list<Node>; // most recently used first
  size_t m_capacity;
  size_t m_bytes = 0;
  Order m_order;
  std::unordered_map<Key, typename Order::iterator, Hash> m_index;
};

} // namespace ccrex::util
