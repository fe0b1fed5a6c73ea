#pragma once

// ActionCache: ActionResults keyed by (instance, action digest) on top of a BlobStore.
// A stored result whose referenced blobs (outputs, trees and the files in them, stdout,
// stderr) are no longer all in the CAS is reported as a miss, never returned half usable.
// Thread safety: all methods may be called concurrently.

#include "reapi/proto.h"
#include "server/blob_store.h"
#include "util/result.h"

#include <optional>
#include <string_view>

namespace ccrex::server {

class ActionCache {
public:
  explicit ActionCache(BlobStore& store) : m_store(store) {}

  // Return the result for `action` if present and complete.
  std::optional<reapi::v2::ActionResult> get(std::string_view instance,
                                             const reapi::v2::Digest& action);
  // Store `result` for `action`. failed_precondition if a blob it references is missing.
  util::Status put(std::string_view instance,
                   const reapi::v2::Digest& action,
                   const reapi::v2::ActionResult& result);

  // Return the digests of every blob `result` references that is missing from the CAS
  // (file outputs, stdout/stderr, Tree blobs and the files inside the trees).
  std::vector<reapi::v2::Digest> missing_blobs(const reapi::v2::ActionResult& result);

private:
  BlobStore& m_store;
};

} // namespace ccrex::server
