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

namespace {

struct AdminOption {
  char short_name; // '\0' for none
  std::string_view long_name;
  bool takes_value;
  // The command sent to the agent; for options with a value, `value_prefix` goes before it.
  std::string_view command;
  std::string_view value_prefix;
};

constexpr std::array<AdminOption, 17> k_admin_options = {{
    {'s', "--show-stats", false, "-s", ""},
    {'z', "--zero-stats", false, "-z", ""},
    {'C', "--clear", false, "-C", ""},
    {'p', "--show-config", false, "--show-config", ""},
    {'\0', "--print-stats", false, "--print-stats", ""},
    {'\0', "--stop-agent", false, "--stop-agent", ""},
    {'M', "--max-size", true, "--set-config", "max_size="},
    {'o', "--set-config", true, "--set-config", ""},
    {'k', "--get-config", true, "--get-config", ""},
    {'c', "--cleanup", false, "--cleanup", ""},
    {'\0', "--evict-older-than", true, "--evict-older-than", ""},
    {'F', "--max-files", true, "--max-files", ""},
    {'x', "--show-compression", false, "--show-compression", ""},
    {'\0', "--explain", false, "--explain", ""},
    {'\0', "--doctor", false, "--doctor", ""},
    {'V', "--version", false, "--version", ""},
    {'h', "--help", false, "--help", ""},
}};

const AdminOption* find_short(char c) {
  for (const auto& o : k_admin_options) {
    if (o.short_name == c) {
      return &o;
    }
  }
  return nullptr;
}

const AdminOption* find_long(std::string_view name) {
  for (const auto& o : k_admin_options) {
    if (o.long_name == name) {
      return &o;
    }
  }
  return nullptr;
}

// A `key=value` setting in ccache's spelling before the compiler.
bool is_setting(std::string_view arg) {
  const size_t eq = arg.find('=');
  if (eq == 0 || eq == std::string_view::npos) {
    return false;
  }
  return std::all_of(arg.begin(), arg.begin() + static_cast<std::ptrdiff_t>(eq), [](char c) {
    return (c >= 'a' && c <= 'z') || c == '_' || (c >= '0' && c <= '9');
  });
}

} // namespace

util::Result<std::vector<std::vector<std::string>>>
parse_admin_options(const std::vector<std::string>& options) {
  std::vector<std::vector<std::string>> out;
  for (size_t i = 0; i < options.size(); ++i) {
    const std::string& arg = options[i];
    // Every option that `arg` holds, with the value attached to it, if any.
    std::vector<std::pair<const AdminOption*, std::optional<std::string>>> found;
    if (arg.starts_with("--")) {
      const size_t eq = arg.find('=');
      const AdminOption* o = find_long(std::string_view(arg).substr(0, eq));
      if (o == nullptr || (eq != std::string::npos && !o->takes_value)) {
        return util::invalid_argument("unknown option: " + arg);
      }
      found.emplace_back(
          o, eq == std::string::npos ? std::nullopt : std::optional(arg.substr(eq + 1)));
    } else if (arg.size() >= 2 && arg[0] == '-') {
      for (size_t j = 1; j < arg.size(); ++j) {
        const AdminOption* o = find_short(arg[j]);
        if (o == nullptr) {
          return util::invalid_argument("unknown option: -" + std::string(1, arg[j])
                                        + (arg.size() > 2 ? " (in " + arg + ")" : ""));
        }
        if (o->takes_value && j + 1 < arg.size()) {
          found.emplace_back(o, arg.substr(j + 1)); // -M5G
          break;
        }
        found.emplace_back(o, std::nullopt);
      }
    } else {
      return util::invalid_argument("unexpected argument: " + arg);
    }
    for (auto& [o, value] : found) {
      std::vector<std::string> command{std::string(o->command)};
      if (o->command == "--explain" || o->command == "--doctor") {
        command.insert(
            command.end(), options.begin() + static_cast<std::ptrdiff_t>(i) + 1, options.end());
        out.push_back(std::move(command));
        return out;
      }
      if (o->takes_value) {
        if (!value) {
          if (i + 1 >= options.size()) {
            return util::invalid_argument("option " + std::string(o->long_name) + " needs a value");
          }
          value = options[++i];
        }
        command.push_back(std::string(o->value_prefix) + *value);
      }
      out.push_back(std::move(command));
    }
  }
  return out;
}

ClientCommand classify_command_line(const std::vector<std::string>& argv) {
  ClientCommand c;
  if (argv.empty()) {
    return usage_error("empty command line");
  }
  const std::string_view program = util::basename(argv[0]);
  if (program != k_program_name && program != k_ccache_name) {
    c.kind = ClientCommand::Kind::compile;
    c.masquerade = true;
    c.args = argv;
    return c;
  }
  size_t first = 1;
  while (first < argv.size() && is_setting(argv[first])) {
    c.settings.push_back(argv[first++]);
  }
  if (first >= argv.size()) {
    return usage_error("no compiler given");
  }
  if (argv[first].empty() || argv[first][0] != '-') {
    c.kind = ClientCommand::Kind::compile;
    c.args.assign(argv.begin() + static_cast<std::ptrdiff_t>(first), argv.end());
    return c;
  }
  if (!c.settings.empty()) {
    return usage_error("settings (" + c.settings.front() + ") go before a compiler only");
  }
  auto admin = parse_admin_options({argv.begin() + 1, argv.end()});
  if (!admin) {
    return usage_error(admin.error().message());
  }
  const std::string& head = admin->front().front();
  if (head == "--version" || head == "--help") {
    c.kind = head == "--version" ? ClientCommand::Kind::version : ClientCommand::Kind::help;
    return c;
  }
  for (const auto& command : *admin) {
    if (command.front() == "--version" || command.front() == "--help") {
      return usage_error(command.front() + " goes alone");
    }
  }
  c.kind = ClientCommand::Kind::admin;
  c.admin = std::move(admin).value();
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
