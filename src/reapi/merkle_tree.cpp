#include "reapi/merkle_tree.h"

#include "reapi/digest.h"
#include "util/strings.h"

namespace ccrex::reapi {

struct MerkleTree::Dir {
  struct File {
    v2::Digest digest;
    bool is_executable = false;
    BlobSource source;
  };
  // Sorted maps: the canonical order of REAPI Directory entries is by name.
  std::map<std::string, File> files;
  std::map<std::string, std::unique_ptr<Dir>> dirs;
  std::map<std::string, std::string> symlinks;

  bool has_non_dir(const std::string& name) const {
    return files.count(name) > 0 || symlinks.count(name) > 0;
  }
};

namespace {

util::Error clash(std::string_view path, std::string_view why) {
  return util::invalid_argument("input path '" + std::string(path) + "' " + std::string(why));
}

} // namespace

util::Status check_relative_path(std::string_view path) {
  if (path.empty()) {
    return util::invalid_argument("empty input path");
  }
  if (path.front() == '/') {
    return util::invalid_argument("input path '" + std::string(path) + "' is absolute");
  }
  for (auto segment : util::split(path, '/')) {
    if (segment.empty()) {
      return util::invalid_argument("input path '" + std::string(path) + "' has an empty segment");
    }
    if (segment == "." || segment == "..") {
      return util::invalid_argument("input path '" + std::string(path) + "' contains '"
                                    + std::string(segment) + "'");
    }
  }
  return {};
}

MerkleTree::MerkleTree() : m_root(std::make_unique<Dir>()) {}
MerkleTree::~MerkleTree() = default;
MerkleTree::MerkleTree(MerkleTree&&) noexcept = default;
MerkleTree& MerkleTree::operator=(MerkleTree&&) noexcept = default;

util::Result<MerkleTree::Dir*> MerkleTree::parent_of(std::string_view path, std::string& leaf) {
  CCREX_TRY(check_relative_path(path));
  auto segments = util::split(path, '/');
  Dir* dir = m_root.get();
  for (size_t i = 0; i + 1 < segments.size(); ++i) {
    std::string name(segments[i]);
    if (dir->has_non_dir(name)) {
      return clash(path, "needs '" + name + "' to be a directory, but it is a file or symlink");
    }
    auto& child = dir->dirs[name];
    if (!child) {
      child = std::make_unique<Dir>();
    }
    dir = child.get();
  }
  leaf = std::string(segments.back());
  return dir;
}

util::Status MerkleTree::add_file(std::string_view path,
                                  const v2::Digest& digest,
                                  bool is_executable,
                                  BlobSource source) {
  CCREX_TRY(validate(digest));
  std::string leaf;
  CCREX_ASSIGN_OR_RETURN(Dir * dir, parent_of(path, leaf));
  if (dir->dirs.count(leaf) > 0 || dir->symlinks.count(leaf) > 0) {
    return clash(path, "is already a directory or symlink");
  }
  auto [it, inserted] = dir->files.try_emplace(leaf, Dir::File{digest, is_executable, source});
  if (!inserted
      && (it->second.digest.hash() != digest.hash()
          || it->second.digest.size_bytes() != digest.size_bytes()
          || it->second.is_executable != is_executable)) {
    return clash(path, "was added twice with different content or mode");
  }
  return {};
}

util::Status MerkleTree::add_directory(std::string_view path) {
  if (path.empty()) {
    return {};
  }
  std::string leaf;
  CCREX_ASSIGN_OR_RETURN(Dir * dir, parent_of(path, leaf));
  if (dir->has_non_dir(leaf)) {
    return clash(path, "is already a file or symlink");
  }
  auto& child = dir->dirs[leaf];
  if (!child) {
    child = std::make_unique<Dir>();
  }
  return {};
}

util::Status MerkleTree::add_symlink(std::string_view path, std::string_view target) {
  if (target.empty()) {
    return clash(path, "is a symlink with an empty target");
  }
  std::string leaf;
  CCREX_ASSIGN_OR_RETURN(Dir * dir, parent_of(path, leaf));
  if (dir->dirs.count(leaf) > 0 || dir->files.count(leaf) > 0) {
    return clash(path, "is already a file or directory");
  }
  auto [it, inserted] = dir->symlinks.try_emplace(leaf, target);
  if (!inserted && it->second != target) {
    return clash(path, "was added twice as a symlink with different targets");
  }
  return {};
}

namespace {

// Serialize `dir` bottom-up into `out`, returning its digest.
template <typename DirT>
v2::Digest build_dir(const DirT& dir, InputRoot& out) {
  v2::Directory message;
  for (const auto& [name, file] : dir.files) {
    auto* node = message.add_files();
    node->set_name(name);
    *node->mutable_digest() = file.digest;
    node->set_is_executable(file.is_executable);
    if (!is_empty_blob(file.digest)) {
      add_blob(out.blobs, {file.digest, file.source});
    }
  }
  for (const auto& [name, child] : dir.dirs) {
    auto* node = message.add_directories();
    node->set_name(name);
    *node->mutable_digest() = build_dir(*child, out);
  }
  for (const auto& [name, target] : dir.symlinks) {
    auto* node = message.add_symlinks();
    node->set_name(name);
    node->set_target(target);
  }
  std::string bytes = message.SerializeAsString();
  v2::Digest digest = digest_of(bytes);
  if (!bytes.empty()) {
    add_blob(out.blobs, {digest, BlobSource::bytes(std::move(bytes))});
  }
  out.directories.try_emplace(to_string(digest), std::move(message));
  return digest;
}

} // namespace

InputRoot MerkleTree::build() const {
  InputRoot out;
  out.root_digest = build_dir(*m_root, out);
  return out;
}

} // namespace ccrex::reapi
