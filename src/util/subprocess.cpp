#include "util/subprocess.h"

#include "util/file.h"
#include "util/launch.h"
#include "util/strings.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <climits>
#include <cstdlib>

extern char** environ; // NOLINT(readability-redundant-declaration)

namespace ccrex::util {
namespace {

struct Pipe {
  int read_end = -1;
  int write_end = -1;
};

Result<Pipe> make_pipe() {
  std::array<int, 2> fds{};
  if (::pipe2(fds.data(), O_CLOEXEC) != 0) {
    return errno_error("pipe", errno);
  }
  return Pipe{fds[0], fds[1]};
}

void close_fd(int& fd) {
  if (fd >= 0) {
    ::close(fd);
    fd = -1;
  }
}

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const auto& s : strings) {
    out.push_back(const_cast<char*>(s.c_str())); // NOLINT: the exec API is not const-correct
  }
  out.push_back(nullptr);
  return out;
}

std::string env_path(const std::optional<std::vector<std::string>>& env) {
  if (env) {
    for (const auto& kv : *env) {
      if (kv.rfind("PATH=", 0) == 0) {
        return kv.substr(5);
      }
    }
    return "/usr/local/bin:/usr/bin:/bin";
  }
  const char* p = std::getenv("PATH"); // NOLINT(concurrency-mt-unsafe)
  return p != nullptr ? p : "/usr/local/bin:/usr/bin:/bin";
}

// Set up redirections for the spawned child. Fds we open here are closed by the caller.
struct Redirects {
  posix_spawn_file_actions_t actions{};
  // The same steps for spawn_launched.
  std::vector<FileAction> files;
  Pipe out;
  Pipe err;
  Redirects() { posix_spawn_file_actions_init(&actions); }
  ~Redirects() {
    posix_spawn_file_actions_destroy(&actions);
    close_fd(out.read_end);
    close_fd(out.write_end);
    close_fd(err.read_end);
    close_fd(err.write_end);
  }
  Redirects(const Redirects&) = delete;
  Redirects& operator=(const Redirects&) = delete;
};

void add_open(Redirects& r, int target, const std::string& path, int flags, mode_t mode) {
  posix_spawn_file_actions_addopen(&r.actions, target, path.c_str(), flags, mode);
  r.files.push_back(FileAction{target, -1, path, flags, mode});
}

void add_dup(Redirects& r, int source, int target) {
  posix_spawn_file_actions_adddup2(&r.actions, source, target);
  r.files.push_back(FileAction{target, source, {}, 0, 0});
}

Status add_stream(Redirects& r, int target, const std::string& path, bool capture, Pipe& pipe) {
  if (!path.empty()) {
    add_open(r, target, path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  } else if (capture) {
    CCREX_ASSIGN_OR_RETURN(pipe, make_pipe());
    add_dup(r, pipe.write_end, target);
  }
  return {};
}

int wait_status_to_code(int status, int& signal_out) {
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  if (WIFSIGNALED(status)) {
    signal_out = WTERMSIG(status);
    return 128 + signal_out;
  }
  return 255;
}

// How often the cancel flag is checked while the child runs.
constexpr int k_cancel_poll_ms = 100;

// Read both pipes until EOF and wait for the child, enforcing the timeout.
void pump(pid_t pid, Redirects& r, const SubprocessOptions& opts, SubprocessResult& res) {
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  const auto deadline = std::chrono::steady_clock::now() + opts.timeout;
  bool exited = false;
  std::array<char, 1 << 16> buf{};
  while (r.out.read_end >= 0 || r.err.read_end >= 0 || (!exited && pidfd >= 0)) {
    std::array<pollfd, 3> pfds{{{r.out.read_end, POLLIN, 0},
                                {r.err.read_end, POLLIN, 0},
                                {exited ? -1 : pidfd, POLLIN, 0}}};
    int wait_ms = -1;
    if (opts.timeout.count() > 0 && !res.timed_out) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      wait_ms = static_cast<int>(std::max<int64_t>(0, std::min<int64_t>(left.count(), INT_MAX)));
    }
    if (opts.cancel != nullptr && !res.cancelled) {
      wait_ms = wait_ms < 0 ? k_cancel_poll_ms : std::min(wait_ms, k_cancel_poll_ms);
    }
    const int n = ::poll(pfds.data(), pfds.size(), wait_ms);
    if (n < 0 && errno != EINTR) {
      break;
    }
    if (!exited && opts.cancel != nullptr && !res.cancelled && opts.cancel->load()) {
      res.cancelled = true;
      ::kill(opts.new_process_group ? -pid : pid, SIGKILL);
      continue;
    }
    if (n == 0 && opts.timeout.count() > 0 && !res.timed_out
        && std::chrono::steady_clock::now() >= deadline) {
      res.timed_out = true;
      ::kill(opts.new_process_group ? -pid : pid, SIGKILL);
      continue;
    }
    for (size_t i = 0; i < 2; ++i) {
      int& fd = i == 0 ? r.out.read_end : r.err.read_end;
      if (fd < 0 || (pfds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) {
        continue;
      }
      const ssize_t got = ::read(fd, buf.data(), buf.size());
      if (got > 0) {
        (i == 0 ? res.stdout_data : res.stderr_data).append(buf.data(), static_cast<size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        close_fd(fd);
      }
    }
    if (pfds[2].fd >= 0 && (pfds[2].revents & POLLIN) != 0) {
      exited = true;
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (pidfd >= 0) {
    ::close(pidfd);
  }
  res.exit_code = wait_status_to_code(status, res.signal);
}

// Start the child through posix_spawn.
Result<pid_t> spawn(const std::string& program,
                    Redirects& r,
                    const SubprocessOptions& opts,
                    char* const* argv,
                    char* const* envp) {
  if (!opts.cwd.empty()) {
    posix_spawn_file_actions_addchdir_np(&r.actions, opts.cwd.c_str());
  }
  posix_spawnattr_t attr{};
  posix_spawnattr_init(&attr);
  short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
  if (opts.new_process_group) {
    flags |= POSIX_SPAWN_SETPGROUP;
    posix_spawnattr_setpgroup(&attr, 0);
  }
  sigset_t empty;
  sigset_t all;
  sigemptyset(&empty);
  sigfillset(&all);
  sigdelset(&all, SIGKILL);
  sigdelset(&all, SIGSTOP);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawnattr_setflags(&attr, flags);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, program.c_str(), &r.actions, &attr, argv, envp);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return errno_error("cannot run " + program, rc);
  }
  return pid;
}

} // namespace

std::optional<std::string>
find_in_path(const std::string& name, const std::string& path_list, const std::string& skip) {
  size_t pos = 0;
  while (pos <= path_list.size()) {
    size_t next = path_list.find(':', pos);
    if (next == std::string::npos) {
      next = path_list.size();
    }
    std::string dir = path_list.substr(pos, next - pos);
    pos = next + 1;
    if (dir.empty()) {
      dir = ".";
    }
    const std::string candidate = join_path(dir, name);
    struct stat st {};
    if (::stat(candidate.c_str(), &st) != 0 || !S_ISREG(st.st_mode)
        || ::access(candidate.c_str(), X_OK) != 0) {
      continue;
    }
    if (!skip.empty()) {
      std::array<char, PATH_MAX> real{};
      if (::realpath(candidate.c_str(), real.data()) != nullptr && skip == real.data()) {
        continue;
      }
    }
    return candidate;
  }
  return std::nullopt;
}

std::string absolute_path_list(const std::string& path_list, const std::string& cwd) {
  std::string out;
  for (const std::string_view entry : split(path_list, ':')) {
    std::string dir(entry);
    if (dir.empty() || dir.front() != '/') {
      dir = normalize_path(join_path(cwd, dir.empty() ? "." : dir));
    }
    out += (out.empty() ? "" : ":") + dir;
  }
  return out;
}

Result<SubprocessResult> run_subprocess(const SubprocessOptions& opts) {
  if (opts.argv.empty()) {
    return invalid_argument("empty command line");
  }
  std::string program = opts.argv[0];
  if (program.find('/') == std::string::npos) {
    auto found = find_in_path(program, env_path(opts.env));
    if (!found) {
      return not_found("command not found: " + program);
    }
    program = *found;
  }
  Redirects r;
  const std::string in = opts.stdin_path.empty() ? "/dev/null" : opts.stdin_path;
  add_open(r, STDIN_FILENO, in, O_RDONLY, 0);
  CCREX_TRY(add_stream(r, STDOUT_FILENO, opts.stdout_path, opts.capture_output, r.out));
  CCREX_TRY(add_stream(r, STDERR_FILENO, opts.stderr_path, opts.capture_output, r.err));
  for (size_t i = 0; i < opts.pass_fds.size(); ++i) {
    add_dup(r, opts.pass_fds[i], 3 + static_cast<int>(i));
  }
  const int close_from = 3 + static_cast<int>(opts.pass_fds.size());
  if (opts.close_other_fds) {
    posix_spawn_file_actions_addclosefrom_np(&r.actions, close_from);
  }
  const auto argv = c_strings(opts.argv);
  std::vector<char*> envp;
  if (opts.env) {
    envp = c_strings(*opts.env);
  }
  char* const* env = opts.env ? envp.data() : environ;
  pid_t pid = 0;
  if (!opts.identity.empty() || opts.die_with_parent) {
    LaunchPlan plan;
    plan.program = program.c_str();
    plan.argv = argv.data();
    plan.envp = env;
    plan.files = std::move(r.files);
    plan.cwd = opts.cwd;
    plan.new_process_group = opts.new_process_group;
    plan.identity = opts.identity;
    plan.close_from = opts.close_other_fds ? close_from : -1;
    plan.die_with_parent = opts.die_with_parent;
    CCREX_ASSIGN_OR_RETURN(pid, spawn_launched(plan));
  } else {
    CCREX_ASSIGN_OR_RETURN(pid, spawn(program, r, opts, argv.data(), env));
  }
  close_fd(r.out.write_end);
  close_fd(r.err.write_end);
  SubprocessResult res;
  pump(pid, r, opts, res);
  return res;
}

} // namespace ccrex::util
