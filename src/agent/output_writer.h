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

// Replacements of the engine's paths by local ones in what a remapped action wrote.
struct PathRewrite {
  std::vector<std::pair<std::string, std::string>> pairs; // from -> to
  // Return `text` with every occurrence of each `from` replaced by its `to`.
  std::string apply(std::string text) const;
};

// Return the rewrite for `result`: empty unless `expected` holds an engine_root output, whose
// content (the engine's root, physical then logical, one per line) must then be present
// and name absolute directories other than "/".
util::Result<PathRewrite> engine_rewrite(const reapi::v2::ActionResult& result,
                                         const std::vector<ExpectedOutput>& expected,
                                         const BlobFetcher& fetch);

// Return the stdout and stderr of `result` (inline bytes or fetched by digest, verified).
util::Result<std::pair<std::string, std::string>>
fetch_streams(const reapi::v2::ActionResult& result, const BlobFetcher& fetch);

// Write the outputs of `result` to their local paths, dependency files through `rewrite`
// (an engine_root output is read, never written). Only paths in `expected` are
// accepted, and a result of exit code 0 must hold every required one (an engine that did
// not collect the object returns an incomplete result): otherwise nothing is written.
// Expected outputs the result does not hold are left as they are, as a compile that does
// not write a file leaves it. New files get mode 0666 (0777 when executable) less `umask`,
// as the compiler would create them.
util::Status write_outputs(const reapi::v2::ActionResult& result,
                           const std::vector<ExpectedOutput>& expected,
                           const BlobFetcher& fetch,
                           mode_t umask = 022,
                           const PathRewrite& rewrite = {});

// Write all of `data` to `fd`, retrying short writes. Errors are ignored (the reader may
// have gone away).
void write_fd(int fd, const std::string& data);

} // namespace ccrex::agent
