#include "agent/local_compile.h"

#include "util/scope_exit.h"

namespace ccrex::agent {

util::Result<util::SubprocessResult> LocalCompiler::run(const std::vector<std::string>& argv,
                                                        const std::string& cwd,
                                                        const std::vector<std::string>& env) {
  {
    std::unique_lock lock(m_mutex);
    m_cv.wait(lock, [this] { return m_free > 0; });
    --m_free;
  }
  const util::ScopeExit release([this] {
    {
      const std::lock_guard lock(m_mutex);
      ++m_free;
    }
    m_cv.notify_one();
  });
  util::SubprocessOptions o;
  o.argv = argv;
  o.cwd = cwd;
  o.env = env;
  return util::run_subprocess(o);
}

} // namespace ccrex::agent
