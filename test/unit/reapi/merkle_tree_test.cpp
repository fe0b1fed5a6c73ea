#include "reapi/digest.h"
#include "reapi/merkle_tree.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace ccrex::reapi {
namespace {

struct Entry {
  std::string path;
  std::string content;
  bool executable = false;
};

MerkleTree tree_of(const std::vector<Entry>& entries) {
  MerkleTree tree;
  for (const auto& e : entries) {
    EXPECT_TRUE(
        tree.add_file(e.path, digest_of(e.content), e.executable, BlobSource::bytes(e.content)));
  }
  return tree;
}

TEST(MerkleTree, DigestIsIndependentOfInsertionOrder) {
  std::vector<Entry> entries{{"src/main.c", "int main;"},
                             {"src/util/a.h", "a"},
                             {"include/b.h", "b"},
                             {"build.sh", "#!/bin/sh", true},
                             {"src/util/z.h", "z"},
                             {"Makefile", "all:"}};
  const auto expected = tree_of(entries).build().root_digest;
  std::sort(entries.begin(), entries.end(), [](auto& a, auto& b) { return a.path < b.path; });
  do {
    EXPECT_EQ(to_string(tree_of(entries).build().root_digest), to_string(expected));
  } while (std::next_permutation(
      entries.begin(), entries.end(), [](auto& a, auto& b) { return a.path < b.path; }));
}

TEST(MerkleTree, MatchesAHandBuiltTree) {
  // root: a.txt (exec), sub/ { b.txt }, empty/ {}
  v2::Directory sub;
  auto* b = sub.add_files();
  b->set_name("b.txt");
  *b->mutable_digest() = digest_of("bee");
  v2::Directory root;
  auto* a = root.add_files();
  a->set_name("a.txt");
  *a->mutable_digest() = digest_of("ay");
  a->set_is_executable(true);
  auto* empty = root.add_directories();
  empty->set_name("empty");
  *empty->mutable_digest() = digest_of("");
  auto* subnode = root.add_directories();
  subnode->set_name("sub");
  *subnode->mutable_digest() = digest_of(sub.SerializeAsString());

  MerkleTree tree;
  ASSERT_TRUE(tree.add_directory("empty"));
  ASSERT_TRUE(tree.add_file("sub/b.txt", digest_of("bee"), false, BlobSource::bytes("bee")));
  ASSERT_TRUE(tree.add_file("a.txt", digest_of("ay"), true, BlobSource::file("/abs/a.txt")));
  const auto built = tree.build();
  EXPECT_EQ(to_string(built.root_digest), to_string(digest_of(root.SerializeAsString())));

  // The blob map holds exactly the hashed bytes: both files, root and sub; not the empty dir.
  EXPECT_EQ(built.blobs.size(), 4U);
  const auto& root_blob = built.blobs.at(to_string(built.root_digest));
  EXPECT_EQ(root_blob.source.data, root.SerializeAsString());
  EXPECT_EQ(built.blobs.at(to_string(digest_of("ay"))).source, BlobSource::file("/abs/a.txt"));
  for (const auto& [key, blob] : built.blobs) {
    if (!blob.source.is_file) {
      EXPECT_EQ(to_string(digest_of(blob.source.data)), key);
    }
  }
  EXPECT_EQ(built.directories.size(), 3U); // root, sub, empty
}

TEST(MerkleTree, EmptyTreeIsTheEmptyDigestAndUploadsNothing) {
  const auto built = MerkleTree().build();
  EXPECT_TRUE(is_empty_blob(built.root_digest));
  EXPECT_TRUE(built.blobs.empty());
}

TEST(MerkleTree, NestedDirectoriesAreCreatedOnce) {
  MerkleTree tree;
  ASSERT_TRUE(tree.add_directory("a/b/c"));
  ASSERT_TRUE(tree.add_file("a/b/f", digest_of("f"), false, BlobSource::bytes("f")));
  ASSERT_TRUE(tree.add_directory("a/b"));
  ASSERT_TRUE(tree.add_directory(""));
  const auto built = tree.build();
  const auto& root = built.directories.at(to_string(built.root_digest));
  ASSERT_EQ(root.directories_size(), 1);
  const auto& a = built.directories.at(to_string(root.directories(0).digest()));
  ASSERT_EQ(a.directories_size(), 1);
  const auto& b = built.directories.at(to_string(a.directories(0).digest()));
  EXPECT_EQ(b.files_size(), 1);
  EXPECT_EQ(b.directories_size(), 1);
  EXPECT_EQ(b.directories(0).name(), "c");
}

TEST(MerkleTree, EmptyFileIsListedButNotUploaded) {
  MerkleTree tree;
  ASSERT_TRUE(tree.add_file("empty.h", digest_of(""), false, BlobSource::bytes("")));
  const auto built = tree.build();
  EXPECT_EQ(built.blobs.size(), 1U); // only the root Directory
  EXPECT_EQ(built.directories.at(to_string(built.root_digest)).files_size(), 1);
}

TEST(MerkleTree, ExecutableBitChangesTheDigest) {
  EXPECT_NE(to_string(tree_of({{"x", "1", true}}).build().root_digest),
            to_string(tree_of({{"x", "1", false}}).build().root_digest));
}

TEST(MerkleTree, SymlinksAreSortedNodes) {
  MerkleTree tree;
  ASSERT_TRUE(tree.add_symlink("lib/z", "../z.so"));
  ASSERT_TRUE(tree.add_symlink("lib/a", "a.so.1"));
  const auto built = tree.build();
  const auto& root = built.directories.at(to_string(built.root_digest));
  const auto& lib = built.directories.at(to_string(root.directories(0).digest()));
  ASSERT_EQ(lib.symlinks_size(), 2);
  EXPECT_EQ(lib.symlinks(0).name(), "a");
  EXPECT_EQ(lib.symlinks(1).target(), "../z.so");
}

TEST(MerkleTree, RejectsUnsafePaths) {
  MerkleTree tree;
  const auto d = digest_of("x");
  for (const char* bad : {"", "/etc/passwd", "../x", "a/../b", "a//b", "a/", "./a", "a/./b"}) {
    auto st = tree.add_file(bad, d, false, BlobSource::bytes("x"));
    ASSERT_FALSE(st) << bad;
    EXPECT_EQ(st.error().code(), util::ErrorCode::invalid_argument);
  }
  EXPECT_FALSE(tree.add_directory("/abs"));
  EXPECT_FALSE(tree.add_symlink("../l", "t"));
}

TEST(MerkleTree, ReportsNameClashes) {
  MerkleTree tree;
  ASSERT_TRUE(tree.add_file("a/b", digest_of("1"), false, BlobSource::bytes("1")));
  EXPECT_FALSE(tree.add_directory("a/b"));
  EXPECT_FALSE(tree.add_file("a/b/c", digest_of("2"), false, BlobSource::bytes("2")));
  EXPECT_FALSE(tree.add_file("a", digest_of("3"), false, BlobSource::bytes("3")));
  EXPECT_FALSE(tree.add_symlink("a/b", "t"));
  auto st = tree.add_file("a/b", digest_of("other"), false, BlobSource::bytes("other"));
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message().find("a/b"), std::string::npos);
  EXPECT_FALSE(tree.add_file("a/b", digest_of("1"), true, BlobSource::bytes("1")));
  // The same file again is not a clash.
  EXPECT_TRUE(tree.add_file("a/b", digest_of("1"), false, BlobSource::bytes("1")));
}

} // namespace
} // namespace ccrex::reapi
