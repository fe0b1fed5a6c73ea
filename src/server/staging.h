#pragma once

// Materialising an input tree on disk for one execution.
//
// Layout produced under `dest` (which must exist and be empty):
//   - every Directory becomes a directory (mode 0755, so the command can write outputs);
//   - a non-executable file is hard-linked from the store when StagingOptions allow it and
//     the link leaves the command no way to change the store's file (see
//     StagingOptions::hard_link_inputs), else copied with mode 0444;
//   - an executable file is always copied with mode 0555 (a hard link would share the
//     store's 0444 inode);
//   - a file that is also an output, or lies below an output directory, is copied with mode
//     0644/0755 so the command may rewrite it in place without touching the store;
//   - an empty-digest file is created empty (it was never uploaded), empty directories are
//     created, symlinks are created with their (relative) targets;
//   - with StagingOptions::owner set, every directory and copy is handed to that user as it
//     is created; hard links stay the store's.
// A blob evicted between validation and staging is read through BlobStore::read instead;
// if it is really gone, staging fails with failed_precondition and names it in `missing`.
//
// Thread-safe: concurrent calls must use different destinations.

#include "reapi/proto.h"
#include "server/blob_store.h"
#include "server/output_fields.h"
#include "server/sandbox_settings.h"
#include "server/tree_validation.h"
#include "util/launch.h"
#include "util/result.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ccrex::server {

struct StagingOptions {
  // Hard-link read-only inputs from the store where the command cannot change the linked
  // file: only with `owner` set (the command runs as a user of its own, util/launch.h), and
  // only a store file the server's own user owns, with no write permission for anyone.
  // Such a user can neither write the file nor chmod it (only the owner may), and a user
  // namespace it creates maps no capability onto a file whose owner it does not map. A
  // file that fails the check is copied.
  bool hard_link_inputs = true;
  // The user every directory and copy staging creates is handed to (chown), so that the
  // command, running as that user, may write outputs and rewrite its own copies; unset:
  // everything stays the server's (which is the command's user then).
  std::optional<util::LaunchUser> owner;
  // Paths relative to the input root under which inputs must be private writable copies
  // (the outputs of the command). An empty string means the whole tree.
  std::vector<std::string> writable_paths;
  // Staging stops with deadline_exceeded at this time (it counts against the action's
  // timeout), with resource_exhausted after `max_entries` files, directories and symlinks
  // (a shared subtree counts at every place it appears; 0: no cap), and with cancelled once
  // `cancel` reads true.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  int64_t max_entries = 0;
  const std::atomic<bool>* cancel = nullptr;
  // Asked before each subdirectory is staged, with its digest and its path relative to the
  // input root: a directory returned is mounted read-only at that place by the sandbox, so
  // staging only creates an empty directory there (the mount point) and records the pair
  // in `read_only_mounts`; nullopt stages the subdirectory as usual. Unset: nothing is
  // mounted.
  std::function<util::Result<std::optional<std::string>>(const reapi::v2::Digest& digest,
                                                         const std::string& rel)>
      mount_subtree;
};

// Return the input-root-relative paths of `command`'s outputs in the fields `fields`
// (output_fields.h), for writable_paths.
std::vector<std::string> output_paths_from_root(const reapi::v2::Command& command,
                                                OutputFields fields);

// Create `tree` under the existing directory `dest`. On a blob that disappeared from the
// store, fails with failed_precondition and appends its digest to `missing`.
util::Status stage_input_tree(BlobStore& store,
                              const InputTree& tree,
                              const std::string& dest,
                              const StagingOptions& options,
                              std::vector<reapi::v2::Digest>& missing,
                              std::vector<ReadOnlyMount>* read_only_mounts = nullptr);

// Create the subtree `root` of `tree` (one of its directories) under `dest`, as above.
util::Status stage_input_subtree(BlobStore& store,
                                 const InputTree& tree,
                                 const reapi::v2::Digest& root,
                                 const std::string& dest,
                                 const StagingOptions& options,
                                 std::vector<reapi::v2::Digest>& missing);

// Remove `path` recursively even when the command left read-only directories behind.
util::Status remove_tree(const std::string& path);

} // namespace ccrex::server
