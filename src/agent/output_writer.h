#pragma once

// Materialise an ActionResult locally: every output file is fetched, verified against its
// digest, written to a temporary file beside its destination and only then renamed into
// place, all outputs together, so an interrupted or failed write leaves the old files (or
// none) and never a half-written object. A result that names an output the action did not
// ask for (an absolute path, "..", an unexpected file) is rejected before anything is
// written: a lying server cannot make ccrex write elsewhere.

#include "agent/action_builder.h"
#include "reapi/proto.h"
#include "util/result.h"

#include <functional>
#include <string>
#include <vector>

namespace ccrex::agent {

// Fetch the bytes of a blob; the caller of write_outputs() verifies them.
using BlobFetcher = std::function<util::Result<std::string>(const reapi::v2::Digest&)>;

// Return the stdout and stderr of `result` (inline bytes or fetched by digest, verified).
util::Result<std::pair<std::string, std::string>>
fetch_streams(const reapi::v2::ActionResult& result, const BlobFetcher& fetch);

// Write the outputs of `result` to their local paths. Only paths in `expected` are
// accepted, and a result of exit code 0 must hold every required one (an engine that did
// not collect the object returns an incomplete result): otherwise nothing is written.
// Expected outputs the result does not hold are left as they are, as a compile that does
// not write a file leaves it. New files get mode 0666 (0777 when executable) less `umask`,
// as the compiler would create them.
util::Status write_outputs(const reapi::v2::ActionResult& result,
                           const std::vector<ExpectedOutput>& expected,
                           const BlobFetcher& fetch,
                           mode_t umask = 022);

// Write all of `data` to `fd`, retrying short writes. Errors are ignored (the reader may
// have gone away).
void write_fd(int fd, const std::string& data);

} // namespace ccrex::agent
