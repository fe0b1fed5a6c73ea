#pragma once

// Putting small outputs into an ActionResult: stdout_raw, stderr_raw and OutputFile.contents,
// read from the store, for the ones a client asked for. GetActionResult asks through its
// request's inline fields; Execute through the same hints, added to ExecuteRequest in
// REAPI 2.9 (reapi/execute_inline.h). The spec says a server SHOULD NOT inline what was not
// asked for, so nothing is inlined without a request: a client that never asks (Bazel, a
// client before 2.9) gets the same ActionResult as before.

#include "reapi/action_cache_client.h"
#include "reapi/proto.h"
#include "server/blob_store.h"

#include <cstdint>

namespace ccrex::server {

// Largest total of inlined bytes in one answer: well under gRPC's default 4 MiB message
// limit, so an answer with everything inlined still reaches a client with default settings.
inline constexpr int64_t k_max_inline_bytes = int64_t{1} << 20;

// Inline into `result` what `options` asks for, in order (stdout, stderr, then the output
// files), as long as the total stays within k_max_inline_bytes; a blob that does not fit or
// cannot be read is left to the client to fetch. Returns the bytes inlined.
int64_t inline_outputs(BlobStore& store,
                       const reapi::InlineOptions& options,
                       reapi::v2::ActionResult& result);

} // namespace ccrex::server
