#pragma once

// ActionCacheClient: GetActionResult and UpdateActionResult. A NOT_FOUND answer is a cache
// miss (an empty optional), not an error.
//
// Thread safety: const methods are thread-safe.

#include "reapi/call_settings.h"
#include "reapi/proto.h"
#include "util/result.h"

#include <grpcpp/channel.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ccrex::reapi {

// What GetActionResult should inline (hints; the server may ignore them, REAPI §11.9).
struct InlineOptions {
  bool inline_stdout = false;
  bool inline_stderr = false;
  // Output paths (relative to the working directory) whose contents should be inlined.
  std::vector<std::string> inline_output_files;
};

class ActionCacheClient {
public:
  ActionCacheClient(std::shared_ptr<v2::ActionCache::StubInterface> stub,
                    std::shared_ptr<const CallSettings> settings);
  static std::unique_ptr<ActionCacheClient> create(const std::shared_ptr<grpc::Channel>& channel,
                                                   std::shared_ptr<const CallSettings> settings);

  // Return the cached result of `action`, or nullopt on a miss.
  util::Result<std::optional<v2::ActionResult>> get(const v2::Digest& action,
                                                    const InlineOptions& inline_options = {}) const;
  // Store `result` for `action` (its blobs must already be in the CAS).
  util::Status update(const v2::Digest& action, const v2::ActionResult& result) const;

private:
  std::shared_ptr<v2::ActionCache::StubInterface> m_stub;
  std::shared_ptr<const CallSettings> m_settings;
};

} // namespace ccrex::reapi
