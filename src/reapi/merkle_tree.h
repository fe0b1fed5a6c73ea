#pragma once

// MerkleTree: builds a REAPI input root from relative paths.
//
// Entries live in sorted maps, so the Directory messages are canonical (REAPI §4: files,
// directories and symlinks sorted by name) whatever order the paths were added in, and the
// root digest depends only on the content. build() returns every Directory message and a
// digest -> blob map holding exactly the bytes that were hashed (serialized Directories in
// memory, files by the source the caller gave), ready for FindMissingBlobs and upload.
// The empty blob (empty files, empty directories) is never put in the map.
//
//   MerkleTree tree;
//   CCREX_TRY(tree.add_file("src/a.c", digest, false, BlobSource::file("/abs/src/a.c")));
//   CCREX_TRY(tree.add_directory("build/obj"));  // working directory, even if empty
//   InputRoot root = tree.build();
//
// Thread safety: not thread-safe; build one tree per thread.

#include "reapi/blob.h"
#include "reapi/proto.h"
#include "util/result.h"

#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace ccrex::reapi {

struct InputRoot {
  // Digest of the root Directory message.
  v2::Digest root_digest;
  // Every non-empty blob of the tree: file contents and serialized Directory messages.
  BlobMap blobs;
  // Every Directory message, the root included, keyed by "hash/size" of its digest.
  std::map<std::string, v2::Directory> directories;
};

class MerkleTree {
public:
  MerkleTree();
  ~MerkleTree();
  MerkleTree(MerkleTree&&) noexcept;
  MerkleTree& operator=(MerkleTree&&) noexcept;

  // Add a file at relative `path` whose content has `digest`; `source` says where the bytes
  // are (they must hash to `digest`). Adding the same file twice with the same digest and
  // mode is fine; anything else at that path is a clash.
  util::Status
  add_file(std::string_view path, const v2::Digest& digest, bool is_executable, BlobSource source);
  // Add a directory (and its parents), possibly empty. "" is the root and a no-op.
  util::Status add_directory(std::string_view path);
  // Add a symlink at `path` pointing to `target` (stored verbatim).
  util::Status add_symlink(std::string_view path, std::string_view target);

  // Compute every Directory message and the root digest.
  InputRoot build() const;

private:
  struct Dir;
  util::Result<Dir*> parent_of(std::string_view path, std::string& leaf);
  std::unique_ptr<Dir> m_root;
};

// Return OK if `path` is a clean relative path: not empty, not absolute, no empty, "." or
// ".." segments, no trailing slash.
util::Status check_relative_path(std::string_view path);

} // namespace ccrex::reapi
