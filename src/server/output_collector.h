#pragma once

// Collecting the outputs of an executed command into the store and the ActionResult.
//
// Paths are relative to the command's working directory `cwd`, exactly as the Command
// named them ("" and "." name `cwd` itself and are reported as sent). Outputs that were not
// produced are left out (not an error). Which fields are read is decided by the caller
// (output_fields.h):
//   - output_paths (REAPI 2.1+): a regular file -> output_files, a directory ->
//     output_directories (as a Tree blob), a symlink -> output_symlinks (never followed).
//   - output_files / output_directories (2.0): a file -> output_files; a symlink
//     -> output_file_symlinks resp. output_directory_symlinks; a directory named in
//     output_files, or something other than a directory (or a symlink to one) named in
//     output_directories -> failed_precondition.
// A symlink with an absolute target, as an output or inside an output directory, is
// failed_precondition too (the server advertises absolute symlinks as DISALLOWED).
// is_executable comes from the owner's execute bit. Trees list the root and every
// descendant once (by digest), in depth-first pre-order over sorted names; empty
// directories are included. Sockets, FIFOs and devices are skipped.
//
// Thread-safe for different `cwd`s.

#include "reapi/proto.h"
#include "server/blob_store.h"
#include "server/output_fields.h"
#include "util/result.h"

#include <string>

namespace ccrex::server {

// Store every output named in the fields `fields` of `command` found under `cwd` and add
// it to `result`.
util::Status collect_outputs(BlobStore& store,
                             const std::string& cwd,
                             const reapi::v2::Command& command,
                             OutputFields fields,
                             reapi::v2::ActionResult& result);

// Build the Tree of the directory at `path`, storing every file in it.
util::Result<reapi::v2::Tree> build_tree(BlobStore& store, const std::string& path);

} // namespace ccrex::server
