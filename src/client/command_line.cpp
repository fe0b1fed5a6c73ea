#include "client/command_line.h"

#include "util/file.h"
#include "util/subprocess.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdlib>
#include <optional>

namespace ccrex::client {
namespace {

ClientCommand usage_error(std::string message) {
  ClientCommand c;
  c.kind = ClientCommand::Kind::usage_error;
  c.message = std::move(message);
  return c;
}

std::string real_path(const std::string& path) {
  std::array<char, PATH_MAX> buf{};
  if (::realpath(path.c_str(), buf.data()) == nullptr) {
    return {};
  }
  return buf.data();
}

} // namespace

bool is_admin_option(std::string_view option) {
  static constexpr std::array<std::string_view, 11> k_admin_options = {
      "-s",
      "--show-stats",
      "-z",
      "--zero-stats",
      "-C",
      "--clear",
      "--show-config",
      "--stop-agent",
      "--explain",
      "--print-stats",
      "--doctor",
  };
  return std::ranges::find(k_admin_options, option) != k_admin_options.end();
}

ClientCommand classify_command_line(const std::vector<std::string>& argv) {
  ClientCommand c;
  if (argv.empty()) {
    return usage_error("empty command line");
  }
  if (util::basename(argv[0]) != k_program_name) {
    c.kind = ClientCommand::Kind::compile;
    c.masquerade = true;
    c.args = argv;
    return c;
  }
  if (argv.size() < 2) {
    return usage_error("no compiler given");
  }
  const std::string& first = argv[1];
  if (first.empty() || first[0] != '-') {
    c.kind = ClientCommand::Kind::compile;
    c.args.assign(argv.begin() + 1, argv.end());
    return c;
  }
  if (first == "--version" || first == "-V") {
    c.kind = ClientCommand::Kind::version;
  } else if (first == "--help" || first == "-h") {
    c.kind = ClientCommand::Kind::help;
  } else if (is_admin_option(first)) {
    c.kind = ClientCommand::Kind::admin;
    c.args.assign(argv.begin() + 1, argv.end());
  } else {
    return usage_error("unknown option: " + first);
  }
  return c;
}

bool is_compiler_wrapper(const std::string& real) {
  static constexpr std::array<std::string_view, 6> k_wrappers = {
      "ccache", "sccache", "distcc", "icecc", "buildcache", "ccrex"};
  return std::ranges::find(k_wrappers, util::basename(real)) != k_wrappers.end();
}

namespace {

bool listed(const std::string& dir, std::string_view list) {
  size_t pos = 0;
  while (pos <= list.size()) {
    const size_t end = std::min(list.find(':', pos), list.size());
    if (list.substr(pos, end - pos) == dir) {
      return true;
    }
    pos = end + 1;
  }
  return false;
}

std::optional<std::string> find_compiler(const std::string& name,
                                         const std::string& path_list,
                                         const std::string& self,
                                         const std::string& passed_dirs) {
  size_t pos = 0;
  while (pos <= path_list.size()) {
    const size_t end = std::min(path_list.find(':', pos), path_list.size());
    std::string dir = path_list.substr(pos, end - pos);
    pos = end + 1;
    if (dir.empty()) {
      dir = ".";
    }
    if (listed(dir, passed_dirs)) {
      continue;
    }
    // One directory at a time, so each candidate's real path can be judged.
    auto found = util::find_in_path(name, dir, self);
    if (found && !is_compiler_wrapper(real_path(*found))) {
      return found;
    }
  }
  return std::nullopt;
}

} // namespace

util::Result<std::string> resolve_compiler(const std::string& name,
                                           const std::string& path_list,
                                           const std::string& self,
                                           const std::string& passed_dirs) {
  if (name.find('/') != std::string::npos) {
    if (self.empty() || real_path(name) != self) {
      return name;
    }
    const std::string base(util::basename(name));
    if (base == k_program_name) {
      return util::not_found("refusing to run ccrex as its own compiler");
    }
    auto found = find_compiler(base, path_list, self, passed_dirs);
    if (found) {
      return *found;
    }
    return util::not_found(base + ": not found in PATH");
  }
  auto found = find_compiler(name, path_list, self, passed_dirs);
  if (!found) {
    return util::not_found(name + ": not found in PATH");
  }
  return *found;
}

std::string self_path() {
  return real_path("/proc/self/exe");
}

} // namespace ccrex::client
