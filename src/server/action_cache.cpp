#include "server/action_cache.h"

#include "reapi/digest.h"
#include "util/logging.h"

namespace ccrex::server {
namespace {

namespace v2 = reapi::v2;

void check(BlobStore& store, const v2::Digest& d, std::vector<v2::Digest>& missing) {
  if (!reapi::is_empty_blob(d) && !d.hash().empty() && !store.contains(reapi::from_proto(d))) {
    missing.push_back(d);
  }
}

void check_directory(BlobStore& store, const v2::Directory& dir, std::vector<v2::Digest>& missing) {
  for (const auto& f : dir.files()) {
    check(store, f.digest(), missing);
  }
}

} // namespace

std::vector<v2::Digest> ActionCache::missing_blobs(const v2::ActionResult& result) {
  std::vector<v2::Digest> missing;
  for (const auto& f : result.output_files()) {
    check(m_store, f.digest(), missing);
  }
  if (result.has_stdout_digest()) {
    check(m_store, result.stdout_digest(), missing);
  }
  if (result.has_stderr_digest()) {
    check(m_store, result.stderr_digest(), missing);
  }
  for (const auto& d : result.output_directories()) {
    auto tree_bytes = m_store.read(reapi::from_proto(d.tree_digest()));
    if (!tree_bytes) {
      missing.push_back(d.tree_digest());
      continue;
    }
    v2::Tree tree;
    if (!tree.ParseFromString(*tree_bytes)) {
      missing.push_back(d.tree_digest()); // unusable is as bad as absent
      continue;
    }
    check_directory(m_store, tree.root(), missing);
    for (const auto& child : tree.children()) {
      check_directory(m_store, child, missing);
    }
  }
  return missing;
}

std::optional<v2::ActionResult> ActionCache::get(std::string_view instance,
                                                 const v2::Digest& action) {
  auto bytes = m_store.get_action_result(instance, action.hash());
  if (!bytes) {
    return std::nullopt;
  }
  v2::ActionResult result;
  if (!result.ParseFromString(*bytes)) {
    CCREX_LOG_WARN("ac " << action.hash().substr(0, 12) << ": unreadable entry ignored");
    return std::nullopt;
  }
  if (!missing_blobs(result).empty()) {
    CCREX_LOG_INFO("ac " << action.hash().substr(0, 12) << ": outputs evicted, reported as miss");
    return std::nullopt;
  }
  return result;
}

util::Status ActionCache::put(std::string_view instance,
                              const v2::Digest& action,
                              const v2::ActionResult& result) {
  const auto missing = missing_blobs(result);
  if (!missing.empty()) {
    return util::Error(util::ErrorCode::failed_precondition,
                       "action result references " + std::to_string(missing.size())
                           + " blob(s) missing from the CAS, e.g. "
                           + reapi::to_string(missing.front()));
  }
  // Inlined bytes are never stored: the digests are authoritative and entries stay small.
  v2::ActionResult stored = result;
  if (!stored.stdout_raw().empty() && !stored.has_stdout_digest()) {
    CCREX_ASSIGN_OR_RETURN(const auto d, m_store.put_computed(stored.stdout_raw()));
    *stored.mutable_stdout_digest() = reapi::to_proto(d);
  }
  if (!stored.stderr_raw().empty() && !stored.has_stderr_digest()) {
    CCREX_ASSIGN_OR_RETURN(const auto d, m_store.put_computed(stored.stderr_raw()));
    *stored.mutable_stderr_digest() = reapi::to_proto(d);
  }
  stored.clear_stdout_raw();
  stored.clear_stderr_raw();
  for (auto& f : *stored.mutable_output_files()) {
    f.clear_contents();
  }
  return m_store.put_action_result(instance, action.hash(), stored.SerializeAsString());
}

} // namespace ccrex::server
