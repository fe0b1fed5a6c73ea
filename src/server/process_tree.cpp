#include "server/process_tree.h"

#include "util/file.h"
#include "util/logging.h"
#include "util/strings.h"
#include "util/subprocess.h"

#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <climits>

namespace ccrex::server {
namespace {

constexpr const char* k_unshare = "/usr/bin/unshare";
constexpr const char* k_perl = "/usr/bin/perl";
constexpr const char* k_shell = "/bin/sh";
// The namespace's first process runs the command as its child and exits with its status.
// The command itself is not that first process: the kernel shields a namespace's first
// process from signals it has no handler for, so a command that kills itself would
// survive. Perl (essential on Debian) reports a death by signal in the status file, since
// the first process cannot die of that signal itself; without Perl, a shell does the same
// job and the signal shows only as exit code 128 + N.
constexpr const char* k_perl_init = "my $st = shift; my $p = fork; exit 125 unless defined $p;"
                                    "if ($p == 0) { exec { $ARGV[0] } @ARGV;"
                                    " print STDERR \"cannot run $ARGV[0]: $!\\n\"; exit 127 }"
                                    "waitpid($p, 0); my $s = $?;"
                                    "if ($s & 127) { if (open(my $f, '>', $st)) { print $f ($s & "
                                    "127); close $f } exit 128 + ($s & 127) }"
                                    "exit($s >> 8);";
constexpr const char* k_shell_init = "shift\n\"$@\"\nexit $?\n";

std::atomic<bool> g_probed{false};

std::vector<std::string> prefix() {
  std::vector<std::string> argv{k_unshare};
  if (::geteuid() != 0) {
    argv.insert(argv.end(), {"--user", "--map-current-user"});
  }
  argv.insert(argv.end(), {"--pid", "--fork", "--kill-child", "--"});
  return argv;
}

} // namespace

// ccrex-action-init beside this executable (src/bin), or empty. It does the job of unshare
// and the Perl init in one static program, which costs a miss far less than starting both.
const std::string& action_init_program() {
  static const std::string k_path = [] {
    std::array<char, PATH_MAX> buf{};
    const ssize_t n = ::readlink("/proc/self/exe", buf.data(), buf.size() - 1);
    if (n <= 0) {
      return std::string();
    }
    std::string path = util::dirname(std::string(buf.data(), static_cast<size_t>(n)));
    path += "/ccrex-action-init";
    util::SubprocessOptions o;
    o.argv = {path, "/dev/null", "/bin/true"};
    o.timeout = std::chrono::seconds(10);
    if (::access(path.c_str(), X_OK) != 0) {
      return std::string();
    }
    auto r = util::run_subprocess(o);
    return r && r->exit_code == 0 ? path : std::string();
  }();
  return k_path;
}

bool pid_namespace_supported() {
  static const bool k_supported = [] {
    // ccrex-action-init running /bin/true has made a PID namespace (in a user namespace
    // when not root) already: no need to ask unshare the same.
    bool ok = !action_init_program().empty();
    if (!ok && ::access(k_unshare, X_OK) == 0) {
      util::SubprocessOptions o;
      o.argv = prefix();
      o.argv.emplace_back("/bin/true");
      o.timeout = std::chrono::seconds(10);
      auto r = util::run_subprocess(o);
      ok = r && r->exit_code == 0;
    }
    if (!ok) {
      CCREX_LOG_WARN("execution: no PID namespaces on this machine; processes an action leaves "
                     "behind are killed only with its process group");
    }
    g_probed.store(true);
    return ok;
  }();
  return k_supported;
}

std::vector<std::string> contained_argv(const std::vector<std::string>& argv,
                                        const std::string& status_file) {
  if (!pid_namespace_supported()) {
    return argv;
  }
  if (!action_init_program().empty()) {
    std::vector<std::string> out{action_init_program(), status_file};
    out.insert(out.end(), argv.begin(), argv.end());
    return out;
  }
  std::vector<std::string> out = prefix();
  if (::access(k_perl, X_OK) == 0) {
    out.insert(out.end(), {k_perl, "-e", k_perl_init, "--", status_file});
  } else {
    out.insert(out.end(), {k_shell, "-c", k_shell_init, "ccrex-action", status_file});
  }
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

bool process_tree_probed() {
  return g_probed.load();
}

int contained_signal(const std::string& status_file) {
  auto text = util::read_file(status_file);
  if (!text) {
    return 0;
  }
  auto n = util::parse_int(*text);
  return n && *n > 0 && *n < 128 ? static_cast<int>(*n) : 0;
}

} // namespace ccrex::server
