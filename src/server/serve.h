#pragma once

// Running a LocalServer in the foreground, as the `ccrex-server` binary does: start it, print
// "ccrex-server: listening on ADDR" on stdout for every bound address (test harnesses and
// scripts wait for that line), with config.status_listen the status port (status_http.h,
// its URL printed first as "ccrex-server: status page at URL"), and serve until SIGINT or
// SIGTERM. SIGHUP reloads what can change without a restart (LocalServer::reload).
//
// With a `log_file`, stderr (the log, and whatever gRPC or a crash prints) is appended to
// that file once the server listens, and SIGHUP opens the path again and swaps it in with
// dup2, so a log rotator can rename the file and signal; no line is lost or misdirected.

#include "server/config.h"
#include "server/local_server.h"

namespace ccrex::server {

// Serve `config` until a stop signal; return the process exit code (1 when the server
// cannot start, with the reason on stderr). Blocks SIGINT/SIGTERM/SIGHUP in the calling thread and
// ignores SIGPIPE, so call it from main() before other threads exist.
int serve_until_signalled(const Config& config,
                          const ServiceOverrides& overrides = {},
                          const std::string& log_file = "");

} // namespace ccrex::server
