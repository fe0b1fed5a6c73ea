#include "client/command_line.h"

#include "util/file.h"
#include "util/subprocess.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdlib>

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
  static constexpr std::array<std::string_view, 10> k_admin_options = {
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

util::Result<std::string>
resolve_compiler(const std::string& name, const std::string& path_list, const std::string& self) {
  if (name.find('/') != std::string::npos) {
    if (self.empty() || real_path(name) != self) {
      return name;
    }
    const std::string base(util::basename(name));
    if (base == k_program_name) {
      return util::not_found("refusing to run ccrex as its own compiler");
    }
    auto found = util::find_in_path(base, path_list, self);
    if (found) {
      return *found;
    }
    return util::not_found(base + ": not found in PATH");
  }
  auto found = util::find_in_path(name, path_list, self);
  if (!found) {
    return util::not_found(name + ": not found in PATH");
  }
  return *found;
}

std::string self_path() {
  return real_path("/proc/self/exe");
}

} // namespace ccrex::client
