// ccrexd: the per-user agent behind `ccrex`. It is normally started by the client (in the
// background, on first use) and stops by itself after an idle period.
#include "agent/compile_handler.h"
#include "agent/config.h"
#include "agent/process_memory.h"
#include "agent/socket_server.h"
#include "protocol/agent_dir.h"
#include "util/file.h"
#include "util/logging.h"
#include "util/strings.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>

extern char** environ; // NOLINT(readability-redundant-declaration)

namespace {

// The pipe the client that started this agent waits on (protocol::k_ready_fd_option), or -1.
int ready_fd_from(int argc, char** argv) {
  const std::string_view option = ccrex::protocol::k_ready_fd_option;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i]; // NOLINT(cppcoreguidelines-pro-bounds-pointer-arithmetic)
    if (arg.substr(0, option.size()) != option) {
      continue;
    }
    auto fd = ccrex::util::parse_int(arg.substr(option.size()));
    if (fd && *fd > STDERR_FILENO && *fd < 1024
        && ::fcntl(static_cast<int>(*fd), F_SETFD, FD_CLOEXEC) == 0) {
      return static_cast<int>(*fd);
    }
  }
  return -1;
}

// Tell the waiting client how the start went: `reason` is empty once listening. The pipe
// is closed either way, so that a client waits for nothing more.
void report_start(int& ready_fd, const std::string& reason) {
  if (ready_fd < 0) {
    return;
  }
  if (!reason.empty()) {
    const std::string line = reason + "\n";
    (void)!::write(ready_fd, line.data(), line.size());
  }
  ::close(ready_fd);
  ready_fd = -1;
}

// The handler this agent serves requests with: the compile pipeline.
std::unique_ptr<ccrex::agent::Handler> make_handler() {
  return std::make_unique<ccrex::agent::CompileHandler>();
}

} // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--version") == 0) {
    std::printf("ccrexd version %s\n", CCREX_VERSION);
    return 0;
  }
  namespace logging = ccrex::util::logging;
  int ready_fd = ready_fd_from(argc, argv);
  ccrex::agent::limit_heap_arenas();
  auto options = ccrex::agent::socket_server_options_from_environment();
  if (!options) {
    std::fprintf(stderr, "ccrexd: %s\n", options.error().message().c_str());
    report_start(ready_fd, options.error().message());
    return 1;
  }
  // The agent-wide settings (idle timeout, log file and level) come from the configuration
  // of the environment the agent was started with; the files count too.
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    env.emplace_back(*e);
  }
  std::string log_file = ccrex::util::join_path(options->dir, "agent.log");
  logging::Level level = logging::Level::info;
  if (auto config = ccrex::agent::load_config(env)) {
    options->idle_timeout = config->idle_timeout;
    if (!config->log_file.empty()) {
      log_file = config->log_file;
    }
    logging::parse_level(config->log_level, level);
  }
  logging::log_to_file(log_file, level);
  // A burst of compiles leaves freed memory behind; give it back once the agent is quiet.
  options->on_quiet = ccrex::agent::release_free_memory;
  auto handler = make_handler();
  ccrex::agent::SocketServer server(*options, *handler);
  if (auto started = server.start(); !started) {
    CCREX_LOG_WARN("not starting: " << started.error().to_string());
    std::fprintf(stderr, "ccrexd: %s\n", started.error().message().c_str());
    const bool other_agent = started.error().code() == ccrex::util::ErrorCode::already_exists;
    report_start(ready_fd, other_agent ? std::string() : started.error().message());
    return other_agent ? 0 : 1;
  }
  report_start(ready_fd, {});
  CCREX_LOG_INFO("agent started, pid " << getpid() << ", socket " << server.socket_path());
  // The store and the embedded server start while the first client connects and the
  // compiler is probed, instead of after both.
  std::thread warm_up;
  try {
    warm_up = std::thread([&handler, &env] { handler->warm_up(env); });
  } catch (const std::system_error&) {
    // No thread to spare: the first compile does it.
  }
  server.run();
  if (warm_up.joinable()) {
    warm_up.join();
  }
  return 0;
}
