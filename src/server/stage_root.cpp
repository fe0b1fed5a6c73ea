#include "server/stage_root.h"

#include "util/file.h"
#include "util/subprocess.h"

#include <unistd.h>

#include <array>
#include <filesystem>
#include <string_view>

namespace ccrex::server {
namespace {

constexpr const char* k_unshare = "/usr/bin/unshare";
constexpr const char* k_shell = "/bin/sh";

// $1 staged root, $2 stage root, $3 directory to run in; the command follows.
constexpr const char* k_script =
    "mount --bind -- \"$1\" \"$2\" 2>/dev/null"
    " || { echo \"ccrex-server: cannot mount the input root at $2\" >&2; exit 213; }\n"
    "cd -- \"$3\" || exit 213\n"
    "shift 3\n"
    "exec \"$@\"\n";

// Top-level directories of the system: never a stage root, nor anything below them.
constexpr std::array<std::string_view, 11> k_system_dirs = {
    "bin", "boot", "dev", "etc", "proc", "run", "sbin", "sys", "usr", "var", "lost+found"};

// Whether `path` is `dir` or below it (both absolute and normalized).
bool is_within(std::string_view path, std::string_view dir) {
  if (dir == "/") {
    return true;
  }
  return path.starts_with(dir) && (path.size() == dir.size() || path[dir.size()] == '/');
}

// The store's absolute path as configured and as resolved: a stage root may be neither.
std::vector<std::string> store_paths(const std::string& store_dir) {
  std::vector<std::string> out;
  if (store_dir.empty()) {
    return out;
  }
  std::error_code ec;
  const auto absolute = std::filesystem::absolute(store_dir, ec);
  if (!ec) {
    out.push_back(util::normalize_path(absolute.string()));
  }
  const auto real = std::filesystem::weakly_canonical(store_dir, ec);
  if (!ec) {
    out.push_back(real.string());
  }
  return out;
}

// The policy of stage_root.h, on the text of `path` alone (plus the store's location).
bool acceptable(std::string_view path, const std::string& store_dir) {
  if (path.size() < 2 || path.front() != '/' || util::normalize_path(path) != path
      || path.find('\0') != std::string_view::npos) {
    return false;
  }
  const std::string_view top = path.substr(1, path.find('/', 1) - 1);
  if (top.starts_with("lib")) {
    return false; // lib, lib32, lib64, libx32, ...
  }
  for (const auto dir : k_system_dirs) {
    if (top == dir) {
      return false;
    }
  }
  for (const auto& store : store_paths(store_dir)) {
    if (is_within(path, store)) {
      return false;
    }
  }
  return true;
}

// `text` for a one-line message: control bytes shown as '?'.
std::string printable(std::string_view text) {
  std::string out(text);
  for (auto& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      c = '?';
    }
  }
  return out;
}

std::vector<std::string> unshare_prefix() {
  std::vector<std::string> argv{k_unshare, "--mount", "--propagation", "private"};
  if (::geteuid() != 0) {
    argv.emplace_back("--map-root-user");
  }
  return argv;
}

} // namespace

util::Result<std::string> requested_stage_root(const reapi::v2::Command& command,
                                               const std::string& store_dir) {
  // A repeated name counts with its last value, as in the command's environment.
  const reapi::v2::Command::EnvironmentVariable* found = nullptr;
  for (const auto& var : command.environment_variables()) {
    if (var.name() == k_stage_root_variable) {
      found = &var;
    }
  }
  if (found == nullptr) {
    return std::string();
  }
  const std::string& v = found->value();
  if (!acceptable(v, store_dir)) {
    return util::invalid_argument(std::string(k_stage_root_variable)
                                  + " must be an absolute, normalized path outside the system "
                                    "directories and outside this server's store; '"
                                  + printable(v) + "' is not");
  }
  return v;
}

util::Status check_stage_root_target(const std::string& stage_root, const std::string& store_dir) {
  const auto refused = [&] {
    return util::Error(util::ErrorCode::failed_precondition,
                       "cannot stage the input root at " + printable(stage_root)
                           + " on this worker");
  };
  std::error_code ec;
  const auto real = std::filesystem::canonical(stage_root, ec);
  if (ec || !std::filesystem::is_directory(real, ec) || ec) {
    return refused();
  }
  if (!acceptable(real.string(), store_dir)) {
    return refused();
  }
  return {};
}

bool stage_root_supported() {
  static const bool k_supported = [] {
    if (::access(k_unshare, X_OK) != 0) {
      return false;
    }
    util::SubprocessOptions o;
    o.argv = unshare_prefix();
    o.argv.emplace_back("/bin/true");
    auto r = util::run_subprocess(o);
    return r && r->exit_code == 0;
  }();
  return k_supported;
}

std::vector<std::string> stage_root_argv(const std::vector<std::string>& argv,
                                         const std::string& staged,
                                         const std::string& stage_root,
                                         const std::string& working_directory) {
  std::vector<std::string> out = unshare_prefix();
  out.insert(out.end(),
             {k_shell,
              "-c",
              k_script,
              "ccrex-stage",
              staged,
              stage_root,
              util::join_path(stage_root, working_directory)});
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

} // namespace ccrex::server
