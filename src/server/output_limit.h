#pragma once

// The cap on what one action may leave as its result: the bytes of its outputs plus its
// stdout and stderr. An action over the cap is answered RESOURCE_EXHAUSTED and nothing of
// it enters the store, so a command cannot fill the store (or keep the server busy
// hashing) with a result no client could use. The per-file limit (RLIMIT_FSIZE) bounds
// each file while the command runs; this bounds their sum when it is over.
//
// The measure walks what the Command names as outputs under the working directory with
// lstat: symlinks are not followed, and sockets, FIFOs and devices count nothing (the
// collector skips them too). It stops as soon as the sum is over the cap.

#include "reapi/proto.h"
#include "server/output_fields.h"

#include <cstdint>
#include <string>
#include <vector>

namespace ccrex::server {

// The bytes of regular files at or under each of `names` (relative to `cwd`) plus those
// of the files `extra` (absolute paths), stopping once the sum exceeds `cap`; a return
// greater than `cap` means "over" (not the whole size).
int64_t measure_outputs(const std::string& cwd,
                        const std::vector<std::string>& names,
                        const std::vector<std::string>& extra,
                        int64_t cap);

} // namespace ccrex::server
