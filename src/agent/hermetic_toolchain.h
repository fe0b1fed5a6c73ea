#pragma once

// Hermetic compiles (the `hermetic_toolchain` setting): the compiler's closure
// (toolchain/closure.h) travels in the input root, which the engine runs as the action's
// `/` (platform property ccrex-root=input), so the worker needs no compiler of its own and
// cannot use another one.
//
// The closure of a compiler is computed once per compiler identity and kept in memory, its
// files hashed through the agent's digest cache; each hermetic action merges it into its
// Merkle tree, where its Directory
// messages come out the same for every compile, so its blobs are found on the engine after
// the first upload. The compile's own inputs go in at their absolute paths beside it, and
// it runs in its real working directory, so its object is the one a local compile writes.
//
// Thread safety: HermeticToolchains::get() may be called concurrently.

#include "agent/file_digests.h"
#include "reapi/merkle_tree.h"
#include "toolchain/closure.h"
#include "toolchain/probe.h"
#include "toolchain/toolchain_id.h"
#include "util/result.h"

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace ccrex::agent {

// A closure with the digest of every file, ready to go into a tree.
struct HermeticToolchain {
  struct File {
    // Path in the input root (the absolute path without its leading '/').
    std::string path;
    util::Digest digest;
    bool executable = false;
    // Local file holding the content.
    std::string source;
  };
  std::vector<File> files;
  // Symbolic links (path in the input root, relative target) and directories.
  std::vector<std::pair<std::string, std::string>> symlinks;
  std::vector<std::string> directories;
  // Sum of the file sizes.
  int64_t total_bytes = 0;
};

class HermeticToolchains {
public:
  explicit HermeticToolchains(toolchain::ProbeRunner runner = toolchain::default_probe_runner());

  // Return the closure of the compiler `id` with the current digest of every file. The
  // closure is computed on the first call for this identity at this path (failures are not
  // kept); its files are hashed through `digests`, so a later call costs one stat per file.
  util::Result<std::shared_ptr<const HermeticToolchain>> get(const toolchain::ToolchainId& id,
                                                             FileDigests& digests);

private:
  struct Slot {
    std::mutex mutex;
    std::shared_ptr<const toolchain::Closure> closure; // guarded by mutex
    int64_t logged_bytes = -1;                         // guarded by mutex
  };
  toolchain::ProbeRunner m_runner;
  std::mutex m_mutex;
  std::map<std::string, std::shared_ptr<Slot>> m_slots; // guarded by m_mutex
};

// Hash the files of `closure`.
util::Result<HermeticToolchain> hash_closure(const toolchain::Closure& closure,
                                             FileDigests& digests);

// Add `toolchain` to `tree`.
util::Status add_hermetic_toolchain(const HermeticToolchain& toolchain, reapi::MerkleTree& tree);

} // namespace ccrex::agent
