#include "bin/action_reap.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace ccrex::action_init {

namespace {

// The child's stack: mapped, not touched, so only the pages it uses cost anything.
constexpr size_t k_stack_size = size_t{1} << 20;

} // namespace

pid_t start_process(int (*fn)(void*), void* arg, bool until_exec) {
  void* stack = ::mmap(nullptr,
                       k_stack_size,
                       PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE,
                       -1,
                       0);
  if (stack == MAP_FAILED) {
    return -1;
  }
  // The stack grows down on every architecture this builds for.
  char* top = static_cast<char*>(stack) + k_stack_size;
  const int flags = CLONE_VM | SIGCHLD | (until_exec ? CLONE_VFORK : 0);
  const pid_t pid = ::clone(fn, top, flags, arg);
  // Otherwise the stack stays mapped: this process exits soon after, and an unmap would
  // cost more than it frees.
  if (pid < 0) {
    ::munmap(stack, k_stack_size);
  }
  return pid;
}

void die_with_starter(int alive, int alive_write) {
  ::close(alive_write);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  pollfd p{alive, POLLIN, 0};
  if (::poll(&p, 1, 0) != 0) { // hung up (or readable, which never happens): starter gone
    ::_exit(125);
  }
  ::close(alive);
}

void reap_until_exit(pid_t command, SignalReport report) {
  int status = 0;
  for (;;) {
    int st = 0;
    const pid_t p = ::wait(&st);
    if (p == command) {
      status = st;
      break;
    }
    if (p < 0 && errno != EINTR) {
      std::fprintf(stderr, "ccrex-action-init: wait: %s\n", std::strerror(errno));
      ::_exit(125);
    }
  }
  if (WIFSIGNALED(status)) {
    char text[16];
    const int n = std::snprintf(text, sizeof text, "%d", WTERMSIG(status));
    if (report.fd >= 0) {
      (void)!::write(report.fd, text, static_cast<size_t>(n));
    }
    if (report.path != nullptr) {
      const int fd = ::open(report.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd >= 0) {
        (void)!::write(fd, text, static_cast<size_t>(n));
        ::close(fd);
      }
    }
    ::_exit(128 + WTERMSIG(status));
  }
  ::_exit(WEXITSTATUS(status));
}

} // namespace ccrex::action_init
