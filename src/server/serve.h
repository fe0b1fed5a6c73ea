#pragma once

// Running a LocalServer in the foreground, as the `ccrex-server` binary does: start it, print
// "ccrex-server: listening on ADDR" on stdout for every bound address (test harnesses and
// scripts wait for that line), and serve until SIGINT or SIGTERM.

#include "server/config.h"
#include "server/local_server.h"

namespace ccrex::server {

// Serve `config` until a stop signal; return the process exit code (1 when the server
// cannot start, with the reason on stderr). Blocks SIGINT/SIGTERM in the calling thread and
// ignores SIGPIPE, so call it from main() before other threads exist.
int serve_until_signalled(const Config& config, const ServiceOverrides& overrides = {});

} // namespace ccrex::server
