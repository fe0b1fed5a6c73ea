#include "agent/hermetic_toolchain.h"
#include "util/file.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>

namespace ccrex::agent {
namespace {

// A "compiler" that is this test program: a real ELF file whose loader the fake runner
// answers for, with no libraries.
toolchain::ToolchainId self_compiler(const std::string& key) {
  toolchain::ToolchainId id;
  id.compiler_path = std::filesystem::read_symlink("/proc/self/exe").string();
  id.family = toolchain::CompilerFamily::clang;
  id.key = key;
  return id;
}

struct CountingRunner {
  std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);
  toolchain::ProbeRunner runner() {
    auto counter = calls;
    return [counter](const std::vector<std::string>&) -> util::Result<toolchain::ProbeOutput> {
      ++*counter;
      return toolchain::ProbeOutput{0, "", ""};
    };
  }
};

TEST(HermeticToolchains, ComputedOncePerIdentity) {
  CountingRunner counting;
  HermeticToolchains toolchains(counting.runner());
  FileDigests digests(0);
  const auto id = self_compiler(std::string(64, 'a'));
  auto first = toolchains.get(id, digests);
  ASSERT_TRUE(first) << first.error().message();
  const int probes = *counting.calls;
  EXPECT_GT(probes, 0);
  auto second = toolchains.get(id, digests);
  ASSERT_TRUE(second);
  EXPECT_EQ(*counting.calls, probes);
  ASSERT_EQ((*second)->files.size(), (*first)->files.size());
  EXPECT_EQ((*second)->files[0].digest, (*first)->files[0].digest);
  // The driver is there, at its path without the leading '/', with its content's digest.
  const std::string driver = id.compiler_path.substr(1);
  const auto& files = (*first)->files;
  const auto it = std::find_if(files.begin(), files.end(), [&](const HermeticToolchain::File& f) {
    return f.path == driver;
  });
  ASSERT_NE(it, files.end());
  EXPECT_TRUE(it->executable);
  EXPECT_EQ(it->digest, digests.get(id.compiler_path)->digest);
  EXPECT_GT((*first)->total_bytes, 0);
  // Another identity is computed again.
  auto other = toolchains.get(self_compiler(std::string(64, 'b')), digests);
  ASSERT_TRUE(other);
  EXPECT_GT(*counting.calls, probes);
}

TEST(HermeticToolchains, AFileChangedInPlaceGetsItsNewDigest) {
  util::TempDir dir;
  const std::string lib = dir.path() + "/libx.so";
  ASSERT_TRUE(util::write_file_atomic(lib, "version 1"));
  FileDigests digests(0);
  using Kind = toolchain::ClosureEntry::Kind;
  const toolchain::Closure closure{{{"/usr/lib/libx.so", Kind::file, lib, "", false}}};
  auto before = hash_closure(closure, digests);
  ASSERT_TRUE(util::write_file_atomic(lib, "version 2, longer"));
  auto after = hash_closure(closure, digests);
  ASSERT_TRUE(before && after);
  EXPECT_NE(before->files[0].digest, after->files[0].digest);
}

TEST(HermeticToolchains, TreeHoldsFilesLinksAndDirectories) {
  util::TempDir dir;
  ASSERT_TRUE(util::write_file_atomic(dir.path() + "/cc", "binary", 0755));
  FileDigests digests(0);
  using Kind = toolchain::ClosureEntry::Kind;
  auto hashed = hash_closure({{{"/opt/tc/bin/cc", Kind::file, dir.path() + "/cc", "", true},
                               {"/opt/tc/bin/cc-1", Kind::symlink, "", "cc", false},
                               {"/opt/tc/include", Kind::directory, "", "", false}}},
                             digests);
  ASSERT_TRUE(hashed) << hashed.error().message();
  reapi::MerkleTree tree;
  ASSERT_TRUE(add_hermetic_toolchain(*hashed, tree));
  const auto root = tree.build();
  // Built twice from the same closure: the same root.
  reapi::MerkleTree again;
  ASSERT_TRUE(add_hermetic_toolchain(*hashed, again));
  EXPECT_EQ(again.build().root_digest.hash(), root.root_digest.hash());
  EXPECT_EQ(hashed->files.size(), 1U);
  EXPECT_EQ(hashed->files[0].path, "opt/tc/bin/cc");
  EXPECT_EQ(hashed->symlinks.size(), 1U);
  EXPECT_EQ(hashed->directories, std::vector<std::string>{"opt/tc/include"});
  EXPECT_EQ(hashed->total_bytes, 6);
}

} // namespace
} // namespace ccrex::agent
