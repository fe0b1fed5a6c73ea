#pragma once

// Loading and validating everything an Execute request refers to, before it is queued:
// the Action, its Command and the whole input tree must be in the CAS (every absent blob is
// reported at once, so a client can upload them all in one round), and they must be in the
// canonical form REAPI prescribes:
//
//   - Directory: files, directories and symlinks each sorted by name; names unique across
//     the three lists; every name one path segment (not empty, no '/', not "." or "..");
//     symlink targets relative (the server advertises SymlinkAbsolutePathStrategy
//     DISALLOWED); digests well formed.
//   - Command: at least one argument; environment variable names not empty and without
//     '='. The spec asks for variables sorted by name and unique, but clients in the field
//     (BuildStream) send them in their own order, so order is not checked and duplicates
//     are accepted (the last value of a name wins, see ActionRunner).
//     Output paths relative, without empty or "." segments and without a trailing '/',
//     sorted and unique per list; ".." segments are allowed as long as the path stays inside
//     the input root once joined to the working directory (recc-style clients need that);
//     an output directory (in output_paths or output_directories) may be "" or "." and then
//     means the working directory itself; no path both in output_files and
//     output_directories. Every output field is checked, including those the server's
//     version range makes it ignore (output_fields.h).
//   - Platform properties sorted by name, then value.
//   - The working directory is a directory of the input tree.
//   - Action.timeout not negative and not above Config::max_timeout.
//   - Platform (Action.platform, else Command.platform) offered by the server.
//   - A CCREX_STAGE_ROOT the server accepts (stage_root.h).
//
// Functions are thread-safe; they only read the BlobStore. The checks of single messages
// are message_checks.h's.

#include "reapi/proto.h"
#include "server/blob_store.h"
#include "server/config.h"
#include "server/message_checks.h"
#include "server/output_fields.h"
#include "util/result.h"

#include <chrono>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ccrex::server {

// Every Directory reachable from an input root, read from the CAS.
struct InputTree {
  reapi::v2::Digest root;
  // Directory messages by digest hash (the empty directory included when referenced).
  std::unordered_map<std::string, reapi::v2::Directory> directories;

  // Return the Directory with digest `d`; it must be part of the tree.
  const reapi::v2::Directory& directory(const reapi::v2::Digest& d) const;
};

// An action that passed every check, ready for a worker.
struct PreparedAction {
  reapi::v2::Digest action_digest;
  reapi::v2::Action action;
  reapi::v2::Command command;
  InputTree input;
  // Action.timeout, or the server default when the Action has none.
  std::chrono::milliseconds timeout{0};
  // The output fields of `command` this server reads (output_fields.h).
  OutputFields outputs = OutputFields::paths;
};

// Why an action was refused. `code` is invalid_argument or failed_precondition; `missing`
// lists every absent blob when that is the reason (then code is failed_precondition).
struct ActionRejection {
  util::ErrorCode code = util::ErrorCode::invalid_argument;
  std::string message;
  std::vector<reapi::v2::Digest> missing;
};

// Load and validate the action `action_digest` (already checked to be well formed).
util::Result<PreparedAction, ActionRejection>
prepare_action(BlobStore& store, const reapi::v2::Digest& action_digest, const Config& config);

// The checks of single messages (validate_name, validate_directory, validate_command,
// validate_platform_order) are in message_checks.h.
// Check `working_directory` names a directory of `tree` (empty = the root).
util::Status check_working_directory(const InputTree& tree, std::string_view working_directory);

// Read every Directory of the tree rooted at `root` into `tree` and check its canonical
// form. Absent Directory and file blobs are appended to `missing` (each once) and the walk
// goes on; invalid_argument on a malformed Directory.
util::Status load_input_tree(BlobStore& store,
                             const reapi::v2::Digest& root,
                             InputTree& tree,
                             std::vector<reapi::v2::Digest>& missing);

} // namespace ccrex::server
