#pragma once

// The checks an unconfined action's first run would otherwise make (process_tree.h: does
// ccrex-action-init work here, are PID namespaces available), made on a thread of their own
// from the moment the server starts, so that a fresh server's first action finds the
// answers ready. The answers are function-local statics: an action that arrives while they
// are still being found waits for that one run, never starts a second.
//
// Where no thread can be started, nothing runs here and the first action makes the checks
// itself, as it would without this.
//
// Thread safety: construct and destroy from one thread; the destructor waits for the checks.

#include <future>

namespace ccrex::server {

class StartupProbes {
public:
  StartupProbes();
  ~StartupProbes();
  StartupProbes(const StartupProbes&) = delete;
  StartupProbes& operator=(const StartupProbes&) = delete;

private:
  std::future<void> m_done;
};

} // namespace ccrex::server
