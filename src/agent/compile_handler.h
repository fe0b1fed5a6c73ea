#pragma once

// CompileHandler: the agent's Handler. Loads the configuration from the client's
// environment, classifies the command, runs the pipeline, counts the outcome and decides,
// in one place, whether the client exits with the pipeline's result or runs the compiler
// itself. It also answers the administrative commands (-s, -z, -C, --show-config,
// --explain).
//
// Thread safety: compile() and admin() are called concurrently by the socket server.

#include "agent/diagnostics_color.h"
#include "agent/handler.h"
#include "agent/pipeline.h"
#include "agent/stats.h"

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

namespace ccrex::server {
class LocalServer;
}

namespace ccrex::agent {

class CompileHandler final : public Handler {
public:
  CompileHandler();
  ~CompileHandler() override;
  CompileHandler(const CompileHandler&) = delete;
  CompileHandler& operator=(const CompileHandler&) = delete;

  CompileReply compile(const CompileRequest& request) override;
  AdminReply admin(const std::vector<std::string>& args,
                   const std::vector<std::string>& env) override;
  // Opens the store and starts the embedded server of the configured cache directory (and
  // the executor of the configured engine): what the first compile would do first.
  void warm_up(const std::vector<std::string>& env) override;

private:
  struct Stores; // per cache directory: embedded server and executors
  struct Site;   // per cache directory: statistics, recent explanations, the Stores
  Site& site(const Config& config);
  // `warming`: a store that cannot be opened is not taken to be held by another process
  // (no back-off), so the first compile meets the failure itself.
  util::Result<Backends>
  backends(const Config& config, std::shared_ptr<Stores>& keep, bool warming = false);
  // The local store's figures for `-s`, `--print-stats` and `-x` (sizes unknown when the
  // store cannot be opened).
  StoreSummary store_summary(const Config& config, Site& site);
  CompileReply decide(const CompileRequest& request, const Config& config, Site& site);
  // The compile of a supported command (after the colour decision).
  CompileReply run_supported(const CompileRequest& request,
                             const toolchain::ParsedCommand& cmd,
                             const std::string& compiler,
                             const Config& config,
                             Site& site);
  // Tell the client, once per agent lifetime per counter, that a compile fell back to a
  // local compile because of the setup (an engine down or unusable, a bad configuration).
  void
  announce_once(const CompileRequest& request, const std::string& stat, const std::string& detail);
  void record(Site& site, const std::string& source, const std::string& line);

  PipelineServices m_services;
  std::unique_ptr<LocalCompiler> m_local;
  DiagnosticsLook m_colors;
  std::mutex m_mutex;
  std::map<std::string, std::unique_ptr<Site>> m_sites; // guarded by m_mutex
  std::set<std::string> m_announced;                    // guarded by m_mutex
};

} // namespace ccrex::agent
