#pragma once

// Blobs to upload: a digest and where its bytes come from (memory or a local file).
//
// Thread safety: plain values.

#include "reapi/digest.h"
#include "reapi/proto.h"

#include <map>
#include <string>
#include <utility>

namespace ccrex::reapi {

struct BlobSource {
  // Whether `data` holds a local file path instead of the bytes themselves.
  bool is_file = false;
  // The bytes, or the path of the file holding them.
  std::string data;

  static BlobSource bytes(std::string content) { return {false, std::move(content)}; }
  static BlobSource file(std::string path) { return {true, std::move(path)}; }
  bool operator==(const BlobSource&) const = default;
};

struct UploadBlob {
  v2::Digest digest;
  BlobSource source;
};

// Blobs keyed by "hash/size" (reapi::to_string of the digest), so each blob appears once.
using BlobMap = std::map<std::string, UploadBlob>;

// Add `blob` to `map` (keeping the first source when the digest is already present).
inline void add_blob(BlobMap& map, UploadBlob blob) {
  auto key = to_string(blob.digest);
  map.try_emplace(std::move(key), std::move(blob));
}

// Add serialized `message` to `map` and return its digest.
inline v2::Digest add_message(BlobMap& map, const google::protobuf::Message& message) {
  std::string bytes = message.SerializeAsString();
  v2::Digest d = digest_of(bytes);
  add_blob(map, {d, BlobSource::bytes(std::move(bytes))});
  return d;
}

} // namespace ccrex::reapi
