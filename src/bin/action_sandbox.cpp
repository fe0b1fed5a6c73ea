#include "bin/action_sandbox.h"

#include "bin/action_reap.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#ifndef AT_RECURSIVE
#  define AT_RECURSIVE 0x8000
#endif

namespace ccrex::action_init {
namespace {

constexpr int k_failed = 125;

// The new root is put together below a tmpfs mounted over /tmp in the action's mount
// namespace only, which then becomes the root while the host's stays reachable below
// /oldroot for the sources; the last pivot leaves only /newroot.
constexpr const char* k_base = "/tmp";
constexpr const char* k_new = "/newroot";
constexpr const char* k_old = "/oldroot";

enum class Op { ro_bind, ro_bind_fd, bind_fd, symlink, tmpfs, dev, proc };

struct Step {
  Op op = Op::tmpfs;
  const char* source = nullptr; // ro_bind: host path; symlink: target
  int fd = -1;                  // *_fd
  std::string fd_path;          // *_fd: the descriptor's path in the caller's mount namespace
  const char* dest = nullptr;   // inside the new root
  unsigned long long size = 0;  // tmpfs: bytes, 0 for the kernel's default
};

struct Plan {
  unsigned uid = 0;
  unsigned gid = 0;
  bool uid_set = false;
  bool gid_set = false;
  const char* hostname = nullptr;
  bool network = true;
  std::vector<Step> steps;
  const char* chdir = "/";
  int status_fd = -1;
  char** command = nullptr;
};

[[noreturn]] void die(const char* what, const std::string& path = {}) {
  const int saved = errno;
  std::fprintf(stderr,
               "ccrex-action-init: sandbox: %s%s%s: %s\n",
               what,
               path.empty() ? "" : " ",
               path.c_str(),
               std::strerror(saved));
  ::_exit(k_failed);
}

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr, "ccrex-action-init: --sandbox: %s\n", why);
  ::_exit(k_failed);
}

unsigned long long number(const char* text) {
  char* stop = nullptr;
  errno = 0;
  const unsigned long long n = std::strtoull(text, &stop, 10);
  if (stop == text || *stop != '\0' || errno != 0 || *text == '-') {
    usage("expected a number");
  }
  return n;
}

Plan parse(int argc, char** argv) {
  Plan plan;
  unsigned long long next_size = 0;
  int i = 0;
  const auto value = [&]() -> char* {
    if (i + 1 >= argc) {
      usage("an option lacks its value");
    }
    return argv[++i];
  };
  for (; i < argc && std::strcmp(argv[i], "--") != 0; ++i) {
    const char* opt = argv[i];
    Step step;
    if (std::strcmp(opt, "--uid") == 0) {
      plan.uid = static_cast<unsigned>(number(value()));
      plan.uid_set = true;
    } else if (std::strcmp(opt, "--gid") == 0) {
      plan.gid = static_cast<unsigned>(number(value()));
      plan.gid_set = true;
    } else if (std::strcmp(opt, "--hostname") == 0) {
      plan.hostname = value();
    } else if (std::strcmp(opt, "--unshare-net") == 0) {
      plan.network = false;
    } else if (std::strcmp(opt, "--chdir") == 0) {
      plan.chdir = value();
    } else if (std::strcmp(opt, "--status-fd") == 0) {
      plan.status_fd = static_cast<int>(number(value()));
    } else if (std::strcmp(opt, "--size") == 0) {
      next_size = number(value());
    } else if (std::strcmp(opt, "--ro-bind") == 0 || std::strcmp(opt, "--symlink") == 0) {
      step.op = opt[2] == 'r' ? Op::ro_bind : Op::symlink;
      step.source = value();
      step.dest = value();
      plan.steps.push_back(step);
    } else if (std::strcmp(opt, "--ro-bind-fd") == 0 || std::strcmp(opt, "--bind-fd") == 0) {
      step.op = opt[2] == 'r' ? Op::ro_bind_fd : Op::bind_fd;
      step.fd = static_cast<int>(number(value()));
      step.dest = value();
      plan.steps.push_back(step);
    } else if (std::strcmp(opt, "--tmpfs") == 0 || std::strcmp(opt, "--dev") == 0
               || std::strcmp(opt, "--proc") == 0) {
      step.op = opt[2] == 't' ? Op::tmpfs : opt[2] == 'd' ? Op::dev : Op::proc;
      step.dest = value();
      step.size = next_size;
      next_size = 0;
      plan.steps.push_back(step);
    } else {
      usage("unknown option");
    }
  }
  if (i + 1 >= argc) {
    usage("no command after --");
  }
  for (const Step& s : plan.steps) {
    if (s.dest[0] != '/') {
      usage("a destination is not an absolute path");
    }
  }
  plan.command = argv + i + 1;
  return plan;
}

bool write_text(const char* path, const char* text) {
  const int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    return false;
  }
  const auto n = static_cast<ssize_t>(std::strlen(text));
  const bool ok = ::write(fd, text, static_cast<size_t>(n)) == n;
  return ::close(fd) == 0 && ok;
}

std::string inside(const char* dest) {
  std::string out = k_new;
  if (std::strcmp(dest, "/") != 0) {
    out += dest;
  }
  return out;
}

// Create every missing directory of `path` (mode 0755).
void make_dirs(const std::string& path) {
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos == path.size() || path[pos] == '/') {
      const std::string part = path.substr(0, pos);
      if (::mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) {
        die("create directory", part);
      }
    }
  }
}

// An empty file or directory at `path` for a bind mount of that kind.
void make_mount_point(const std::string& path, bool directory) {
  if (directory) {
    make_dirs(path);
    return;
  }
  const size_t slash = path.rfind('/');
  make_dirs(path.substr(0, slash));
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0444);
  if (fd < 0 && errno != EEXIST) {
    die("create mount point", path);
  }
  if (fd >= 0) {
    ::close(fd);
  }
}

// Set mount attributes on `path` and every mount below it.
void set_attributes(const std::string& path, unsigned long long attrs) {
  mount_attr attr{};
  attr.attr_set = attrs;
  if (::syscall(SYS_mount_setattr, AT_FDCWD, path.c_str(), AT_RECURSIVE, &attr, sizeof attr) != 0) {
    die("set the mount attributes of", path);
  }
}

enum class Bind { read_only, writable, device };

void bind(const std::string& source, bool directory, const std::string& dest, Bind kind) {
  make_mount_point(dest, directory);
  if (::mount(source.c_str(), dest.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    die("bind", dest);
  }
  unsigned long long attrs = MOUNT_ATTR_NOSUID;
  if (kind != Bind::device) {
    attrs |= MOUNT_ATTR_NODEV;
  }
  if (kind == Bind::read_only) {
    attrs |= MOUNT_ATTR_RDONLY;
  }
  set_attributes(dest, attrs);
}

void tmpfs(const std::string& dest, unsigned long long size, const char* mode) {
  make_dirs(dest);
  std::string options = std::string("mode=") + mode;
  if (size > 0) {
    options += ",size=" + std::to_string(size);
  }
  if (::mount("tmpfs", dest.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) != 0) {
    die("mount a tmpfs on", dest);
  }
}

// A minimal /dev: the harmless character devices bound from the host, the usual links,
// a private pseudo-terminal instance and a directory for POSIX shared memory.
void dev(const std::string& dest) {
  tmpfs(dest, 0, "0755");
  for (const char* node : {"null", "zero", "full", "random", "urandom", "tty"}) {
    bind(std::string(k_old) + "/dev/" + node, false, dest + "/" + node, Bind::device);
  }
  const std::pair<const char*, const char*> links[] = {{"/proc/self/fd", "fd"},
                                                       {"/proc/self/fd/0", "stdin"},
                                                       {"/proc/self/fd/1", "stdout"},
                                                       {"/proc/self/fd/2", "stderr"},
                                                       {"pts/ptmx", "ptmx"}};
  for (const auto& [target, name] : links) {
    if (::symlink(target, (dest + "/" + name).c_str()) != 0) {
      die("create link", dest + "/" + name);
    }
  }
  if (::mkdir((dest + "/shm").c_str(), 01777) != 0 || ::mkdir((dest + "/pts").c_str(), 0755) != 0) {
    die("create directories in", dest);
  }
  // Pseudo-terminals are a convenience: a kernel refusing devpts here costs only them.
  (void)::mount("devpts",
                (dest + "/pts").c_str(),
                "devpts",
                MS_NOSUID | MS_NOEXEC,
                "newinstance,ptmxmode=0666,mode=620");
}

// A /proc of the action's PID namespace; the parts that reach the kernel or the host's
// hardware read-only.
void proc(const std::string& dest, bool& userns_locked) {
  make_dirs(dest);
  if (::mount("proc", dest.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) {
    die("mount /proc on", dest);
  }
  if (!userns_locked) {
    userns_locked = write_text((dest + "/sys/user/max_user_namespaces").c_str(), "0");
  }
  for (const char* part : {"sys", "sysrq-trigger", "irq", "bus"}) {
    const std::string path = dest + "/" + part;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      continue;
    }
    if (::mount(path.c_str(), path.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0) {
      die("bind", path);
    }
    set_attributes(path, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
  }
}

void loopback_up() {
  const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    die("open a socket for the loopback interface");
  }
  ifreq ifr{};
  std::strcpy(ifr.ifr_name, "lo");
  if (::ioctl(s, SIOCGIFFLAGS, &ifr) != 0) {
    die("read the loopback interface's flags");
  }
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  if (::ioctl(s, SIOCSIFFLAGS, &ifr) != 0) {
    die("bring the loopback interface up");
  }
  ::close(s);
}

void pivot(const char* new_root, const char* put_old) {
  if (::syscall(SYS_pivot_root, new_root, put_old) != 0) {
    die("change the root to", new_root);
  }
}

// Build the root (in the action's mount namespace) and make it the root.
void build_root(const Plan& plan) {
  if (::mount(nullptr, "/", nullptr, MS_SLAVE | MS_REC, nullptr) != 0) {
    die("make the mounts private");
  }
  // The limit belongs to the user namespace of whoever writes it, whichever /proc is used:
  // the host's may be read-only (a container); then the action's own /proc below.
  bool userns_locked = write_text("/proc/sys/user/max_user_namespaces", "0");
  if (plan.hostname != nullptr && ::sethostname(plan.hostname, std::strlen(plan.hostname)) != 0) {
    die("set the host name");
  }
  if (!plan.network) {
    loopback_up();
  }
  tmpfs(k_base, 0, "0755");
  const std::string base = k_base;
  if (::mkdir((base + k_new).c_str(), 0755) != 0 || ::mkdir((base + k_old).c_str(), 0755) != 0) {
    die("create directories in", base);
  }
  pivot(k_base, (base + k_old).c_str());
  if (::chdir("/") != 0) {
    die("enter the new root");
  }
  if (::mount(k_new, k_new, nullptr, MS_BIND | MS_REC, nullptr) != 0) {
    die("bind", k_new);
  }
  for (const Step& s : plan.steps) {
    const std::string dest = inside(s.dest);
    switch (s.op) {
    case Op::ro_bind: {
      const std::string source = std::string(k_old) + s.source;
      struct stat st {};
      if (::stat(source.c_str(), &st) != 0) {
        die("find", s.source);
      }
      bind(source, S_ISDIR(st.st_mode), dest, Bind::read_only);
      break;
    }
    case Op::ro_bind_fd:
    case Op::bind_fd: {
      // A descriptor's own mount is the caller's namespace's, which cannot be bound here:
      // bind its path, then check that the mount shows the descriptor's file.
      struct stat st {};
      struct stat mounted {};
      if (::fstat(s.fd, &st) != 0) {
        die("use descriptor", std::to_string(s.fd));
      }
      bind(std::string(k_old) + s.fd_path,
           S_ISDIR(st.st_mode),
           dest,
           s.op == Op::ro_bind_fd ? Bind::read_only : Bind::writable);
      if (::stat(dest.c_str(), &mounted) != 0 || mounted.st_dev != st.st_dev
          || mounted.st_ino != st.st_ino) {
        errno = ESTALE;
        die("bind (replaced while mounted)", s.fd_path);
      }
      break;
    }
    case Op::symlink: {
      make_dirs(dest.substr(0, dest.rfind('/')));
      if (::symlink(s.source, dest.c_str()) != 0) {
        die("create link", dest);
      }
      break;
    }
    case Op::tmpfs:
      tmpfs(dest, s.size, "0755");
      break;
    case Op::dev:
      dev(dest);
      break;
    case Op::proc:
      proc(dest, userns_locked);
      break;
    }
  }
  if (!userns_locked) {
    errno = EPERM;
    die("forbid new user namespaces");
  }
  // The new root over the old one, then the old one (and the tmpfs) detached.
  if (::chdir(k_new) != 0) {
    die("enter", k_new);
  }
  pivot(".", ".");
  if (::umount2(".", MNT_DETACH) != 0) {
    die("detach the host's file system");
  }
  if (::chdir("/") != 0 || ::chdir(plan.chdir) != 0) {
    die("enter the working directory", plan.chdir);
  }
}

// Every descriptor above 2 closed, but `keep`.
void close_descriptors(int keep) {
  if (keep > 3) {
    ::syscall(SYS_close_range, 3U, static_cast<unsigned>(keep - 1), 0U);
  }
  ::syscall(SYS_close_range, static_cast<unsigned>(keep < 3 ? 3 : keep + 1), ~0U, 0U);
}

// In the command's process, before exec: no capability can come back.
void drop_privileges() {
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    die("set no_new_privs");
  }
  for (int cap = 0; cap <= 63; ++cap) {
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno == EINVAL) {
      break; // past the kernel's last capability
    }
  }
  (void)::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capset, &header, data) != 0) {
    die("drop capabilities");
  }
}

// The command's process (start_process, until it execs): a session of its own, no
// capabilities, only the standard descriptors.
int command_process(void* arg) {
  const Plan& plan = *static_cast<const Plan*>(arg);
  ::close(plan.status_fd);
  ::setsid();
  drop_privileges();
  ::execvp(plan.command[0], plan.command);
  std::fprintf(stderr, "cannot run %s: %s\n", plan.command[0], std::strerror(errno));
  ::_exit(127);
}

// The PID namespace's first process: build the root, run the command as its child, reap
// every orphan, report a death by signal. Exits with the command's status.
[[noreturn]] void first_process(Plan& plan) {
  build_root(plan);
  close_descriptors(plan.status_fd);
  const pid_t command = start_process(command_process, &plan, true);
  if (command < 0) {
    die("start the command");
  }
  reap_until_exit(command, {.fd = plan.status_fd});
}

// What the first process needs from run_sandbox, which waits for it.
struct FirstProcess {
  Plan* plan = nullptr;
  int alive = -1;       // read end of the pipe
  int alive_write = -1; // this process's copy of the write end, closed here
};

int first_process_main(void* arg) {
  const auto& first = *static_cast<const FirstProcess*>(arg);
  die_with_starter(first.alive, first.alive_write);
  first_process(*first.plan);
}

} // namespace

void run_sandbox(int argc, char** argv) {
  Plan plan = parse(argc, argv);
  for (Step& s : plan.steps) {
    if (s.op == Op::ro_bind_fd || s.op == Op::bind_fd) {
      char path[PATH_MAX];
      const std::string link = "/proc/self/fd/" + std::to_string(s.fd);
      const ssize_t n = ::readlink(link.c_str(), path, sizeof path - 1);
      if (n <= 0 || path[0] != '/') {
        die("find the path of descriptor", std::to_string(s.fd));
      }
      s.fd_path.assign(path, static_cast<size_t>(n));
    }
  }
  if (plan.status_fd < 0 || ::fcntl(plan.status_fd, F_GETFD) < 0) {
    usage("--status-fd needs an open descriptor");
  }
  // This program dies with the server thread that started it, and the namespace with it.
  // The server's child armed that before the exec already and checked that the server was
  // still its parent (util/launch.h); armed again so as not to depend on it.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  const unsigned uid = ::geteuid();
  const unsigned gid = ::getegid();
  int flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS;
  if (!plan.network) {
    flags |= CLONE_NEWNET;
  }
  if (::unshare(flags) != 0) {
    die("create namespaces");
  }
  (void)::unshare(CLONE_NEWCGROUP); // where the kernel has them
  char map[64];
  std::snprintf(map, sizeof map, "%u %u 1\n", plan.uid_set ? plan.uid : uid, uid);
  if (!write_text("/proc/self/uid_map", map) || !write_text("/proc/self/setgroups", "deny")) {
    die("map the user");
  }
  std::snprintf(map, sizeof map, "%u %u 1\n", plan.gid_set ? plan.gid : gid, gid);
  if (!write_text("/proc/self/gid_map", map)) {
    die("map the group");
  }
  // A pipe only this program writes to: its end closing tells the first process that this
  // program died before the death signal below was armed.
  int alive[2];
  if (::pipe2(alive, O_CLOEXEC) != 0) {
    die("create a pipe");
  }
  // This process only waits from here on, so the first process may share its memory.
  FirstProcess args{&plan, alive[0], alive[1]};
  const pid_t first = start_process(first_process_main, &args, false);
  if (first < 0) {
    die("start the first process");
  }
  ::close(alive[0]);
  int status = 0;
  while (::waitpid(first, &status, 0) < 0) {
    if (errno != EINTR) {
      die("wait");
    }
  }
  ::_exit(WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status));
}

} // namespace ccrex::action_init
