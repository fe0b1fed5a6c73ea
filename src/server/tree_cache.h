#pragma once

// TreeCache: large input subtrees that recur across actions, kept once, read-only, in the
// store, so a sandbox can mount them into an action's root instead of staging a copy.
//
//   TreeCache cache(store, {.dir = store_dir + "/trees", .max_bytes = 2 << 30});
//   SubtreeSizes sizes;                              // one per input root
//   auto where = cache.find_or_build(tree, d, sizes, limits, missing);
//   // *where: a directory to bind read-only at d's place; nullopt: stage d as a copy
//
// A subtree is cached under <dir>/<hash>-<size>/ (the Directory's digest) the second time
// a directory of at least min_bytes or min_files (whole subtree) is asked for: the first
// time only records its digest in a bounded in-memory set. It is built from the store's
// verified blobs with the staging code (staging.h, copies only, never links), in a
// temporary directory <dir>/.tmp-XXXXXX, then every directory is made 0555 (files are
// 0444, executables 0555, all owned by the server) and the whole is renamed into place, so
// a cached tree is always complete and exactly its digest. Nothing writes into a cached
// tree afterwards, and nothing removes one while the process runs; the execution service
// removes the whole directory when it has the store to itself (leftovers of a crash
// included). The bytes built by this process are capped at max_bytes; beyond the cap,
// subtrees are staged as copies. A tree another process of the same store built is used
// as it is.
//
// Thread-safe: concurrent find_or_build calls build each digest once; a caller that
// finds another one building it stages a copy instead of waiting.

#include "reapi/proto.h"
#include "server/blob_store.h"
#include "server/staging.h"
#include "server/tree_validation.h"
#include "util/result.h"

#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace ccrex::server {

struct TreeCacheOptions {
  // Where cached trees live (created when first needed).
  std::string dir;
  // Most bytes of file content this process builds into the cache (0: the cache is off).
  int64_t max_bytes = 0;
  // A subtree is worth caching from this many bytes or this many files (whole subtree).
  int64_t min_bytes = int64_t{1} << 20;
  int64_t min_files = 64;
  // Digests remembered as seen once (the oldest forgotten first).
  size_t max_seen = 4096;
};

// Total file bytes and files below each directory of one input root, computed on demand
// (a shared subtree counts at every place it appears, as it is staged).
struct SubtreeSize {
  int64_t bytes = 0;
  int64_t files = 0;
};
using SubtreeSizes = std::unordered_map<std::string, SubtreeSize>;

class TreeCache {
public:
  TreeCache(BlobStore& store, TreeCacheOptions options);
  TreeCache(const TreeCache&) = delete;
  TreeCache& operator=(const TreeCache&) = delete;

  bool enabled() const { return m_options.max_bytes > 0; }
  const TreeCacheOptions& options() const { return m_options; }

  // Return the cached copy of the directory `d` of `tree`, building it now when it is due
  // (see above), or nullopt when `d` is to be staged as a copy. Building follows `limits`'
  // deadline, entry cap and cancellation; a blob missing from the store fails as staging
  // does (failed_precondition, appended to `missing`).
  util::Result<std::optional<std::string>> find_or_build(const InputTree& tree,
                                                         const reapi::v2::Digest& d,
                                                         SubtreeSizes& sizes,
                                                         const StagingOptions& limits,
                                                         std::vector<reapi::v2::Digest>& missing);

  // Bytes of cached trees this process built or adopted.
  int64_t bytes() const;

private:
  util::Result<std::string> build(const InputTree& tree,
                                  const reapi::v2::Digest& d,
                                  const std::string& path,
                                  const StagingOptions& limits,
                                  std::vector<reapi::v2::Digest>& missing);

  BlobStore& m_store;
  TreeCacheOptions m_options;
  mutable std::mutex m_mutex;
  std::unordered_set<std::string> m_ready;
  std::unordered_set<std::string> m_building;
  std::unordered_set<std::string> m_seen;
  std::deque<std::string> m_seen_order;
  int64_t m_bytes = 0;
};

// The size of the subtree `d` of `tree`, memoised in `sizes`.
SubtreeSize subtree_size(const InputTree& tree, const reapi::v2::Digest& d, SubtreeSizes& sizes);

} // namespace ccrex::server
