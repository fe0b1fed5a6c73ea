#pragma once

// The seam between the agent's socket server (which speaks the client protocol) and the
// compile pipeline (which decides how a compile runs). The socket server decodes requests,
// calls a Handler on one of its worker threads and sends the reply.
//
// Thread safety: one Handler instance serves every connection, so compile() and admin()
// are called concurrently from several threads and must be thread-safe.

#include "util/cancellation.h"

#include <sys/types.h>

#include <string>
#include <vector>

namespace ccrex::agent {

struct CompileRequest {
  // The compiler command line; argv[0] is the compiler the client resolved (absolute path
  // when found through PATH).
  std::vector<std::string> argv;
  // The client's working directory.
  std::string cwd;
  // The client's complete environment, "NAME=value".
  std::vector<std::string> env;
  // The client's umask (outputs the agent writes get the modes the compiler would give).
  mode_t umask = 022;
  // The client's stdout and stderr. The compiler's output goes here, in order, as if the
  // compiler had been run by the client. The handler does not own them: the socket server
  // closes both after the reply is sent, so the handler must not keep them (nor hand them
  // to anything that outlives compile()).
  int stdout_fd = -1;
  int stderr_fd = -1;
  // Remove colour / hyperlink sequences from what goes to stderr (the compile ran with them
  // forced on and the client's stderr would not show them: agent/diagnostics_color.h).
  bool strip_colors = false;
  bool strip_links = false;
  // Raised when the client goes away (Ctrl-C, SIGTERM, a killed build): the compile stops
  // (a local compile is killed, a remote execution cancelled) and writes nothing more.
  const util::Cancellation* cancel = nullptr;
};

struct CompileReply {
  // True: the client must run the compiler itself (nothing may have been written to the
  // client's descriptors then). False: the compile ran; the client exits with exit_code.
  bool run_locally = false;
  int exit_code = 0;
  // Why the compile runs locally (logs and statistics only).
  std::string reason;
};

struct AdminReply {
  // Printed by the client on its stdout and stderr; then it exits with exit_code.
  std::string out;
  std::string err;
  int exit_code = 0;
};

class Handler {
public:
  virtual ~Handler() = default;

  // Handle one compile. Must never throw; an internal failure is a run_locally reply.
  virtual CompileReply compile(const CompileRequest& request) = 0;

  // Answer an administrative command line (`-s`, `-z`, `-C`, `--show-config`,
  // `--explain ...`); `args` are the arguments after `ccrex`, `env` the client's
  // environment. `--stop-agent` is handled by the socket server and never arrives here.
  virtual AdminReply admin(const std::vector<std::string>& args,
                           const std::vector<std::string>& env) = 0;

  // Get ready for compiles under the configuration of `env` (the agent's own environment,
  // which is its first client's) before any arrives, so that the first compile of a fresh
  // agent does not wait for it. Called once, on a thread of its own, while requests are
  // already being served; a failure here is left for the first compile to meet.
  virtual void warm_up(const std::vector<std::string>& env) { (void)env; }
};

} // namespace ccrex::agent
