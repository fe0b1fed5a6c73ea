#include "util/launch.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

namespace ccrex::util {
namespace {

// The child runs on its own small stack while it shares the caller's memory; it needs
// only a few frames of raw system calls.
constexpr size_t k_child_stack = size_t{64} << 10;

// Which step failed in the child, for the error message.
enum class Step : int {
  none,
  files,
  cwd,
  process_group,
  limits,
  groups,
  gid,
  uid,
  signals,
  parent,
  exec
};

const char* step_name(Step step) {
  switch (step) {
  case Step::files:
    return "set up the descriptors of";
  case Step::cwd:
    return "enter the working directory of";
  case Step::process_group:
    return "create the process group of";
  case Step::limits:
    return "set the resource limits of";
  case Step::groups:
  case Step::gid:
  case Step::uid:
    return "switch user for";
  case Step::signals:
    return "reset the signals of";
  case Step::parent:
    return "outlive the caller of";
  case Step::exec:
  case Step::none:
    break;
  }
  return "cannot run";
}

// Shared between the child and the caller, which waits (CLONE_VFORK) until the child has
// exec'd or exited, so the child writes it before the caller reads it.
struct Shared {
  const LaunchPlan* plan = nullptr;
  pid_t parent = 0; // the caller's pid, for die_with_parent
  Step failed = Step::none;
  int error = 0;
};

// The kernel's struct sigaction for rt_sigaction: handler, flags, restorer, mask.
struct KernelSigaction {
  unsigned long handler;
  unsigned long flags;
  unsigned long restorer;
  unsigned long mask;
};

#define CCREX_CHILD_CODE __attribute__((no_sanitize("address", "undefined")))

// Record the failure and end the child. Reads errno right after the failed call.
[[noreturn]] CCREX_CHILD_CODE void child_fail(Shared& shared, Step step) {
  shared.error = errno;
  shared.failed = step;
  ::syscall(SYS_exit_group, 127);
  __builtin_unreachable();
}

CCREX_CHILD_CODE bool child_files(const LaunchPlan& plan) {
  for (const FileAction& a : plan.files) {
    if (!a.path.empty()) {
      const long fd = ::syscall(SYS_openat, AT_FDCWD, a.path.c_str(), a.flags, a.mode);
      if (fd < 0) {
        return false;
      }
      if (fd != a.fd) {
        if (::syscall(SYS_dup3, fd, a.fd, 0) < 0) {
          return false;
        }
        ::syscall(SYS_close, fd);
      }
    } else if (a.source == a.fd) {
      if (::syscall(SYS_fcntl, a.fd, F_SETFD, 0) < 0) {
        return false;
      }
    } else if (::syscall(SYS_dup3, a.source, a.fd, 0) < 0) {
      return false;
    }
  }
  return true;
}

CCREX_CHILD_CODE int child_main(void* arg) {
  auto& shared = *static_cast<Shared*>(arg);
  const LaunchPlan& plan = *shared.plan;
  if (!child_files(plan)) {
    child_fail(shared, Step::files);
  }
  if (plan.close_from >= 0
      && ::syscall(SYS_close_range, static_cast<unsigned>(plan.close_from), ~0U, 0U) != 0) {
    child_fail(shared, Step::files);
  }
  if (!plan.cwd.empty() && ::syscall(SYS_chdir, plan.cwd.c_str()) != 0) {
    child_fail(shared, Step::cwd);
  }
  if (plan.new_process_group && ::syscall(SYS_setpgid, 0, 0) != 0) {
    child_fail(shared, Step::process_group);
  }
  for (const ResourceLimit& l : plan.identity.limits) {
    const rlimit lim{static_cast<rlim_t>(l.soft), static_cast<rlim_t>(l.hard)};
    if (::syscall(SYS_prlimit64, 0, l.resource, &lim, nullptr) != 0) {
      child_fail(shared, Step::limits);
    }
  }
  if (plan.identity.user) {
    // Raw calls: the C library's wrappers would apply the change to every thread of the
    // caller, whose memory this child shares.
    const LaunchUser& u = *plan.identity.user;
    if (::syscall(SYS_setgroups, 0, nullptr) != 0) {
      child_fail(shared, Step::groups);
    }
    if (::syscall(SYS_setresgid, u.gid, u.gid, u.gid) != 0) {
      child_fail(shared, Step::gid);
    }
    if (::syscall(SYS_setresuid, u.uid, u.uid, u.uid) != 0) {
      child_fail(shared, Step::uid);
    }
  }
  // Every handler back to the default (the caller blocked all signals around the clone,
  // so none of its handlers ran here), then nothing blocked.
  KernelSigaction dfl{};
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) {
      ::syscall(SYS_rt_sigaction, sig, &dfl, nullptr, sizeof(unsigned long));
    }
  }
  const unsigned long none = 0;
  if (::syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, nullptr, sizeof none) != 0) {
    child_fail(shared, Step::signals);
  }
  // Last, after the user switch (a change of user clears the death signal); then the
  // parent must still be the caller: had it died before the signal was armed, the signal
  // would be bound to the reaper that inherited this child and never come.
  if (plan.die_with_parent) {
    if (::syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) {
      child_fail(shared, Step::parent);
    }
    if (::syscall(SYS_getppid) != shared.parent) {
      errno = ESRCH;
      child_fail(shared, Step::parent);
    }
  }
  ::syscall(SYS_execve, plan.program, plan.argv, plan.envp);
  child_fail(shared, Step::exec);
}

#undef CCREX_CHILD_CODE

} // namespace

Result<pid_t> spawn_launched(const LaunchPlan& plan) {
  if (plan.identity.user && (plan.identity.user->uid == 0 || plan.identity.user->gid == 0)) {
    return invalid_argument("refusing to launch a child as root");
  }
  void* stack = ::mmap(nullptr,
                       k_child_stack,
                       PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
                       -1,
                       0);
  if (stack == MAP_FAILED) {
    return errno_error("allocate a stack to start " + std::string(plan.program), errno);
  }
  Shared shared;
  shared.plan = &plan;
  shared.parent = ::getpid();
  sigset_t all;
  sigset_t old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &old);
  const pid_t pid = ::clone(child_main,
                            static_cast<char*>(stack) + k_child_stack,
                            CLONE_VM | CLONE_VFORK | SIGCHLD,
                            &shared);
  const int clone_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ::munmap(stack, k_child_stack);
  if (pid < 0) {
    return errno_error("cannot start " + std::string(plan.program), clone_errno);
  }
  if (shared.failed != Step::none) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return errno_error(std::string(step_name(shared.failed)) + " " + plan.program, shared.error);
  }
  return pid;
}

} // namespace ccrex::util
