#include "server/tree_validation.h"

#include "reapi/digest.h"
#include "server/platform.h"
#include "server/stage_root.h"
#include "util/file.h"
#include "util/strings.h"

#include <deque>
#include <set>
#include <stdexcept>
#include <unordered_set>

namespace ccrex::server {
namespace {

using reapi::v2::Digest;

// Return invalid_argument unless `names` is strictly increasing (sorted and unique).
template <typename Range, typename Key>
util::Status check_strictly_sorted(const Range& items, Key key, std::string_view what) {
  for (int i = 1; i < items.size(); ++i) {
    const std::string& prev = key(items[i - 1]);
    const std::string& cur = key(items[i]);
    if (!(prev < cur)) {
      std::string message(what);
      message += prev == cur ? " contain a duplicate: '" : " are not sorted: '";
      message += cur;
      message += "' after '";
      message += prev;
      message += "'";
      return util::invalid_argument(std::move(message));
    }
  }
  return {};
}

// Check one output path (relative to the working directory `wd`). With `may_be_cwd`, ""
// and "." name the working directory itself (an output directory).
util::Status validate_output_path(std::string_view wd, const std::string& path, bool may_be_cwd) {
  if (path.empty() || path == ".") {
    return may_be_cwd
               ? util::Status{}
               : util::invalid_argument("output file '" + path + "' names the working directory");
  }
  if (path.front() == '/' || path.back() == '/') {
    return util::invalid_argument("output path '" + path
                                  + "' must be relative, without leading or trailing '/'");
  }
  for (auto segment : util::split(path, '/')) {
    if (segment.empty() || segment == ".") {
      return util::invalid_argument("output path '" + path + "' has an empty or '.' segment");
    }
  }
  const std::string joined = util::normalize_path(util::join_path(wd, path));
  if (joined == ".." || joined.rfind("../", 0) == 0) {
    return util::invalid_argument("output path '" + path + "' leaves the input root");
  }
  return {};
}

util::Status validate_outputs(const reapi::v2::Command& command) {
  const auto self = [](const std::string& s) -> const std::string& { return s; };
  const std::string& wd = command.working_directory();
  CCREX_TRY(check_strictly_sorted(command.output_paths(), self, "output_paths"));
  CCREX_TRY(check_strictly_sorted(command.output_files(), self, "output_files"));
  CCREX_TRY(check_strictly_sorted(command.output_directories(), self, "output_directories"));
  for (const auto& p : command.output_paths()) {
    CCREX_TRY(validate_output_path(wd, p, true));
  }
  for (const auto& p : command.output_directories()) {
    CCREX_TRY(validate_output_path(wd, p, true));
  }
  const std::set<std::string> dirs(command.output_directories().begin(),
                                   command.output_directories().end());
  const std::set<std::string> files(command.output_files().begin(), command.output_files().end());
  for (const auto& p : command.output_files()) {
    CCREX_TRY(validate_output_path(wd, p, false));
    if (dirs.contains(p)) {
      return util::invalid_argument("'" + p + "' is both an output file and an output directory");
    }
    for (size_t slash = p.find('/'); slash != std::string::npos; slash = p.find('/', slash + 1)) {
      if (files.contains(p.substr(0, slash))) {
        return util::invalid_argument("output file '" + p.substr(0, slash)
                                      + "' is a parent of output file '" + p + "'");
      }
    }
  }
  return {};
}

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

util::Status validate_name(std::string_view name) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string_view::npos
      || name.find('\0') != std::string_view::npos) {
    return util::invalid_argument("invalid name '" + std::string(name)
                                  + "' in a Directory (must be one path segment)");
  }
  return {};
}

util::Status validate_directory(const reapi::v2::Directory& dir) {
  const auto name = [](const auto& node) -> const std::string& { return node.name(); };
  CCREX_TRY(check_strictly_sorted(dir.files(), name, "Directory files"));
  CCREX_TRY(check_strictly_sorted(dir.directories(), name, "Directory subdirectories"));
  CCREX_TRY(check_strictly_sorted(dir.symlinks(), name, "Directory symlinks"));
  std::unordered_set<std::string> seen;
  const auto add = [&](const std::string& n) -> util::Status {
    CCREX_TRY(validate_name(n));
    if (!seen.insert(n).second) {
      return util::invalid_argument("name '" + n + "' appears twice in a Directory");
    }
    return {};
  };
  for (const auto& f : dir.files()) {
    CCREX_TRY(add(f.name()));
    CCREX_TRY(reapi::validate(f.digest()));
  }
  for (const auto& d : dir.directories()) {
    CCREX_TRY(add(d.name()));
    CCREX_TRY(reapi::validate(d.digest()));
  }
  for (const auto& s : dir.symlinks()) {
    CCREX_TRY(add(s.name()));
    if (s.target().empty()) {
      return util::invalid_argument("symlink '" + s.name() + "' has an empty target");
    }
    if (s.target().front() == '/') {
      return util::invalid_argument("symlink '" + s.name() + "' has an absolute target '"
                                    + s.target() + "' (absolute symlinks are not allowed)");
    }
  }
  return {};
}

util::Status validate_platform_order(const reapi::v2::Platform& platform) {
  const auto& props = platform.properties();
  for (int i = 1; i < props.size(); ++i) {
    const auto& a = props[i - 1];
    const auto& b = props[i];
    if (std::tie(b.name(), b.value()) < std::tie(a.name(), a.value())) {
      return util::invalid_argument("platform properties are not sorted: '" + b.name() + "="
                                    + b.value() + "' after '" + a.name() + "=" + a.value() + "'");
    }
  }
  return {};
}

util::Status validate_command(const reapi::v2::Command& command) {
  if (command.arguments_size() == 0 || command.arguments(0).empty()) {
    return util::invalid_argument("Command has no arguments");
  }
  // Unsorted and repeated names are accepted on purpose (see tree_validation.h).
  for (const auto& var : command.environment_variables()) {
    if (var.name().empty() || var.name().find('=') != std::string::npos) {
      return util::invalid_argument("invalid environment variable name '" + var.name() + "'");
    }
  }
  CCREX_TRY(validate_platform_order(command.platform()));
  return validate_outputs(command);
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
