// ccrex-test-slow-bwrap: a stand-in for bubblewrap that has its process structure, with
// respect to death signals, and none of its namespaces or mounts, and that can be made slow
// at the two places where bubblewrap leaves a process without a death signal. Test-only,
// never installed.
//
//   ccrex-test-slow-bwrap [BWRAP OPTION...] -- PROGRAM [ARG...]
//
// Every option before the first `--` is accepted and ignored, except `--die-with-parent`
// and `--new-session`, which act as bubblewrap's do: the starting process (the "outer" one)
// arms its death signal (SIGKILL when its parent goes) only after its own set-up, then
// starts a child, which leaves the session with `--new-session`, does its own set-up, arms
// its own death signal last, just before it execs PROGRAM, and checks neither time whether
// the parent it binds to is still the one that started it. The outer process closes every
// descriptor but 0-2 (as bubblewrap's does), waits for the child and exits with its status
// (128 + N for a death by signal N).
//
// Where the set-ups take time is said by two environment variables, in milliseconds:
// CCREX_SLOW_BWRAP_OUTER_MS (before the outer process arms its death signal) and
// CCREX_SLOW_BWRAP_CHILD_MS (before the child arms its own). A server passes the action's
// environment to bubblewrap, so a test sets them in the action's Command.

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>

namespace {

void sleep_ms_from(const char* variable) {
  const char* text = std::getenv(variable); // NOLINT(concurrency-mt-unsafe)
  if (text == nullptr) {
    return;
  }
  const long ms = std::strtol(text, nullptr, 10);
  if (ms <= 0) {
    return;
  }
  timespec left{ms / 1000, (ms % 1000) * 1000000};
  while (::nanosleep(&left, &left) != 0 && errno == EINTR) {
  }
}

} // namespace

int main(int argc, char** argv) {
  bool die_with_parent = false;
  bool new_session = false;
  int i = 1;
  for (; i < argc && std::strcmp(argv[i], "--") != 0; ++i) {
    die_with_parent = die_with_parent || std::strcmp(argv[i], "--die-with-parent") == 0;
    new_session = new_session || std::strcmp(argv[i], "--new-session") == 0;
  }
  if (i + 1 >= argc) {
    std::fprintf(stderr, "usage: ccrex-test-slow-bwrap [OPTION...] -- PROGRAM [ARG...]\n");
    return 1;
  }
  char** command = argv + i + 1;
  sleep_ms_from("CCREX_SLOW_BWRAP_OUTER_MS");
  if (die_with_parent) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  }
  const pid_t child = ::fork();
  if (child < 0) {
    std::perror("ccrex-test-slow-bwrap: fork");
    return 1;
  }
  if (child == 0) {
    if (new_session) {
      ::setsid();
    }
    sleep_ms_from("CCREX_SLOW_BWRAP_CHILD_MS");
    if (die_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    }
    ::execvp(command[0], command);
    std::fprintf(
        stderr, "ccrex-test-slow-bwrap: cannot run %s: %s\n", command[0], std::strerror(errno));
    ::_exit(127);
  }
  for (int fd = 3; fd < 1024; ++fd) {
    ::close(fd);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) {
      return 1;
    }
  }
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}
