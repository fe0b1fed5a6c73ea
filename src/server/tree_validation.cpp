#include "server/tree_validation.h"

#include "reapi/digest.h"
#include "server/platform.h"
#include "server/stage_root.h"
#include "util/strings.h"

#include <deque>
#include <stdexcept>
#include <unordered_set>

namespace ccrex::server {
namespace {

using reapi::v2::Digest;

// Read and parse a message blob; nullopt-like false when absent.
template <typename Message>
util::Result<bool>
read_message(BlobStore& store, const Digest& d, Message& out, std::string_view what) {
  if (reapi::is_empty_blob(d)) {
    out.Clear();
    return true;
  }
  auto data = store.read(reapi::from_proto(d));
  if (!data) {
    if (data.error().code() == util::ErrorCode::not_found) {
      return false;
    }
    return data.error();
  }
  if (!out.ParseFromString(*data)) {
    return util::invalid_argument(std::string(what) + " " + reapi::to_string(d)
                                  + " is not a valid message");
  }
  return true;
}

util::Status validate_timeout(const reapi::v2::Action& action,
                              const Config& config,
                              std::chrono::milliseconds& out) {
  out = std::chrono::duration_cast<std::chrono::milliseconds>(config.default_timeout);
  if (!action.has_timeout()) {
    return {};
  }
  const auto& t = action.timeout();
  if (t.seconds() < 0 || t.nanos() < 0) {
    return util::invalid_argument("negative action timeout");
  }
  const auto requested = std::chrono::seconds(t.seconds()) + std::chrono::nanoseconds(t.nanos());
  if (requested > config.max_timeout) {
    return util::invalid_argument("action timeout of " + std::to_string(t.seconds())
                                  + " s is above this server's maximum of "
                                  + std::to_string(config.max_timeout.count()) + " s");
  }
  if (requested.count() > 0) {
    out = std::chrono::ceil<std::chrono::milliseconds>(requested);
  }
  return {};
}

// The checks that need Action, Command and tree all loaded.
util::Status validate_loaded(const PreparedAction& p, const Config& config) {
  CCREX_TRY(validate_command(p.command));
  CCREX_TRY(validate_platform_order(p.action.platform()));
  CCREX_TRY(check_working_directory(p.input, p.command.working_directory()));
  CCREX_TRY(requested_stage_root(p.command, config.cache_dir));
  const auto& platform =
      p.action.platform().properties_size() > 0 ? p.action.platform() : p.command.platform();
  return check_platform(platform, config.platform, config.lenient_platform);
}

ActionRejection rejection(const util::Error& e) {
  return {e.code(), e.message(), {}};
}

} // namespace

const reapi::v2::Directory& InputTree::directory(const Digest& d) const {
  const auto it = directories.find(d.hash());
  if (it == directories.end()) {
    throw std::logic_error("directory " + reapi::to_string(d) + " is not part of the tree");
  }
  return it->second;
}

util::Status check_working_directory(const InputTree& tree, std::string_view working_directory) {
  const reapi::v2::Directory* dir = &tree.directory(tree.root);
  if (working_directory.empty()) {
    return {};
  }
  for (auto segment : util::split(working_directory, '/')) {
    CCREX_TRY(validate_name(segment));
    const reapi::v2::DirectoryNode* next = nullptr;
    for (const auto& node : dir->directories()) {
      if (node.name() == segment) {
        next = &node;
        break;
      }
    }
    if (next == nullptr) {
      return util::invalid_argument("working directory '" + std::string(working_directory)
                                    + "' is not a directory of the input root");
    }
    dir = &tree.directory(next->digest());
  }
  return {};
}

util::Status load_input_tree(BlobStore& store,
                             const Digest& root,
                             InputTree& tree,
                             std::vector<Digest>& missing) {
  tree.root = root;
  std::unordered_set<std::string> missing_seen;
  const auto report = [&](const Digest& d) {
    if (missing_seen.insert(d.hash()).second) {
      missing.push_back(d);
    }
  };
  std::deque<Digest> queue{root};
  while (!queue.empty()) {
    const Digest d = queue.front();
    queue.pop_front();
    if (tree.directories.contains(d.hash()) || missing_seen.contains(d.hash())) {
      continue;
    }
    reapi::v2::Directory dir;
    CCREX_ASSIGN_OR_RETURN(const bool found, read_message(store, d, dir, "Directory"));
    if (!found) {
      report(d);
      continue;
    }
    CCREX_TRY(validate_directory(dir));
    for (const auto& f : dir.files()) {
      if (!reapi::is_empty_blob(f.digest()) && !store.contains(reapi::from_proto(f.digest()))) {
        report(f.digest());
      }
    }
    for (const auto& sub : dir.directories()) {
      queue.push_back(sub.digest());
    }
    tree.directories.emplace(d.hash(), std::move(dir));
  }
  return {};
}

util::Result<PreparedAction, ActionRejection>
prepare_action(BlobStore& store, const Digest& action_digest, const Config& config) {
  PreparedAction p;
  p.action_digest = action_digest;
  auto found = read_message(store, action_digest, p.action, "Action");
  if (!found) {
    return rejection(found.error());
  }
  if (!*found) {
    return ActionRejection{
        util::ErrorCode::failed_precondition, "the Action blob is missing", {action_digest}};
  }
  for (const auto* d : {&p.action.command_digest(), &p.action.input_root_digest()}) {
    if (auto st = reapi::validate(*d); !st) {
      return rejection(st.error().with_context("Action"));
    }
  }
  std::vector<Digest> missing;
  found = read_message(store, p.action.command_digest(), p.command, "Command");
  if (!found) {
    return rejection(found.error());
  }
  if (!*found) {
    missing.push_back(p.action.command_digest());
  }
  if (auto st = load_input_tree(store, p.action.input_root_digest(), p.input, missing); !st) {
    return rejection(st.error());
  }
  if (!missing.empty()) {
    return ActionRejection{util::ErrorCode::failed_precondition,
                           std::to_string(missing.size()) + " blob(s) of the action are missing",
                           std::move(missing)};
  }
  if (auto st = validate_timeout(p.action, config, p.timeout); !st) {
    return rejection(st.error());
  }
  if (auto st = validate_loaded(p, config); !st) {
    return rejection(st.error());
  }
  p.outputs = output_fields_read(p.command, config.api_versions);
  return p;
}

} // namespace ccrex::server
