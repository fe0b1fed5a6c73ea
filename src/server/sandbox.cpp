#include "server/sandbox.h"

#include "server/process_tree.h"
#include "server/stage_root.h"
#include "util/file.h"
#include "util/logging.h"
#include "util/strings.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <filesystem>
#include <string_view>

namespace ccrex::server {
namespace {

constexpr const char* k_perl = "/usr/bin/perl";
// Descriptors handed to the child start here in the server, so duplicating them onto 3, 4,
// ... in the child never overwrites one still to be duplicated.
constexpr int k_first_high_fd = 64;

// Host directories shown read-only in the host root (those that exist; a symlink such as
// merged /usr's /bin -> usr/bin is recreated as that symlink).
constexpr std::array<const char*, 9> k_system_dirs = {
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt"};

// In the host root a small init runs the command as its child and, when the command dies
// of a signal, writes the signal's number to the status file's descriptor, which the
// command never sees (bwrap itself would report only 128 + N): ccrex-action-init
// --status-fd as the PID namespace's first process (bwrap --as-pid-1), or without it this
// small Perl program below bwrap's own first process (Perl is essential on Debian).
constexpr const char* k_perl_init =
    "open(my $st, '>&=', 4) or die; my $p = fork; exit 125 unless defined $p;"
    "if ($p == 0) { close $st; exec { $ARGV[0] } @ARGV;"
    " print STDERR \"cannot run $ARGV[0]: $!\\n\"; exit 127 }"
    "waitpid($p, 0); my $s = $?;"
    "if ($s & 127) { print $st ($s & 127); close $st; exit 128 + ($s & 127) }"
    "exit($s >> 8);";

bool is_within(std::string_view path, std::string_view dir) {
  if (dir == "/") {
    return true;
  }
  return path.starts_with(dir) && (path.size() == dir.size() || path[dir.size()] == '/');
}

std::string absolute_store(const std::string& store_dir) {
  if (store_dir.empty()) {
    return {};
  }
  std::error_code ec;
  const auto real = std::filesystem::weakly_canonical(std::filesystem::absolute(store_dir), ec);
  return ec ? util::normalize_path(store_dir) : real.string();
}

// Move `fd` to a descriptor number >= k_first_high_fd (close-on-exec), closing the original.
util::Result<int> high_fd(int fd, const std::string& what) {
  if (fd < 0) {
    return util::errno_error("open " + what, errno);
  }
  const int high = ::fcntl(fd, F_DUPFD_CLOEXEC, k_first_high_fd);
  const int saved = errno;
  ::close(fd);
  if (high < 0) {
    return util::errno_error("duplicate descriptor of " + what, saved);
  }
  return high;
}

// Namespaces, mounts and limits, built by one of two programs that take the same mount
// options (bubblewrap's): ccrex-action-init --sandbox (bin/action_sandbox.h) or bwrap.
class NamespaceSandbox final : public Sandbox {
public:
  NamespaceSandbox(SandboxSettings settings, std::string store_dir, SandboxBackend backend)
      : m_settings(std::move(settings)),
        m_store(absolute_store(store_dir)),
        m_root_user(::geteuid() == 0),
        m_backend(backend) {}

  bool confines() const override { return true; }
  bool supports(RootMode /*root*/) const override { return true; }
  bool mounts_read_only() const override { return true; }
  std::string describe() const override {
    const std::string by = m_backend == SandboxBackend::native
                               ? "own namespaces (" + action_init_program() + " --sandbox)"
                               : "bubblewrap (" + m_settings.bwrap + ")";
    return by + ", actions run as uid " + std::to_string(m_settings.uid);
  }

  std::optional<util::LaunchUser> command_user() const override {
    if (!m_root_user) {
      return std::nullopt;
    }
    return util::LaunchUser{m_settings.uid, m_settings.gid};
  }

  // The limits and, for a root server, the sandbox user, which the server's own child takes
  // on before it execs bwrap (util/launch.h), so no helper program starts in between.
  util::LaunchIdentity identity(const SandboxRequest& request) const {
    util::LaunchIdentity out;
    if (m_root_user) {
      out.user = util::LaunchUser{m_settings.uid, m_settings.gid};
    }
    if (request.timeout.count() > 0) {
      const auto sec = static_cast<uint64_t>((request.timeout.count() + 999) / 1000);
      out.limits.push_back({RLIMIT_CPU, sec, sec + 1});
    }
    for (const auto& [resource, value] : {std::pair{RLIMIT_AS, m_settings.max_address_space},
                                          std::pair{RLIMIT_NPROC, m_settings.max_processes},
                                          std::pair{RLIMIT_FSIZE, m_settings.max_file_size}}) {
      if (value > 0) {
        const auto v = static_cast<uint64_t>(value);
        out.limits.push_back({resource, v, v});
      }
    }
    return out;
  }

  std::vector<std::string> namespaces(const SandboxRequest& request) const {
    if (m_backend == SandboxBackend::native) {
      // Every namespace, the death signal, the session and the dropped capabilities are
      // what --sandbox always does.
      std::vector<std::string> out{action_init_program(),
                                   "--sandbox",
                                   "--uid",
                                   std::to_string(m_settings.uid),
                                   "--gid",
                                   std::to_string(m_settings.gid),
                                   "--hostname",
                                   "ccrex"};
      if (!request.network) {
        out.emplace_back("--unshare-net");
      }
      return out;
    }
    std::vector<std::string> out{m_settings.bwrap,
                                 "--unshare-user",
                                 "--uid",
                                 std::to_string(m_settings.uid),
                                 "--gid",
                                 std::to_string(m_settings.gid),
                                 "--unshare-ipc",
                                 "--unshare-pid",
                                 "--unshare-uts",
                                 "--hostname",
                                 "ccrex",
                                 "--unshare-cgroup-try",
                                 "--disable-userns",
                                 "--die-with-parent",
                                 "--new-session",
                                 "--cap-drop",
                                 "ALL"};
    if (!request.network) {
      out.emplace_back("--unshare-net");
    }
    return out;
  }

  void add_system(std::vector<std::string>& out, const SandboxRequest& request) const {
    out.insert(out.end(), {"--dev", "/dev", "--proc", "/proc"});
    // An input root that brings its own /tmp (a project built below /tmp, sent with its
    // toolchain) keeps it: it is already the action's private copy.
    struct stat st {};
    if (request.root == RootMode::input
        && ::lstat(util::join_path(request.root_dir, "tmp").c_str(), &st) == 0
        && S_ISDIR(st.st_mode)) {
      return;
    }
    if (m_settings.tmp_size > 0) {
      out.insert(out.end(), {"--size", std::to_string(m_settings.tmp_size)});
    }
    out.insert(out.end(), {"--tmpfs", "/tmp"});
  }

  void add_host_dirs(std::vector<std::string>& out) const {
    std::vector<std::string> dirs(k_system_dirs.begin(), k_system_dirs.end());
    dirs.insert(dirs.end(), m_settings.host_paths.begin(), m_settings.host_paths.end());
    bool store_shown = false;
    for (const auto& dir : dirs) {
      struct stat st {};
      if (::lstat(dir.c_str(), &st) != 0) {
        continue;
      }
      if (S_ISLNK(st.st_mode)) {
        std::error_code ec;
        const auto target = std::filesystem::read_symlink(dir, ec);
        if (!ec) {
          out.insert(out.end(), {"--symlink", target.string(), dir});
        }
        continue;
      }
      out.insert(out.end(), {"--ro-bind", dir, dir});
      store_shown = store_shown || (!m_store.empty() && is_within(m_store, dir));
    }
    if (store_shown) {
      out.insert(out.end(), {"--tmpfs", m_store});
    }
  }

  // Mount each read-only subtree at its place below `at` (where the root appears), through
  // a descriptor: the sandbox user need not reach the store's path.
  static util::Status add_read_only_mounts(SandboxedCommand& cmd,
                                           const SandboxRequest& request,
                                           const std::string& at) {
    for (const auto& mount : request.read_only_mounts) {
      CCREX_ASSIGN_OR_RETURN(
          const int fd,
          high_fd(::open(mount.source.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC),
                  mount.source));
      const std::string fd_text = std::to_string(cmd.pass(fd));
      cmd.options.argv.insert(cmd.options.argv.end(),
                              {"--ro-bind-fd", fd_text, util::join_path(at, mount.rel)});
    }
    return {};
  }

  util::Result<SandboxedCommand> wrap(const SandboxRequest& request) const override {
    SandboxedCommand cmd;
    cmd.options.env = request.env;
    cmd.options.cwd = "/";
    cmd.options.close_other_fds = true;
    cmd.options.die_with_parent = true;
    cmd.options.identity = identity(request);
    cmd.options.argv = namespaces(request);
    auto& argv = cmd.options.argv;
    CCREX_ASSIGN_OR_RETURN(
        const int root_fd,
        high_fd(::open(request.root_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC),
                request.root_dir));
    const std::string root_fd_text = std::to_string(cmd.pass(root_fd));
    std::string cwd;
    bool with_init = false;
    if (request.root == RootMode::input) {
      argv.insert(argv.end(), {"--bind-fd", root_fd_text, "/"});
      CCREX_TRY(add_read_only_mounts(cmd, request, "/"));
      add_system(argv, request);
      cwd = util::join_path("/", request.working_directory);
    } else {
      add_host_dirs(argv);
      add_system(argv, request);
      const std::string at = request.stage_root.empty() ? request.root_dir : request.stage_root;
      argv.insert(argv.end(), {"--bind-fd", root_fd_text, at});
      CCREX_TRY(add_read_only_mounts(cmd, request, at));
      cwd = util::join_path(at, request.working_directory);
      with_init = !action_init_program().empty() || ::access(k_perl, X_OK) == 0;
    }
    if (m_backend == SandboxBackend::native) {
      CCREX_ASSIGN_OR_RETURN(const int status_fd, open_status(request.status_file));
      cmd.status_file = request.status_file;
      argv.insert(argv.end(),
                  {"--chdir", cwd, "--status-fd", std::to_string(cmd.pass(status_fd)), "--"});
      argv.insert(argv.end(), request.argv.begin(), request.argv.end());
      return cmd;
    }
    // ccrex-action-init is the namespace's first process itself (it reaps what is left
    // there, as bwrap's own would): one process fewer per action.
    const bool own_init = with_init && !action_init_program().empty();
    if (own_init) {
      argv.emplace_back("--as-pid-1");
    }
    argv.insert(argv.end(), {"--chdir", cwd, "--"});
    if (with_init) {
      CCREX_ASSIGN_OR_RETURN(const int status_fd, open_status(request.status_file));
      const std::string status_fd_text = std::to_string(cmd.pass(status_fd));
      cmd.status_file = request.status_file;
      const std::string& init = action_init_program();
      if (own_init) {
        // Started through its descriptor, so the program need not be visible in the
        // sandbox; it closes that descriptor before the command starts.
        CCREX_ASSIGN_OR_RETURN(const int init_fd,
                               high_fd(::open(init.c_str(), O_RDONLY | O_CLOEXEC), init));
        const std::string init_fd_text = std::to_string(cmd.pass(init_fd));
        argv.insert(argv.end(),
                    {"/proc/self/fd/" + init_fd_text,
                     "--status-fd",
                     status_fd_text,
                     "--close-fd",
                     init_fd_text,
                     "--"});
      } else {
        argv.insert(argv.end(), {k_perl, "-e", k_perl_init, "--"}); // writes descriptor 4
      }
    }
    argv.insert(argv.end(), request.argv.begin(), request.argv.end());
    // bwrap runs as the child of the first process of a PID namespace of its own, which
    // dies with the server's child (process_tree.h): every process bwrap starts is in that
    // namespace, so whatever state bwrap is in when the server dies (its first process
    // killed before it let its namespace side go on leaves that side waiting for good),
    // the kernel ends it all. Without ccrex-action-init beside the server (a server built
    // into a test program, say) bwrap runs as before, relying on its own death signals.
    if (!action_init_program().empty()) {
      argv = contained_argv(argv, "/dev/null");
    }
    return cmd;
  }

private:
  static util::Result<int> open_status(const std::string& path) {
    return high_fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600),
                   path);
  }

  SandboxSettings m_settings;
  std::string m_store;
  bool m_root_user;
  SandboxBackend m_backend;
};

// Today's behaviour without bubblewrap: the server's user and file system, a PID namespace.
class UnconfinedSandbox final : public Sandbox {
public:
  explicit UnconfinedSandbox(std::string reason) : m_reason(std::move(reason)) {}

  bool confines() const override { return false; }
  bool supports(RootMode root) const override { return root == RootMode::host; }
  bool mounts_read_only() const override { return false; }
  std::string describe() const override { return m_reason; }
  std::optional<util::LaunchUser> command_user() const override { return std::nullopt; }

  util::Result<SandboxedCommand> wrap(const SandboxRequest& request) const override {
    if (request.root != RootMode::host) {
      return util::Error(util::ErrorCode::failed_precondition,
                         std::string("this server cannot run actions with the input root as / (")
                             + k_root_property + "=input): " + m_reason);
    }
    if (!request.read_only_mounts.empty()) {
      return util::Error(util::ErrorCode::failed_precondition,
                         "this server cannot mount input subtrees: " + m_reason);
    }
    SandboxedCommand cmd;
    cmd.options.env = request.env;
    cmd.options.cwd = util::join_path(request.root_dir, request.working_directory);
    cmd.options.close_other_fds = true;
    cmd.options.die_with_parent = true;
    std::vector<std::string> argv = request.argv;
    if (!request.stage_root.empty()) {
      argv = stage_root_argv(argv, request.root_dir, request.stage_root, request.working_directory);
    }
    cmd.options.argv = contained_argv(argv, request.status_file);
    cmd.status_file = request.status_file;
    return cmd;
  }

private:
  std::string m_reason;
};

// Return "" when a trivial command runs in `sandbox`, else why not.
std::string probe(const Sandbox& sandbox, const std::string& work_root) {
  if (auto st = util::make_dirs(work_root, 0777); !st) {
    return st.error().message();
  }
  std::string dir = util::join_path(work_root, "probe-XXXXXX");
  if (::mkdtemp(dir.data()) == nullptr) {
    return "cannot create a probe directory in " + work_root;
  }
  std::string why;
  if (const auto user = sandbox.command_user();
      user && ::chown(dir.c_str(), user->uid, user->gid) != 0) {
    why = util::errno_error("hand " + dir + " to the sandbox user", errno).message();
  } else {
    SandboxRequest req;
    req.argv = {"/bin/true"};
    req.root_dir = dir;
    req.status_file = dir + ".status";
    req.timeout = std::chrono::seconds(10);
    auto cmd = sandbox.wrap(req);
    if (!cmd) {
      why = cmd.error().message();
    } else {
      cmd->options.capture_output = true;
      cmd->options.timeout = std::chrono::seconds(10);
      auto r = util::run_subprocess(cmd->options);
      if (!r) {
        why = r.error().message();
      } else if (r->exit_code != 0) {
        why = std::string(util::trim(r->stderr_data));
        if (why.find("Permission denied") != std::string::npos) {
          why += "; the directories above " + work_root
                 + " must be searchable (o+x) by the sandbox user";
        }
      }
    }
  }
  ::rmdir(dir.c_str());
  ::unlink((dir + ".status").c_str());
  return why;
}

} // namespace

std::optional<RootMode> parse_root_mode(std::string_view text) {
  if (text == "host") {
    return RootMode::host;
  }
  if (text == "input") {
    return RootMode::input;
  }
  return std::nullopt;
}

std::optional<SandboxBackend> parse_sandbox_backend(std::string_view text) {
  if (text == "auto") {
    return SandboxBackend::automatic;
  }
  if (text == "native") {
    return SandboxBackend::native;
  }
  if (text == "bwrap") {
    return SandboxBackend::bwrap;
  }
  return std::nullopt;
}

const char* root_mode_name(RootMode mode) {
  return mode == RootMode::input ? "input" : "host";
}

SandboxedCommand::~SandboxedCommand() {
  for (const int fd : options.pass_fds) {
    ::close(fd);
  }
}

SandboxedCommand::SandboxedCommand(SandboxedCommand&& other) noexcept
    : options(std::move(other.options)),
      status_file(std::move(other.status_file)) {
  other.options.pass_fds.clear();
}

int SandboxedCommand::pass(int fd) {
  options.pass_fds.push_back(fd);
  return 2 + static_cast<int>(options.pass_fds.size());
}

int SandboxedCommand::signal() const {
  return status_file.empty() ? 0 : contained_signal(status_file);
}

std::unique_ptr<Sandbox> make_sandbox(const SandboxSettings& settings,
                                      const std::string& store_dir,
                                      const std::string& work_root) {
  if (!settings.enabled) {
    if (::geteuid() == 0) {
      CCREX_LOG_WARN("sandbox: turned off; actions run unconfined AS ROOT on this machine");
    } else {
      CCREX_LOG_INFO("sandbox: turned off; actions run as this server's user on its file system");
    }
    return std::make_unique<UnconfinedSandbox>("the sandbox is turned off on this server");
  }
  // The server's own program first (one program start fewer per action), bubblewrap
  // where that cannot build the sandbox (a kernel without mount_setattr, say).
  std::string why;
  if (settings.backend != SandboxBackend::bwrap) {
    auto sandbox = std::make_unique<NamespaceSandbox>(settings, store_dir, SandboxBackend::native);
    why = action_init_program().empty() ? "ccrex-action-init is not beside the server"
                                        : probe(*sandbox, work_root);
    if (why.empty()) {
      CCREX_LOG_INFO("sandbox: " << sandbox->describe());
      return sandbox;
    }
    why = "ccrex-action-init --sandbox: " + why;
  }
  if (settings.backend != SandboxBackend::native) {
    std::string bwrap_why;
    if (::access(settings.bwrap.c_str(), X_OK) != 0) {
      bwrap_why = settings.bwrap + " not found (install bubblewrap)";
    }
    auto sandbox = std::make_unique<NamespaceSandbox>(settings, store_dir, SandboxBackend::bwrap);
    if (bwrap_why.empty()) {
      bwrap_why = probe(*sandbox, work_root);
    }
    if (bwrap_why.empty()) {
      if (!why.empty()) {
        CCREX_LOG_INFO("sandbox: " << why << "; using bubblewrap");
      }
      CCREX_LOG_INFO("sandbox: " << sandbox->describe());
      return sandbox;
    }
    why = why.empty() ? bwrap_why : why + "; " + bwrap_why;
  }
  if (::geteuid() == 0) {
    CCREX_LOG_WARN("sandbox: unavailable (" << why << ")"); // the server does not start
  } else {
    CCREX_LOG_WARN("sandbox: unavailable (" << why
                                            << "); host-root actions run unconfined as this "
                                               "server's user, input-root actions are refused");
  }
  return std::make_unique<UnconfinedSandbox>("no sandbox: " + why);
}

} // namespace ccrex::server
