#pragma once

// ActionMemo: the action a compile request built last time, so that the same request with
// unchanged inputs skips building it again (a digest-cache lookup per input, the Merkle
// tree, serialising and hashing every directory). On a warm hit of a header-heavy file that
// is about a quarter of the agent's work.
//
// An entry is found by two fingerprints:
// - the request: everything build_action reads besides file contents (compiler and its
//   identity, the parsed arguments, cwd, project root, the client's environment, the
//   platform, the timeout, whether the executor stages at the same path);
// - the inputs: every input path with the stat it has now (the scanner's, plus a stat of
//   each option input and response file).
// A stat covers content the way FileDigests trusts it: an entry is stored only when no
// input changed within the racy window before it was built, so a later write within the
// same timestamp tick cannot go unnoticed. Dependencies found by the compiler's -M carry
// no stats and are never memoised.
//
// Thread safety: find() and store() may be called concurrently.

#include "agent/action_builder.h"
#include "reapi/proto.h"

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace ccrex::agent {

// What a hit needs from a built action.
struct MemoizedAction {
  reapi::v2::Digest action_digest;
  std::vector<ExpectedOutput> outputs;
};

// The two fingerprints of a compile (hex SHA-256 each), and the latest change time
// (mtime or ctime) among the input stats behind `inputs`.
struct MemoKey {
  std::string request;
  std::string inputs;
  int64_t newest_change_ns = 0;
};

class ActionMemo {
public:
  // At most `capacity` entries are kept (the memo starts over when full). Inputs changed
  // within `racy_window_ns` of store() are not trusted (see the file comment).
  explicit ActionMemo(size_t capacity = 16384, int64_t racy_window_ns = 2'000'000'000)
      : m_capacity(capacity),
        m_racy_window_ns(racy_window_ns) {}

  // Return the key of the compile described by `ctx`, stat'ing its option inputs and
  // response files; nullopt when it cannot be memoised (no stats for the dependencies).
  static std::optional<MemoKey> key_of(const ActionContext& ctx);

  // Return the action stored under `key`, if any.
  std::shared_ptr<const MemoizedAction> find(const MemoKey& key) const;

  // Remember `built` under `key`, unless an input changed within the racy window before
  // now. Returns whether it was stored.
  bool store(const MemoKey& key, const BuiltAction& built);

  size_t size() const;

private:
  struct Entry {
    std::string inputs;
    std::shared_ptr<const MemoizedAction> action;
  };
  const size_t m_capacity;
  const int64_t m_racy_window_ns;
  mutable std::mutex m_mutex;
  std::unordered_map<std::string, Entry> m_entries; // by request fingerprint; m_mutex
};

} // namespace ccrex::agent
