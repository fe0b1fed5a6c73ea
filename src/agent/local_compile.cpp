#include "agent/local_compile.h"

#include "util/scope_exit.h"

#include <algorithm>

namespace ccrex::agent {

util::Result<util::SubprocessResult> LocalCompiler::run(const std::vector<std::string>& argv,
                                                        const std::string& cwd,
                                                        const std::vector<std::string>& env,
                                                        int jobs,
                                                        const std::atomic<bool>* cancel) {
  {
    std::unique_lock lock(m_mutex);
    m_cv.wait(lock, [this, jobs] { return m_running < std::max(1, jobs); });
    ++m_running;
  }
  const util::ScopeExit release([this] {
    {
      const std::lock_guard lock(m_mutex);
      --m_running;
    }
    m_cv.notify_all(); // waiters may have different limits
  });
  util::SubprocessOptions o;
  o.argv = argv;
  o.cwd = cwd;
  o.env = env;
  o.cancel = cancel;
  return util::run_subprocess(o);
}

} // namespace ccrex::agent
