#include "server/startup_probes.h"

#include "server/process_tree.h"

#include <chrono>

namespace ccrex::server {

// async or, without a thread to spare, deferred: never an exception out of the constructor.
StartupProbes::StartupProbes()
    : m_done(std::async(std::launch::async | std::launch::deferred,
                        [] { (void)pid_namespace_supported(); })) {}

StartupProbes::~StartupProbes() {
  // A deferred run is left to the first action; a running one is waited for.
  if (m_done.valid() && m_done.wait_for(std::chrono::seconds(0)) != std::future_status::deferred) {
    m_done.wait();
  }
}

} // namespace ccrex::server
