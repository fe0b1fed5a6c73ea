// ccrex-action-init STATUS_FILE PROGRAM [ARG...]: run PROGRAM as the child of the first
// process of a new PID namespace (in a user namespace mapping only the caller's own uid and
// gid when the caller is not root), and exit with its status once every process of the
// namespace is gone. A death by signal N exits with 128 + N and writes N into STATUS_FILE.
//
// The server starts one per action (server/process_tree.h). It does what `unshare --pid
// --fork --kill-child` plus a Perl init process did, in one small static program: starting
// those two programs was most of what containing an action added to a miss
// (test/bench/staging_bench.sh). So it links nothing of ccrex and uses only system calls.

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace {

// Exit code for a failure of this program itself (as unshare and the Perl init used).
constexpr int k_failed = 125;

bool write_text(const char* path, const char* text, int flags) {
  const int fd = ::open(path, flags | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) {
    return false;
  }
  const auto n = static_cast<ssize_t>(std::strlen(text));
  const bool ok = ::write(fd, text, static_cast<size_t>(n)) == n;
  ::close(fd);
  return ok;
}

// Enter the new namespaces; the next child forked is the PID namespace's first process.
bool enter_namespaces() {
  const uid_t uid = ::geteuid();
  const gid_t gid = ::getegid();
  if (uid == 0) {
    return ::unshare(CLONE_NEWPID) == 0;
  }
  if (::unshare(CLONE_NEWUSER | CLONE_NEWPID) != 0) {
    return false;
  }
  char map[64];
  std::snprintf(map, sizeof map, "%u %u 1\n", uid, uid);
  if (!write_text("/proc/self/uid_map", map, 0)) {
    return false;
  }
  (void)write_text("/proc/self/setgroups", "deny", 0); // needed before gid_map
  std::snprintf(map, sizeof map, "%u %u 1\n", gid, gid);
  return write_text("/proc/self/gid_map", map, 0);
}

// The namespace's first process: run the command as its child (the kernel shields a first
// process from signals it has no handler for, so the command must not be it), reap
// whatever else ends up here, and exit with the command's status. Every other process of
// the namespace is killed when this one exits.
[[noreturn]] void first_process(const char* status_file, char** argv) {
  const pid_t command = ::fork();
  if (command < 0) {
    ::_exit(k_failed);
  }
  if (command == 0) {
    ::execvp(argv[0], argv);
    std::fprintf(stderr, "cannot run %s: %s\n", argv[0], std::strerror(errno));
    ::_exit(127);
  }
  int status = 0;
  for (;;) {
    int st = 0;
    const pid_t p = ::wait(&st);
    if (p == command) {
      status = st;
      break;
    }
    if (p < 0 && errno != EINTR) {
      ::_exit(k_failed);
    }
  }
  if (WIFSIGNALED(status)) {
    char text[16];
    std::snprintf(text, sizeof text, "%d", WTERMSIG(status));
    (void)write_text(status_file, text, O_CREAT | O_TRUNC);
    ::_exit(128 + WTERMSIG(status));
  }
  ::_exit(WEXITSTATUS(status));
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: ccrex-action-init STATUS_FILE PROGRAM [ARG...]\n");
    return k_failed;
  }
  if (!enter_namespaces()) {
    std::fprintf(stderr, "ccrex-action-init: cannot create namespaces: %s\n", std::strerror(errno));
    return k_failed;
  }
  // A pipe only this program writes to: its end closing tells the first process that this
  // program died before the death signal below was armed.
  int alive[2];
  if (::pipe2(alive, O_CLOEXEC) != 0) {
    return k_failed;
  }
  const pid_t first = ::fork();
  if (first < 0) {
    return k_failed;
  }
  if (first == 0) {
    // When this program is killed (the action's timeout), the namespace goes with it.
    ::close(alive[1]);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    pollfd p{alive[0], POLLIN, 0};
    if (::poll(&p, 1, 0) != 0) { // hung up (or readable, which never happens): parent gone
      ::_exit(k_failed);
    }
    ::close(alive[0]);
    first_process(argv[1], argv + 2);
  }
  ::close(alive[0]);
  int status = 0;
  while (::waitpid(first, &status, 0) < 0) {
    if (errno != EINTR) {
      return k_failed;
    }
  }
  // The first process exits only after every other process of the namespace is gone.
  if (WIFSIGNALED(status)) {
    return 128 + WTERMSIG(status);
  }
  return WEXITSTATUS(status);
}
