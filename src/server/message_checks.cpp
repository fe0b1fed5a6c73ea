#include "server/message_checks.h"

#include "reapi/digest.h"
#include "util/file.h"
#include "util/strings.h"

#include <set>
#include <string>
#include <unordered_set>

namespace ccrex::server {
namespace {

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

} // namespace

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

} // namespace ccrex::server
