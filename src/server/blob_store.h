#pragma once

// BlobStore: the content-addressed store on disk, shared by every service of one server.
//
// Layout under the cache directory:
//   cas/ab/<hash>         blob content, mode 0444, named by its SHA-256
//   cas/ab/<hash>.<size>.zst  the same, stored as one zstd frame (blob_compression.h) of
//                         the blob's `size` bytes
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
// With a compression level set, a blob enters the store compressed when it is large enough
// and zstd shrinks it enough (`worth_compressing`, `compression_pays`), else raw; both kinds
// live side by side, so a store written raw (or by a server with compression off) needs no
// migration. Every reader gets the blob's own bytes: read(), open_reader() and copy_to()
// decompress through fixed buffers; path_of() names raw files only. The size cap counts
// bytes on disk; content_size() tells what they hold. A frame that fails to decompress to
// exactly its blob is removed and the blob reads as absent.
//
// Several processes may share one store (the agents' embedded servers, store_lock.h). A
// blob another process added is found on disk when the index does not know it; a blob
// another process evicted reads as not_found, and completeness checks turn that into a
// cache miss. Blobs are immutable and renamed into place whole, so no process ever sees a
// partial or wrong one. Each process caps the blobs it knows of, so a shared store may
// exceed the cap by what the others added since it opened the store.
//
// Thread safety: all methods may be called concurrently from any thread.

#include "server/blob_compression.h"
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
  // New blobs are compressed at zstd `compression_level` (0: stored raw).
  static util::Result<std::unique_ptr<BlobStore>>
  open(const std::string& dir, int64_t max_size, bool sole_user = true, int compression_level = 0);
  // Whether the store was opened with no other process using it: only then are leftovers
  // in it (temporary files, work directories) nobody's.
  bool sole_user() const { return m_sole_user; }

  // Return whether the blob is present (the empty blob always is). Marks it recently used.
  bool contains(const util::Digest& d);
  // Return the subset of `digests` that is absent, in input order. Marks present ones used.
  std::vector<util::Digest> find_missing(const std::vector<util::Digest>& digests);

  // Return the content of a blob; not_found when absent.
  util::Result<std::string> read(const util::Digest& d);
  // Return the path of a blob stored raw, for reading or hard-linking (read-only file;
  // never write through it). not_found when the blob is stored compressed (use
  // open_reader() or copy_to()). The empty blob has no file: not_found for it too, callers
  // create empty files themselves. A concurrent eviction may remove the file after this
  // returns; callers that need it to stay must link or copy it and handle ENOENT as
  // not_found.
  util::Result<std::string> path_of(const util::Digest& d);
  // Open a reader of a blob's content, however it is stored; not_found when absent (or
  // found damaged, which removes it). A read that finds the rest of a frame damaged fails
  // with data_loss and removes the file too.
  util::Result<std::unique_ptr<BlobReader>> open_reader(const util::Digest& d);
  // Write a blob's content into the new file `dest` with `mode` (staging); not_found when
  // it is absent or damaged; `dest` is removed on any failure. The empty blob too.
  util::Status copy_to(const util::Digest& d, const std::string& dest, unsigned mode);

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

  // Total bytes on disk of CAS content and action results currently stored (what the cap
  // counts).
  int64_t total_size();
  // The same entries' size uncompressed: total_size() plus what compression saves.
  int64_t content_size();
  int compression_level() const { return m_level.load(); }
  // Change the level new blobs are stored at (0: raw); stored blobs stay as they are.
  void set_compression_level(int level) { m_level = level; }
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
    int64_t size = 0; // the content's
    int64_t disk = 0; // the file's; the cap counts these
    bool compressed = false;
    std::list<const std::string*>::iterator lru;
    // When the file's mtime was last set (steady seconds), so the LRU order survives a
    // restart without a syscall on every use.
    int64_t touched = 0;
  };
  util::Status load_index();
  std::string cas_path(std::string_view hash) const;
  std::string blob_path(std::string_view hash, int64_t size, bool compressed) const;
  // Where a blob is, when it is stored.
  struct Located {
    std::string path;
    bool compressed = false;
  };
  // Find a non-empty blob (indexed, or adopted from disk) and mark it recently used.
  std::optional<Located> locate(const util::Digest& d);
  // Remove a blob whose file turned out damaged.
  void discard(const util::Digest& d, const Located& where);
  // Index keys: a blob's hash, or k_ac_prefix + the file name of an action result.
  static constexpr std::string_view k_ac_prefix = "ac/";
  static std::string ac_key(std::string_view instance, std::string_view hash);
  std::string path_of_key(std::string_view key, const Entry& e) const;
  // Record an entry that was just renamed into place (or found on disk), mark it recently
  // used, and evict if over the cap. `disk` defaults to `size` (stored raw).
  void insert(const std::string& key, int64_t size, int64_t disk = -1, bool compressed = false);
  // Drop an entry whose file is gone from the index.
  void forget(const std::string& key);
  void touch_locked(std::unordered_map<std::string, Entry>::iterator it);
  void evict_locked();
  // Index a blob another process sharing the store put there; false when it is absent.
  bool adopt(const util::Digest& d);
  // Write `data` (verified) to a temp file and rename it to the blob's place in the CAS;
  // record it in the index.
  util::Status write_blob(const util::Digest& d, std::string_view data);
  // Compress the open regular file `fd` of `size` bytes into a temp file; when the frame
  // pays, rename it into place and index it. Return the content's digest, and whether it
  // was stored (false: store it raw, `fd` must be read again from the start).
  struct Compressed {
    util::Digest digest;
    bool stored = false;
  };
  util::Result<Compressed> store_compressed(int fd,
                                            int64_t size,
                                            const std::optional<util::Digest>& expect,
                                            const std::string& what);
  // Rename the temp file `tmp` holding a frame of `d` into place and index it.
  util::Status publish_frame(const util::Digest& d, const std::string& tmp, int64_t disk);
  // Make `temp_path` read-only and rename it to the blob's place in the CAS.
  util::Status move_into_place(const util::Digest& d, const std::string& temp_path);

  const std::string m_dir;
  std::atomic<int64_t> m_max_size;
  bool m_sole_user = true;
  std::mutex m_mutex;
  std::unordered_map<std::string, Entry> m_index; // guarded by m_mutex
  // Front = most recent; each element is the key of its m_index node (node keys do not
  // move), so a key is kept once. Guarded by m_mutex.
  std::list<const std::string*> m_lru;
  int64_t m_total = 0;   // on disk; guarded by m_mutex
  int64_t m_content = 0; // uncompressed; guarded by m_mutex
  std::atomic<int> m_level{0};
  std::atomic<bool> m_unwritable{false}; // the last write was refused (logged once)
};

} // namespace ccrex::server
