#pragma once

// Backend: where the agent's actions go. Every compile first asks the local store (the
// embedded server's CAS and ActionCache in the agent's cache directory); the Executor then
// talks REAPI to the embedded server (in-process channel) or to a remote engine.
//
// Thread safety: all methods may be called concurrently.

#include "reapi/blob.h"
#include "reapi/capabilities.h"
#include "reapi/digest.h"
#include "reapi/merkle_tree.h"
#include "reapi/proto.h"
#include "util/cancellation.h"
#include "util/result.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ccrex::agent {

// The outcome of Execute.
struct Execution {
  reapi::v2::ActionResult result;
  bool cached_result = false;
};

// How a remote step failed: the fallback decision and the statistics need the kind.
enum class RemoteFailure {
  unavailable,   // engine down, refused, connection broken
  timeout,       // deadline exceeded
  missing_blobs, // inputs vanished between upload and execution, after retries
  rejected,      // the engine refused the request (platform, invalid argument, ...)
  bad_result,    // the engine answered something unusable (wrong bytes, bad paths)
};

class Executor {
public:
  virtual ~Executor() = default;
  // Return what the engine offers (its Capabilities, asked once; an incompatible engine is
  // reported in the value). Errors: the engine could not be asked (unreachable, timeout).
  virtual util::Result<reapi::ServerInfo> capabilities() = 0;
  // Return the cached result of `action`, or nullopt on a miss. Asks for stdout, stderr and
  // the contents of `inline_outputs` (output paths) inline; the engine may ignore that.
  virtual util::Result<std::optional<reapi::v2::ActionResult>>
  lookup(const reapi::v2::Digest& action, const std::vector<std::string>& inline_outputs = {}) = 0;
  // lookup(), and at the same time, when recent lookups mostly missed and what the engine
  // may lack of `inputs` is small enough to send without asking, that upload: a miss then
  // needs only Execute afterwards (two round trips for new inputs instead of three), and a
  // hit wastes a few kilobytes. Otherwise the upload waits for the answer, so a hit
  // uploads nothing. The default is lookup().
  virtual util::Result<std::optional<reapi::v2::ActionResult>>
  lookup_while_uploading(const reapi::v2::Digest& action,
                         const std::vector<std::string>& inline_outputs,
                         const reapi::InputRoot& inputs) {
    (void)inputs;
    return lookup(action, inline_outputs);
  }
  // Whether the engine is known to hold every blob of `inputs` (learned from earlier calls,
  // asked of nobody): Execute then needs no upload first.
  virtual bool holds_inputs(const reapi::InputRoot& inputs) const {
    (void)inputs;
    return false;
  }
  // Upload whatever of `inputs` (the input root plus the Action and Command blobs) the
  // engine lacks, then execute `action`; raising `cancel` abandons the wait. Asks for
  // stdout, stderr and the contents of `inline_outputs` (output paths) inline in the
  // response; engines before REAPI 2.9 ignore that.
  virtual util::Result<Execution> execute(const reapi::v2::Digest& action,
                                          const reapi::InputRoot& inputs,
                                          const std::vector<std::string>& inline_outputs,
                                          const util::Cancellation* cancel = nullptr) = 0;
  // Return the bytes of a blob (verified by the caller).
  virtual util::Result<std::string> fetch(const reapi::v2::Digest& digest) = 0;
  // Return the bytes of each of `digests` keyed by "hash/size" (verified by the caller), in
  // as few requests as the engine allows.
  virtual util::Result<std::map<std::string, std::string>>
  fetch_all(const std::vector<reapi::v2::Digest>& digests) {
    std::map<std::string, std::string> out;
    for (const auto& d : digests) {
      CCREX_ASSIGN_OR_RETURN(out[reapi::to_string(d)], fetch(d));
    }
    return out;
  }
  // Upload `blobs` and store `result` for `action` (cache-only mode).
  virtual util::Status update(const reapi::v2::Digest& action,
                              const reapi::v2::ActionResult& result,
                              const reapi::BlobMap& blobs) = 0;
  // Whether the engine stages input roots at CCREX_STAGE_ROOT (ccrex's own servers).
  virtual bool stages_at_same_path() const = 0;
};

} // namespace ccrex::agent
