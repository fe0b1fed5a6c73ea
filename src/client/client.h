#pragma once

// The thin client's whole behaviour, behind main(): classify the command line, hand a
// compile to the agent (starting it if needed) and exit with its result, or run the
// compiler itself whenever the agent can't or won't. A compile never fails because of
// ccrex: every problem on the agent path ends in exec'ing the real compiler with the same
// arguments and environment.
//
// Thread safety: not thread-safe; it owns the process (it may exec or exit).

namespace ccrex::client {

// Run the client for `argv` and return the exit code (or never return, having exec'ed the
// compiler).
int client_main(int argc, char** argv);

} // namespace ccrex::client
