#include "agent/hermetic_toolchain.h"

#include "reapi/digest.h"
#include "util/logging.h"

namespace ccrex::agent {

HermeticToolchains::HermeticToolchains(toolchain::ProbeRunner runner)
    : m_runner(std::move(runner)) {}

util::Result<HermeticToolchain> hash_closure(const toolchain::Closure& closure,
                                             FileDigests& digests) {
  using Kind = toolchain::ClosureEntry::Kind;
  HermeticToolchain out;
  for (const auto& e : closure.entries) {
    std::string path = e.path.substr(1);
    if (path.empty()) {
      continue; // "/" itself
    }
    switch (e.kind) {
    case Kind::file: {
      CCREX_ASSIGN_OR_RETURN(const auto info, digests.get(e.source));
      out.total_bytes += info.digest.size;
      out.files.push_back({std::move(path), info.digest, info.is_executable, e.source});
      break;
    }
    case Kind::symlink:
      out.symlinks.emplace_back(std::move(path), e.target);
      break;
    case Kind::directory:
      out.directories.push_back(std::move(path));
      break;
    }
  }
  return out;
}

util::Result<std::shared_ptr<const HermeticToolchain>>
HermeticToolchains::get(const toolchain::ToolchainId& id, FileDigests& digests) {
  std::shared_ptr<Slot> slot;
  {
    const std::lock_guard lock(m_mutex);
    auto& s = m_slots[id.key + "\n" + id.compiler_path];
    if (!s) {
      s = std::make_shared<Slot>();
    }
    slot = s;
  }
  const std::lock_guard lock(slot->mutex);
  if (!slot->closure) {
    CCREX_ASSIGN_OR_RETURN(auto closure, toolchain::compute_closure(id, m_runner));
    slot->closure = std::make_shared<const toolchain::Closure>(std::move(closure));
  }
  // Hashed on every call: the digest cache answers with one stat per file, and a library
  // updated in place (the compiler's identity unchanged) gets its new digest.
  CCREX_ASSIGN_OR_RETURN(auto hashed, hash_closure(*slot->closure, digests));
  if (slot->logged_bytes != hashed.total_bytes) {
    slot->logged_bytes = hashed.total_bytes;
    CCREX_LOG_INFO("hermetic toolchain of " << id.compiler_path << ": " << hashed.files.size()
                                            << " files, " << hashed.total_bytes << " bytes");
  }
  return std::make_shared<const HermeticToolchain>(std::move(hashed));
}

util::Status add_hermetic_toolchain(const HermeticToolchain& toolchain, reapi::MerkleTree& tree) {
  for (const auto& dir : toolchain.directories) {
    CCREX_TRY(tree.add_directory(dir));
  }
  for (const auto& [path, target] : toolchain.symlinks) {
    CCREX_TRY(tree.add_symlink(path, target));
  }
  for (const auto& f : toolchain.files) {
    CCREX_TRY(tree.add_file(
        f.path, reapi::to_proto(f.digest), f.executable, reapi::BlobSource::file(f.source)));
  }
  return {};
}

} // namespace ccrex::agent
