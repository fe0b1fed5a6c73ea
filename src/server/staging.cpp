#include "server/staging.h"

#include "reapi/digest.h"
#include "util/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>

namespace ccrex::server {
namespace {

namespace fs = std::filesystem;

struct StageContext {
  BlobStore& store;
  const InputTree& tree;
  const StagingOptions& options;
  std::vector<reapi::v2::Digest>& missing;
  std::vector<ReadOnlyMount>* mounts = nullptr;
  int64_t entries = 0;
};

// Count one more staged entry and check the limits of StagingOptions.
util::Status count_entry(StageContext& ctx) {
  ++ctx.entries;
  const auto& o = ctx.options;
  if (o.max_entries > 0 && ctx.entries > o.max_entries) {
    return util::Error(util::ErrorCode::resource_exhausted,
                       "the input root has more than " + std::to_string(o.max_entries)
                           + " files, directories and symlinks (this server's limit)");
  }
  // The clock is read every 64 entries: cheap, and still well inside any timeout.
  if ((ctx.entries & 63) == 0 && std::chrono::steady_clock::now() >= o.deadline) {
    return util::Error(util::ErrorCode::deadline_exceeded,
                       "the action's timeout expired while its input root was staged ("
                           + std::to_string(ctx.entries) + " entries so far)");
  }
  if (o.cancel != nullptr && o.cancel->load()) {
    return util::Error(util::ErrorCode::cancelled, "execution cancelled while staging");
  }
  return {};
}

bool is_writable_path(const StagingOptions& options, const std::string& rel) {
  return std::ranges::any_of(options.writable_paths, [&](const std::string& prefix) {
    return prefix.empty() || rel == prefix
           || (rel.size() > prefix.size() && rel.compare(0, prefix.size(), prefix) == 0
               && rel[prefix.size()] == '/');
  });
}

util::Error evicted(StageContext& ctx, const reapi::v2::Digest& d) {
  ctx.missing.push_back(d);
  return {util::ErrorCode::failed_precondition,
          "input blob " + reapi::to_string(d) + " disappeared from the store"};
}

// Hand `path` (created by staging, never a store file) to the command's user, if any.
util::Status hand_over(const StageContext& ctx, const std::string& path) {
  const auto& owner = ctx.options.owner;
  if (owner && ::lchown(path.c_str(), owner->uid, owner->gid) != 0) {
    return util::errno_error("hand " + path + " to the sandbox user", errno);
  }
  return {};
}

// Write the blob `d` into a new file at `dest` with `mode` (copy, never a link), owned by
// the command's user; a blob stored compressed is decompressed on the way.
util::Status
copy_blob(StageContext& ctx, const reapi::v2::Digest& d, const std::string& dest, mode_t mode) {
  auto st = ctx.store.copy_to(reapi::from_proto(d), dest, mode);
  if (!st && st.error().code() == util::ErrorCode::not_found) {
    return evicted(ctx, d);
  }
  CCREX_TRY(st);
  return hand_over(ctx, dest);
}

// Whether the file just linked at `dest` is one the command cannot change: the server's
// own, not the command's user's, writable by nobody (StagingOptions::hard_link_inputs).
bool out_of_reach(const std::string& dest, const util::LaunchUser& command_user) {
  struct stat st {};
  return ::lstat(dest.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == ::geteuid()
         && st.st_uid != command_user.uid && command_user.uid != 0
         && (st.st_mode & (S_IWUSR | S_IWGRP | S_IWOTH | S_ISUID | S_ISGID)) == 0;
}

// Hard-link the blob `d` at `dest` where StagingOptions allow it; false: copy it instead.
bool link_blob(StageContext& ctx, const reapi::v2::Digest& d, const std::string& dest) {
  const auto& owner = ctx.options.owner;
  if (!ctx.options.hard_link_inputs || !owner || reapi::is_empty_blob(d)) {
    return false;
  }
  auto src = ctx.store.path_of(reapi::from_proto(d));
  if (!src || ::link(src->c_str(), dest.c_str()) != 0) {
    return false; // stored compressed, or gone: the copy reads it or reports it missing
  }
  // Checked on the linked inode itself, so nothing can change between check and use.
  if (out_of_reach(dest, *owner)) {
    return true;
  }
  ::unlink(dest.c_str());
  return false;
}

util::Status stage_file(StageContext& ctx,
                        const reapi::v2::FileNode& file,
                        const std::string& dest,
                        const std::string& rel) {
  const bool writable = is_writable_path(ctx.options, rel);
  if (writable) {
    return copy_blob(ctx, file.digest(), dest, file.is_executable() ? 0755 : 0644);
  }
  if (file.is_executable()) {
    return copy_blob(ctx, file.digest(), dest, 0555);
  }
  if (link_blob(ctx, file.digest(), dest)) {
    return {};
  }
  return copy_blob(ctx, file.digest(), dest, 0444);
}

util::Status stage_directory(StageContext& ctx,
                             const reapi::v2::Directory& dir,
                             const std::string& path,
                             const std::string& rel) {
  for (const auto& file : dir.files()) {
    CCREX_TRY(count_entry(ctx));
    CCREX_TRY(stage_file(
        ctx, file, util::join_path(path, file.name()), util::join_path(rel, file.name())));
  }
  for (const auto& link : dir.symlinks()) {
    CCREX_TRY(count_entry(ctx));
    const std::string dest = util::join_path(path, link.name());
    if (::symlink(link.target().c_str(), dest.c_str()) != 0) {
      return util::errno_error("symlink " + dest, errno);
    }
    CCREX_TRY(hand_over(ctx, dest));
  }
  for (const auto& sub : dir.directories()) {
    CCREX_TRY(count_entry(ctx));
    const std::string dest = util::join_path(path, sub.name());
    if (::mkdir(dest.c_str(), 0755) != 0) {
      return util::errno_error("mkdir " + dest, errno);
    }
    CCREX_TRY(hand_over(ctx, dest));
    const std::string sub_rel = util::join_path(rel, sub.name());
    if (ctx.mounts != nullptr && ctx.options.mount_subtree) {
      CCREX_ASSIGN_OR_RETURN(auto source, ctx.options.mount_subtree(sub.digest(), sub_rel));
      if (source) {
        ctx.mounts->push_back({sub_rel, std::move(*source)});
        continue;
      }
    }
    CCREX_TRY(stage_directory(ctx, ctx.tree.directory(sub.digest()), dest, sub_rel));
  }
  return {};
}

} // namespace

std::vector<std::string> output_paths_from_root(const reapi::v2::Command& command,
                                                OutputFields fields) {
  std::vector<std::string> out;
  for (const auto& p : output_names(command, fields)) {
    std::string joined = util::normalize_path(util::join_path(command.working_directory(), p));
    out.push_back(joined == "." ? std::string() : joined);
  }
  return out;
}

util::Status stage_input_tree(BlobStore& store,
                              const InputTree& tree,
                              const std::string& dest,
                              const StagingOptions& options,
                              std::vector<reapi::v2::Digest>& missing,
                              std::vector<ReadOnlyMount>* read_only_mounts) {
  StageContext ctx{store, tree, options, missing, read_only_mounts};
  return stage_directory(ctx, tree.directory(tree.root), dest, "");
}

util::Status stage_input_subtree(BlobStore& store,
                                 const InputTree& tree,
                                 const reapi::v2::Digest& root,
                                 const std::string& dest,
                                 const StagingOptions& options,
                                 std::vector<reapi::v2::Digest>& missing) {
  StageContext ctx{store, tree, options, missing};
  return stage_directory(ctx, tree.directory(root), dest, "");
}

util::Status remove_tree(const std::string& path) {
  if (util::remove_all(path)) {
    return {};
  }
  // The command may have left directories without write or search permission.
  ::chmod(path.c_str(), 0700);
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(
           path, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) {
      ::chmod(it->path().c_str(), 0700);
    }
  }
  return util::remove_all(path);
}

} // namespace ccrex::server
