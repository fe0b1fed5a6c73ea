// Run a command with its stderr on a new pseudo-terminal.
//
//     on_tty OUT -- COMMAND [ARGS...]
//
// Writes every byte the command wrote to the terminal into OUT and exits with the command's
// status (128 + N when signal N ended it). stdin is /dev/null and stdout stays where it was,
// so only stderr looks like a terminal to the command. The colours suite compiles this once
// per run (cc on_tty.c -o on_tty): it starts dozens of these, and a Python interpreter
// costs more CPU to start than the compile it watches.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int fail(const char* what) {
  fprintf(stderr, "on_tty: %s: %s\n", what, strerror(errno));
  return 125;
}

int main(int argc, char** argv) {
  if (argc < 4 || strcmp(argv[2], "--") != 0) {
    fprintf(stderr, "usage: on_tty OUT -- COMMAND [ARGS...]\n");
    return 2;
  }
  int master = -1;
  int slave = -1;
  if (openpty(&master, &slave, NULL, NULL, NULL) != 0) {
    return fail("openpty");
  }
  const pid_t pid = fork();
  if (pid < 0) {
    return fail("fork");
  }
  if (pid == 0) {
    const int null = open("/dev/null", O_RDONLY);
    if (null < 0 || dup2(null, 0) < 0 || dup2(slave, 2) < 0) {
      _exit(127);
    }
    // Nothing else of ours reaches the command (the terminal's master side included).
    closefrom(3);
    execvp(argv[3], argv + 3);
    _exit(127);
  }
  close(slave);
  FILE* out = fopen(argv[1], "wb");
  if (out == NULL) {
    return fail(argv[1]);
  }
  // Read until the command has exited and the terminal is drained. A process the command
  // left behind (an agent it started) may keep the terminal open, so an end of file cannot
  // be waited for: once the command is gone, what is ready is read and the rest ignored.
  int status = 0;
  int exited = 0;
  char buf[65536];
  for (;;) {
    struct pollfd p = {.fd = master, .events = POLLIN};
    const int ready = poll(&p, 1, exited ? 0 : 10);
    if (ready < 0 && errno != EINTR) {
      return fail("poll");
    }
    if (ready <= 0) {
      if (exited) {
        break;
      }
      exited = waitpid(pid, &status, WNOHANG) == pid;
      continue;
    }
    const ssize_t n = read(master, buf, sizeof buf);
    if (n <= 0) { // EIO: every holder of the terminal's other side has closed it
      break;
    }
    fwrite(buf, 1, (size_t)n, out);
  }
  if (!exited && waitpid(pid, &status, 0) != pid) {
    return fail("waitpid");
  }
  close(master);
  if (fclose(out) != 0) {
    return fail(argv[1]);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
