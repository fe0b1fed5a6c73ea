#include "server/output_collector.h"

#include "reapi/digest.h"
#include "util/file.h"
#include "util/logging.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <filesystem>
#include <system_error>
#include <unordered_set>
#include <vector>

namespace ccrex::server {
namespace {

using reapi::v2::Directory;

// Deeper output trees are refused rather than risking the stack.
constexpr int k_max_tree_depth = 256;

util::Error failed_precondition(std::string message) {
  return {util::ErrorCode::failed_precondition, std::move(message)};
}

util::Result<std::string> read_link(const std::string& path) {
  std::array<char, PATH_MAX> buf{};
  const ssize_t n = ::readlink(path.c_str(), buf.data(), buf.size());
  if (n < 0) {
    return util::errno_error("readlink " + path, errno);
  }
  return std::string(buf.data(), static_cast<size_t>(n));
}

// Read a symlink that is about to become an output; absolute targets are refused.
util::Result<std::string> output_link_target(const std::string& path, const std::string& name) {
  CCREX_ASSIGN_OR_RETURN(std::string target, read_link(path));
  if (!target.empty() && target.front() == '/') {
    return failed_precondition("output symlink '" + name + "' has an absolute target '" + target
                               + "' (absolute symlinks are not allowed)");
  }
  return target;
}

util::Result<std::vector<std::string>> sorted_entries(const std::string& path) {
  std::error_code ec;
  std::vector<std::string> names;
  for (std::filesystem::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    names.push_back(it->path().filename().string());
  }
  if (ec) {
    return util::io_error("list " + path + ": " + ec.message());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Store a regular file and describe it. The mode is read first: storing may hard-link the
// inode into the store, which makes it 0444.
util::Result<reapi::v2::OutputFile>
store_file(BlobStore& store, const std::string& path, const struct stat& st) {
  reapi::v2::OutputFile out;
  out.set_is_executable((st.st_mode & S_IXUSR) != 0);
  CCREX_ASSIGN_OR_RETURN(const auto d, store.put_file(path));
  *out.mutable_digest() = reapi::to_proto(d);
  return out;
}

util::Status add_entry(BlobStore& store,
                       const std::string& path,
                       const std::string& name,
                       Directory& dir,
                       std::vector<Directory>& descendants,
                       int depth);

// Return the Directory for `path`; its descendants are appended in pre-order.
util::Result<Directory> build_directory(BlobStore& store,
                                        const std::string& path,
                                        std::vector<Directory>& descendants,
                                        int depth) {
  if (depth > k_max_tree_depth) {
    return failed_precondition("output directory nesting deeper than "
                               + std::to_string(k_max_tree_depth) + " levels at " + path);
  }
  CCREX_ASSIGN_OR_RETURN(const auto names, sorted_entries(path));
  Directory dir;
  for (const auto& name : names) {
    CCREX_TRY(add_entry(store, util::join_path(path, name), name, dir, descendants, depth));
  }
  return dir;
}

util::Status add_entry(BlobStore& store,
                       const std::string& path,
                       const std::string& name,
                       Directory& dir,
                       std::vector<Directory>& descendants,
                       int depth) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return util::errno_error("lstat " + path, errno);
  }
  if (S_ISREG(st.st_mode)) {
    CCREX_ASSIGN_OR_RETURN(auto file, store_file(store, path, st));
    auto* node = dir.add_files();
    node->set_name(name);
    *node->mutable_digest() = file.digest();
    node->set_is_executable(file.is_executable());
  } else if (S_ISDIR(st.st_mode)) {
    const size_t slot = descendants.size();
    descendants.emplace_back();
    CCREX_ASSIGN_OR_RETURN(auto sub, build_directory(store, path, descendants, depth + 1));
    auto* node = dir.add_directories();
    node->set_name(name);
    *node->mutable_digest() = reapi::digest_of_message(sub);
    descendants[slot] = std::move(sub);
  } else if (S_ISLNK(st.st_mode)) {
    CCREX_ASSIGN_OR_RETURN(auto target, output_link_target(path, name));
    auto* node = dir.add_symlinks();
    node->set_name(name);
    node->set_target(std::move(target));
  } else {
    CCREX_LOG_DEBUG("outputs: skipping special file " << path);
  }
  return {};
}

util::Status add_file(BlobStore& store,
                      const std::string& path,
                      const std::string& name,
                      const struct stat& st,
                      reapi::v2::ActionResult& result) {
  CCREX_ASSIGN_OR_RETURN(auto file, store_file(store, path, st));
  file.set_path(name);
  *result.add_output_files() = std::move(file);
  return {};
}

util::Status add_directory(BlobStore& store,
                           const std::string& path,
                           const std::string& name,
                           reapi::v2::ActionResult& result) {
  CCREX_ASSIGN_OR_RETURN(const auto tree, build_tree(store, path));
  CCREX_ASSIGN_OR_RETURN(const auto d, store.put_computed(tree.SerializeAsString()));
  auto* out = result.add_output_directories();
  out->set_path(name);
  *out->mutable_tree_digest() = reapi::to_proto(d);
  return {};
}

util::Status add_symlink(const std::string& path,
                         const std::string& name,
                         google::protobuf::RepeatedPtrField<reapi::v2::OutputSymlink>& list) {
  CCREX_ASSIGN_OR_RETURN(auto target, output_link_target(path, name));
  auto* out = list.Add();
  out->set_path(name);
  out->set_target(std::move(target));
  return {};
}

// The location of the output `name`; "" and "." are the working directory itself, taken
// without a trailing "/." so that a working directory replaced by a symlink is seen as a
// symlink rather than followed.
std::string output_location(const std::string& cwd, const std::string& name) {
  return name.empty() || name == "." ? cwd : util::join_path(cwd, name);
}

// One entry of output_paths: whatever is there.
util::Status collect_any(BlobStore& store,
                         const std::string& cwd,
                         const std::string& name,
                         reapi::v2::ActionResult& result) {
  const std::string path = output_location(cwd, name);
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return {};
  }
  if (S_ISREG(st.st_mode)) {
    return add_file(store, path, name, st, result);
  }
  if (S_ISDIR(st.st_mode)) {
    return add_directory(store, path, name, result);
  }
  if (S_ISLNK(st.st_mode)) {
    return add_symlink(path, name, *result.mutable_output_symlinks());
  }
  return {};
}

// One entry of the 2.0 output_files (`want_dir` false) or output_directories (true).
util::Status collect_typed(BlobStore& store,
                           const std::string& cwd,
                           const std::string& name,
                           bool want_dir,
                           reapi::v2::ActionResult& result) {
  const std::string path = output_location(cwd, name);
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return {};
  }
  if (S_ISLNK(st.st_mode)) {
    struct stat target {};
    const bool resolves = ::stat(path.c_str(), &target) == 0;
    if (resolves && S_ISDIR(target.st_mode) != want_dir) {
      return failed_precondition("output " + std::string(want_dir ? "directory" : "file") + " '"
                                 + name + "' is a symlink to a "
                                 + (want_dir ? "non-directory" : "directory"));
    }
    return add_symlink(path,
                       name,
                       want_dir ? *result.mutable_output_directory_symlinks()
                                : *result.mutable_output_file_symlinks());
  }
  if (want_dir && S_ISDIR(st.st_mode)) {
    return add_directory(store, path, name, result);
  }
  if (!want_dir && S_ISREG(st.st_mode)) {
    return add_file(store, path, name, st, result);
  }
  return failed_precondition(
      want_dir ? "output directory '" + name + "' is not a directory"
               : "output file '" + name + "' is "
                     + (S_ISDIR(st.st_mode) ? "a directory" : "not a regular file"));
}

} // namespace

util::Result<reapi::v2::Tree> build_tree(BlobStore& store, const std::string& path) {
  std::vector<Directory> descendants;
  CCREX_ASSIGN_OR_RETURN(auto root, build_directory(store, path, descendants, 0));
  reapi::v2::Tree tree;
  *tree.mutable_root() = std::move(root);
  std::unordered_set<std::string> seen;
  for (auto& dir : descendants) {
    if (seen.insert(reapi::digest_of_message(dir).hash()).second) {
      *tree.add_children() = std::move(dir);
    }
  }
  return tree;
}

util::Status collect_outputs(BlobStore& store,
                             const std::string& cwd,
                             const reapi::v2::Command& command,
                             OutputFields fields,
                             reapi::v2::ActionResult& result) {
  if (fields == OutputFields::paths) {
    for (const auto& name : command.output_paths()) {
      CCREX_TRY(collect_any(store, cwd, name, result));
    }
    return {};
  }
  for (const auto& name : command.output_files()) {
    CCREX_TRY(collect_typed(store, cwd, name, false, result));
  }
  for (const auto& name : command.output_directories()) {
    CCREX_TRY(collect_typed(store, cwd, name, true, result));
  }
  return {};
}

} // namespace ccrex::server
