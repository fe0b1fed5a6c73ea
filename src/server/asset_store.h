#pragma once

// AssetStore: the mappings of the Remote Asset API (build.bazel.remote.asset.v1) on disk.
// A mapping takes a key (instance, kind, URI, qualifiers) to a record (the blob or root
// directory digest a client pushed, the blobs and directories it said the content refers
// to, when it was pushed and when it expires). The store only keeps records; what a record
// is worth (expired, too old, blobs evicted from the CAS) is decided by asset_service.h.
//
// Layout under the store directory:
//   assets/ab/<hash>    one record, named by the SHA-256 of its key's canonical form
//
// A record is written through a temporary file and renamed into place, so a crash leaves
// the old record or the new one. Every record repeats its key, and a record whose key does
// not match the one asked for (a corrupt or foreign file) reads as absent. Qualifiers are
// kept sorted by name in the key, so the order a client sends them in never matters; their
// values always do.
//
// The store keeps at most `max_records` mappings: beyond that the oldest pushed are removed.
// The count covers the mappings this process knows of (those found at open and those it
// wrote since); several processes sharing one store each count their own, and every process
// reads any mapping on disk, so a mapping another process pushed is found without being
// counted (as BlobStore does with blobs).
//
// Thread safety: all methods may be called concurrently from any thread.

#include "reapi/proto.h"
#include "util/result.h"

#include <build/bazel/remote/asset/v1/remote_asset.grpc.pb.h>
#include <build/bazel/remote/asset/v1/remote_asset.pb.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ccrex::reapi {
namespace asset = build::bazel::remote::asset::v1;
} // namespace ccrex::reapi

namespace ccrex::server {

// Which of the two namespaces of the API a mapping lives in: FetchBlob only finds what
// PushBlob stored, FetchDirectory what PushDirectory stored.
enum class AssetKind : uint8_t { blob, directory };

// What a mapping is found by.
struct AssetKey {
  std::string instance;
  AssetKind kind = AssetKind::blob;
  std::string uri;
  // (name, value), sorted by name; names are unique.
  std::vector<std::pair<std::string, std::string>> qualifiers;

  // An unambiguous byte string naming the key (length-prefixed fields).
  std::string canonical() const;
  bool operator==(const AssetKey&) const = default;
};

// Build the key for `uri` and `qualifiers` in any order. invalid_argument when a qualifier
// name is empty or repeated.
util::Result<AssetKey>
make_asset_key(std::string_view instance,
               AssetKind kind,
               std::string_view uri,
               const google::protobuf::RepeatedPtrField<reapi::asset::Qualifier>& qualifiers);

// What a mapping says.
struct AssetRecord {
  // The blob (PushBlob) or root Directory (PushDirectory) the URI maps to.
  reapi::v2::Digest target;
  // The other blobs and directories the client said the content needs.
  std::vector<reapi::v2::Digest> referenced_blobs;
  std::vector<reapi::v2::Digest> referenced_directories;
  // When it was pushed, in milliseconds since the Unix epoch.
  int64_t pushed_at_ms = 0;
  // When it stops being served, in milliseconds since the Unix epoch; 0: never.
  int64_t expires_at_ms = 0;
};

class AssetStore {
public:
  // Open (creating if needed) the mappings under `store_dir`/assets, keeping at most
  // `max_records` of them (at least 1).
  static util::Result<std::unique_ptr<AssetStore>> open(const std::string& store_dir,
                                                        size_t max_records);

  // Store `record` under `key`, replacing any mapping there, then remove the oldest
  // mappings beyond the cap.
  util::Status put(const AssetKey& key, const AssetRecord& record);
  // Return the mapping stored under `key`; nullopt when there is none or it is unreadable.
  std::optional<AssetRecord> get(const AssetKey& key) const;
  // Remove the mapping under `key`, if any.
  void remove(const AssetKey& key);

  // Number of mappings this process counts (see above).
  size_t size() const;

private:
  AssetStore(std::string dir, size_t max_records);
  util::Status load_index();
  std::string path_of(const std::string& id) const;
  // Forget `id` in the index. Requires m_mutex.
  void forget_locked(const std::string& id);

  const std::string m_dir;
  const size_t m_max_records;
  mutable std::mutex m_mutex;
  // id (hash of the canonical key) -> pushed time used for ordering; guarded by m_mutex.
  std::unordered_map<std::string, int64_t> m_pushed;
  // (pushed time, id), oldest first; guarded by m_mutex.
  std::set<std::pair<int64_t, std::string>> m_by_age;
};

} // namespace ccrex::server
