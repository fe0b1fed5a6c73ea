#include "bin/action_reap.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace ccrex::action_init {

void reap_until_exit(pid_t command, int status_fd) {
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
    if (status_fd >= 0) {
      char text[16];
      const int n = std::snprintf(text, sizeof text, "%d", WTERMSIG(status));
      (void)!::write(status_fd, text, static_cast<size_t>(n));
    }
    ::_exit(128 + WTERMSIG(status));
  }
  ::_exit(WEXITSTATUS(status));
}

} // namespace ccrex::action_init
