#pragma once

// Local compiles the agent runs itself (cache-only mode, where it needs the outputs to
// upload them). At most `jobs` (the caller's configured limit) run at once, whatever the
// build's -j.
//
// Thread safety: run() may be called concurrently.

#include "util/result.h"
#include "util/subprocess.h"

#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

namespace ccrex::agent {

class LocalCompiler {
public:
  // Run `argv` in `cwd` with `env`, capturing stdout and stderr. Blocks while `jobs` or
  // more compiles are already running.
  // When `cancel` is raised the compiler's process group is killed (the result then says
  // `cancelled`).
  util::Result<util::SubprocessResult> run(const std::vector<std::string>& argv,
                                           const std::string& cwd,
                                           const std::vector<std::string>& env,
                                           int jobs,
                                           const std::atomic<bool>* cancel = nullptr);

private:
  std::mutex m_mutex;
  std::condition_variable m_cv;
  int m_running = 0; // guarded by m_mutex
};

} // namespace ccrex::agent
