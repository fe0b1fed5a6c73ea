#include "server/stage_root.h"

#include "util/file.h"
#include "util/subprocess.h"

#include <unistd.h>

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

std::vector<std::string> unshare_prefix() {
  std::vector<std::string> argv{k_unshare, "--mount", "--propagation", "private"};
  if (::geteuid() != 0) {
    argv.emplace_back("--map-root-user");
  }
  return argv;
}

} // namespace

util::Result<std::string> requested_stage_root(const reapi::v2::Command& command) {
  // A repeated name counts with its last value, as in the command's environment.
  const reapi::v2::Command::EnvironmentVariable* found = nullptr;
  for (const auto& var : command.environment_variables()) {
    if (var.name() == k_stage_root_variable) {
      found = &var;
    }
  }
  if (found != nullptr) {
    const std::string& v = found->value();
    if (v.empty() || v.front() != '/' || v == "/" || util::normalize_path(v) != v) {
      return util::invalid_argument(std::string(k_stage_root_variable)
                                    + " must be a clean "
                                      "absolute path other than /, got '"
                                    + v + "'");
    }
    return v;
  }
  return std::string();
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
