// ccrex-action-init, the small static program the server starts for every action. Two
// modes:
//
//   ccrex-action-init STATUS_FILE PROGRAM [ARG...]
//     Run PROGRAM as the child of the first process of a new PID namespace (in a user
//     namespace mapping only the caller's own uid and gid when the caller is not root),
//     and exit with its status once every process of the namespace is gone. A death by
//     signal N exits with 128 + N and writes N into STATUS_FILE. (server/process_tree.h)
//
//   ccrex-action-init --status-fd FD [--close-fd N] -- PROGRAM [ARG...]
//     Run PROGRAM as a child, closing FD and N in it, reap every other process that ends
//     up as this one's child, and exit with PROGRAM's status; a death by signal N exits
//     with 128 + N and writes N to FD. The first process of the sandbox's PID namespace
//     (bwrap --as-pid-1), in place of bwrap's own and a Perl one-liner. (server/sandbox.h)
//
//   ccrex-action-init --sandbox OPTION... -- PROGRAM [ARG...]
//     Build the action's sandbox itself (namespaces, mounts, the new root) and be its PID
//     namespace's first process, as the two modes above do around bubblewrap, without
//     starting bubblewrap. (bin/action_sandbox.h, server/sandbox.h)
//
// Starting `unshare`, `setpriv`, `prlimit` and a Perl init per action was most of what
// containing an action added to a miss (test/bench/staging_bench.sh); one static program
// on system calls alone costs a fraction of that. So it links nothing of ccrex. (The
// limits and the sandbox user are set by the server's own child, util/launch.h.)

#include "bin/action_reap.h"
#include "bin/action_sandbox.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
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

// The command to run and the descriptor its process closes first (-1: none).
struct Command {
  char** argv = nullptr;
  int close_fd = -1;
};

// The command's process (start_process, until it execs).
int command_process(void* arg) {
  const auto& command = *static_cast<const Command*>(arg);
  if (command.close_fd >= 0) {
    ::close(command.close_fd);
  }
  ::execvp(command.argv[0], command.argv);
  std::fprintf(stderr, "cannot run %s: %s\n", command.argv[0], std::strerror(errno));
  ::_exit(127);
}

// The namespace's first process: run the command as its child (the kernel shields a first
// process from signals it has no handler for, so the command must not be it), reap
// whatever else ends up here, and exit with the command's status. Every other process of
// the namespace is killed when this one exits.
[[noreturn]] void first_process(const char* status_file, char** argv) {
  Command args{argv, -1};
  const pid_t command = ccrex::action_init::start_process(command_process, &args, true);
  if (command < 0) {
    ::_exit(k_failed);
  }
  ccrex::action_init::reap_until_exit(command, {.path = status_file});
}

// What the first process needs from main(), which waits for it.
struct FirstProcess {
  const char* status_file = nullptr;
  char** argv = nullptr;
  int alive = -1;       // read end of the pipe
  int alive_write = -1; // this process's copy of the write end, closed here
};

int first_process_main(void* arg) {
  const auto& first = *static_cast<const FirstProcess*>(arg);
  ccrex::action_init::die_with_starter(first.alive, first.alive_write);
  first_process(first.status_file, first.argv);
}

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "ccrex-action-init: %s: %s\n", what, std::strerror(errno));
  ::_exit(k_failed);
}

[[noreturn]] void usage() {
  std::fprintf(stderr,
               "usage: ccrex-action-init STATUS_FILE PROGRAM [ARG...]\n"
               "       ccrex-action-init --status-fd FD [--close-fd N] -- PROGRAM [ARG...]\n"
               "       ccrex-action-init --sandbox OPTION... -- PROGRAM [ARG...]\n");
  ::_exit(k_failed);
}

// The unsigned number at `text` up to `end` (a character or '\0'); exits on anything else.
unsigned long long number(const char* text, char end, const char** rest = nullptr) {
  char* stop = nullptr;
  errno = 0;
  const unsigned long long n = std::strtoull(text, &stop, 10);
  if (stop == text || errno != 0 || *stop != end || *text == '-') {
    usage();
  }
  if (rest != nullptr) {
    *rest = stop + 1;
  }
  return n;
}

// --status-fd: run the command as a child and report a death by signal on the descriptor.
[[noreturn]] void report(int argc, char** argv) {
  int i = 0;
  int status_fd = -1;
  int close_fd = -1;
  for (; i < argc && std::strcmp(argv[i], "--") != 0; ++i) {
    if (std::strcmp(argv[i], "--status-fd") == 0 && i + 1 < argc) {
      status_fd = static_cast<int>(number(argv[++i], '\0'));
    } else if (std::strcmp(argv[i], "--close-fd") == 0 && i + 1 < argc) {
      close_fd = static_cast<int>(number(argv[++i], '\0'));
    } else {
      usage();
    }
  }
  if (i + 1 >= argc || status_fd < 0) {
    usage();
  }
  if (close_fd >= 0) {
    ::close(close_fd);
  }
  Command args{argv + i + 1, status_fd};
  const pid_t child = ccrex::action_init::start_process(command_process, &args, true);
  if (child < 0) {
    fail("start the command");
  }
  ccrex::action_init::reap_until_exit(child, {.fd = status_fd});
}

} // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "--sandbox") == 0) {
    ccrex::action_init::run_sandbox(argc - 2, argv + 2);
  }
  if (argc >= 2 && std::strcmp(argv[1], "--status-fd") == 0) {
    report(argc - 1, argv + 1);
  }
  if (argc < 3) {
    usage();
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
  // This process only waits from here on, so the first process may share its memory.
  FirstProcess args{argv[1], argv + 2, alive[0], alive[1]};
  const pid_t first = ccrex::action_init::start_process(first_process_main, &args, false);
  if (first < 0) {
    return k_failed;
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
