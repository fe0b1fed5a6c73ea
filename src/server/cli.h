#pragma once

// Command line of `ccrex-server`, parsed into a server::Config plus the few options that
// only the binary needs. Kept out of main() so it can be unit-tested.

#include "server/config.h"
#include "util/result.h"

#include <string>
#include <vector>

namespace ccrex::server {

struct CliOptions {
  Config config;
  // Print usage / version and exit.
  bool help = false;
  bool version = false;
  // Verify every stored blob against its digest, report, and exit (non-zero on damage).
  bool check = false;
  // "error", "warn", "info" or "debug".
  std::string log_level = "info";
  // Append the log (stderr as a whole) to this file instead; SIGHUP reopens it (serve.h).
  std::string log_file;
};

// Parse `args` (without the program name). Errors name the offending option.
util::Result<CliOptions> parse_cli(const std::vector<std::string>& args);

// The text printed by --help.
std::string usage();

} // namespace ccrex::server
