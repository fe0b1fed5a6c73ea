#pragma once

// BlobStore: the content-addressed store on disk, shared by every service of one server.
//
// Layout under the cache directory:
//   cas/ab/<hash>         blob content, mode 0444, named by its SHA-256
//   ac/ab/<key>           serialized ActionResult for an action digest (per instance)
//   tmp/                  in-progress writes; emptied at start-up by a process that has
//                         the store to itself
//
// Every blob enters the store through a temporary file that is renamed into place after its
// digest was verified, so a crash at any moment leaves either no blob or a complete, correct
// one. The store keeps an in-memory LRU index of the CAS and the action results (rebuilt
// from the directory at open; both count against one size cap) and evicts the least
// recently used entries, blobs and action results alike, when the total exceeds the cap.
// Reading an action result makes it recently used; an evicted one reads as absent.
//
// Several processes may share one store (the agents' embedded servers, store_lock.h). A
// blob another process added is found on disk when the index does not know it; a blob
// another process evicted reads as not_found, and completeness checks turn that into a
// cache miss. Blobs are immutable and renamed into place whole, so no process ever sees a
// partial or wrong one. Each process caps the blobs it knows of, so a shared store may
// exceed the cap by what the others added since it opened the store.
//
// Thread safety: all methods may be called concurrently from any thread.

#include "util/result.h"
#include "util/sha256.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ccrex::server {

class BlobStore {
public:
  // Open (creating if needed) the store under `dir`, capped at `max_size` bytes of CAS
  // content and action results together. Removes files whose name is not a valid hash and, when
  // `sole_user` (no other process uses the store), leftovers of interrupted writes.
  static util::Result<std::unique_ptr<BlobStore>>
  open(const std::string& dir, int64_t max_size, bool sole_user = true);
  // Whether the store was opened with no other process using it: only then are leftovers
  // in it (temporary files, work directories) nobody's.
  bool sole_user() const { return m_sole_user; }

  // Return whether the blob is present (the empty blob always is). Marks it recently used.
  bool contains(const util::Digest& d);
  // Return the subset of `digests` that is absent, in input order. Marks present ones used.
  std::vector<util::Digest> find_missing(const std::vector<util::Digest>& digests);

  // Return the content of a blob; not_found when absent.
  util::Result<std::string> read(const util::Digest& d);
  // Return the path of a stored blob for reading or hard-linking (read-only file; never
  // write through it). The empty blob has no file: not_found for it too, callers create
  // empty files themselves. A concurrent eviction may remove the file after this returns;
  // callers that need it to stay must link or copy it and handle ENOENT as not_found.
  util::Result<std::string> path_of(const util::Digest& d);

  // Store `data` under `d` after checking that it hashes to `d`: invalid_argument on a
  // mismatch (nothing stored), resource_exhausted when the disk is full.
  util::Status put(const util::Digest& d, std::string_view data);
  // Store `data`, computing its digest. For blobs the server produces itself.
  util::Result<util::Digest> put_computed(std::string_view data);
  // Move the file at `temp_path` (which must come from new_temp_path()) into the store as
  // blob `d` after verifying its content. The temp file is consumed either way.
  util::Status put_temp_file(const util::Digest& d, const std::string& temp_path);
  // Copy the file at `path` into the store, computing its digest (output collection).
  util::Result<util::Digest> put_file(const std::string& path);
  // Return a fresh path in the store's temp directory (same file system as the CAS).
  std::string new_temp_path();

  // Record the outcome of a write into the store and return it unchanged. The first write
  // refused because the store cannot be written (read-only file system, permissions) logs
  // one warning; the first successful write after that logs that the store is writable
  // again. The store's own writes report here; so do uploads written by other services.
  util::Status note_write(util::Status st);

  // Evict least recently used blobs until at least `bytes` are freed: the disk filled up
  // before the size cap was reached.
  void free_space(int64_t bytes);

  // Return the serialized ActionResult stored for (`instance`, `action_hash`), if any, and
  // mark it recently used.
  std::optional<std::string> get_action_result(std::string_view instance,
                                               std::string_view action_hash);
  // Store a serialized ActionResult for (`instance`, `action_hash`), replacing any old one;
  // it counts against the size cap like a blob.
  util::Status put_action_result(std::string_view instance,
                                 std::string_view action_hash,
                                 std::string_view serialized);

  // Total bytes of CAS content and action results currently stored.
  int64_t total_size();
  int64_t max_size() const { return m_max_size.load(); }
  // Change the size cap (a new max_size applies without a restart) and evict down to it;
  // with the current cap, evicts what a full store holds beyond it (`ccrex -c`).
  void set_max_size(int64_t max_size);
  // Evict every entry (blob or action result) not used since `cutoff`, least recently
  // used first; return the bytes freed.
  int64_t evict_unused_since(std::chrono::system_clock::time_point cutoff);
  const std::string& dir() const { return m_dir; }

  // Walk the whole CAS and re-hash every blob; return the digests whose file content does
  // not match its name (should always be empty). Used by tests and `--check`.
  std::vector<std::string> verify_all();

  // Call `fn(instance_key, serialized)` for every stored action result (for `--check`).
  void for_each_action_result(
      const std::function<void(const std::string&, const std::string&)>& fn) const;

private:
  BlobStore(std::string dir, int64_t max_size);
  struct Entry {
    int64_t size = 0;
    std::list<std::string>::iterator lru;
    // When the file's mtime was last set (steady seconds), so the LRU order survives a
    // restart without a syscall on every use.
    int64_t touched = 0;
  };
  util::Status load_index();
  std::string cas_path(std::string_view hash) const;
  // Index keys: a blob's hash, or k_ac_prefix + the file name of an action result.
  static constexpr std::string_view k_ac_prefix = "ac/";
  static std::string ac_key(std::string_view instance, std::string_view hash);
  std::string path_of_key(std::string_view key) const;
  // Record an entry that was just renamed into place (or found on disk), mark it recently
  // used, and evict if over the cap.
  void insert(const std::string& key, int64_t size);
  // Drop an entry whose file is gone from the index.
  void forget(const std::string& key);
  void touch_locked(std::unordered_map<std::string, Entry>::iterator it);
  void evict_locked();
  // Index a blob another process sharing the store put there; false when it is absent.
  bool adopt(const util::Digest& d);
  // Write `data` (verified) to a temp file and rename it to the blob's place in the CAS.
  util::Status write_blob(const util::Digest& d, std::string_view data);
  // Make `temp_path` read-only and rename it to the blob's place in the CAS.
  util::Status move_into_place(const util::Digest& d, const std::string& temp_path);

  const std::string m_dir;
  std::atomic<int64_t> m_max_size;
  bool m_sole_user = true;
  std::mutex m_mutex;
  std::unordered_map<std::string, Entry> m_index; // guarded by m_mutex
  std::list<std::string> m_lru;                   // front = most recent; guarded by m_mutex
  int64_t m_total = 0;                            // guarded by m_mutex
  std::atomic<bool> m_unwritable{false};          // the last write was refused (logged once)
};

} // namespace ccrex::server
