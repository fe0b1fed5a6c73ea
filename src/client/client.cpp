#include "client/client.h"

#include "client/agent_client.h"
#include "client/command_line.h"
#include "util/file.h"
#include "util/strings.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#ifndef CCREX_VERSION
#  define CCREX_VERSION "unknown"
#endif

extern char** environ; // NOLINT(readability-redundant-declaration)

namespace ccrex::client {
namespace {

constexpr std::string_view k_usage =
    "Usage:\n"
    "  ccrex [KEY=VALUE...] COMPILER [ARGS...]\n"
    "                             compile through the ccrex agent (KEY=VALUE: settings\n"
    "                             for this compile only)\n"
    "  COMPILER [ARGS...]         the same, when COMPILER is a symlink to ccrex\n"
    "  ccrex OPTION\n"
    "\n"
    "Options (short ones combine: -zs; ccache's spellings work):\n"
    "  -s, --show-stats     show statistics\n"
    "  -z, --zero-stats     zero statistics\n"
    "  -C, --clear          clear the local cache\n"
    "  -c, --cleanup        evict from the local store down to its size limit\n"
    "      --evict-older-than AGE  evict what was not used in AGE (30d, 12h, 90m, 45s)\n"
    "  -M, --max-size SIZE  set max_size in the user configuration file (0 for no limit)\n"
    "  -o, --set-config KEY=VALUE  set KEY in the user configuration file\n"
    "  -k, --get-config KEY print the value of KEY\n"
    "  -p, --show-config    show the configuration and where each value comes from\n"
    "      --print-stats    statistics as name<TAB>value lines\n"
    "      --explain [FILE] recent compiles (of sources whose name has FILE): hit, miss or why "
    "not\n"
    "      --doctor [CC]    check the setup (agent, cache, engine, compiler CC), one line each\n"
    "      --stop-agent     stop the running agent\n"
    "  -V, --version        print version and exit\n"
    "  -h, --help           print this help and exit\n";

void write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return;
    }
    text.remove_prefix(static_cast<size_t>(n));
  }
}

void print_error(std::string_view message) {
  write_all(STDERR_FILENO, "ccrex: " + std::string(message) + "\n");
}

std::string current_dir() {
  char buf[PATH_MAX]; // NOLINT(modernize-avoid-c-arrays)
  return ::getcwd(buf, sizeof(buf)) != nullptr ? std::string(buf) : std::string();
}

std::vector<std::string> environment() {
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    env.emplace_back(*e);
  }
  return env;
}

protocol::Request make_request(protocol::RequestKind kind, std::vector<std::string> argv) {
  protocol::Request request;
  request.kind = kind;
  request.argv = std::move(argv);
  request.cwd = current_dir();
  request.env = environment();
  const mode_t mask = ::umask(0); // single-threaded: read and restore
  ::umask(mask);
  request.umask = mask;
  return request;
}

AgentClientOptions agent_options(const std::string& self) {
  AgentClientOptions options;
  options.paths = protocol::agent_paths(protocol::agent_dir());
  options.agent_bin = default_agent_bin(self);
  return options;
}

[[noreturn]] void exec_compiler(const std::vector<std::string>& argv) {
  std::vector<char*> c_argv;
  c_argv.reserve(argv.size() + 1);
  for (const auto& a : argv) {
    c_argv.push_back(const_cast<char*>(a.c_str())); // NOLINT: exec is not const-correct
  }
  c_argv.push_back(nullptr);
  ::execv(argv[0].c_str(), c_argv.data());
  print_error(util::errno_error("cannot execute " + argv[0], errno).message());
  std::exit(127); // NOLINT(concurrency-mt-unsafe)
}

// Whether a compilation-database recorder that intercepts exec calls through a preloaded
// library (bear 3, scan-build's intercept-build) watches this build. It cannot see into
// this static program, nor into the agent that runs the compiler.
bool recorder_watching() {
  for (const char* var : {"INTERCEPT_REPORT_DESTINATION", "INTERCEPT_BUILD_TARGET_DIR"}) {
    if (std::getenv(var) != nullptr) { // NOLINT(concurrency-mt-unsafe)
      return true;
    }
  }
  return false;
}

// Run the compiler through /bin/sh, a dynamically linked program the recorder's library is
// loaded into, so that the recorder sees the compiler's exec with its arguments.
[[noreturn]] void exec_compiler_for_recorder(const std::vector<std::string>& argv) {
  std::vector<std::string> shell{"/bin/sh", "-c", "exec \"$0\" \"$@\""};
  shell.insert(shell.end(), argv.begin(), argv.end());
  exec_compiler(shell);
}

// Ask the agent to run the compile; return its exit code, or nothing to run locally.
bool compile_via_agent(const std::string& self, const std::vector<std::string>& argv, int& code) {
  const auto request = make_request(protocol::RequestKind::compile, argv);
  if (request.cwd.empty()) {
    return false; // no name for this directory (longer than PATH_MAX, or removed)
  }
  auto sock = connect_or_start_agent(agent_options(self));
  if (!sock) {
    // Said once per failed start (the next clients in the back-off period stay quiet) and
    // on every compile for a directory that is not private: both need the user to act.
    if (sock.error().message() != k_start_backed_off) {
      print_error("cannot use the agent: " + sock.error().message() + "; compiling without ccrex");
    }
    return false;
  }
  auto reply = exchange(sock->get(), request, {STDOUT_FILENO, STDERR_FILENO});
  if (!reply && reply.error().code() == util::ErrorCode::deadline_exceeded) {
    // The one fault the user should hear of: every compile waits that long until the
    // agent is restarted (`ccrex --stop-agent`, or kill it).
    print_error(reply.error().message() + "; compiling locally");
    return false;
  }
  if (!reply || reply->kind != protocol::ReplyKind::done) {
    return false;
  }
  code = reply->exit_code;
  return true;
}

int run_compile(const ClientCommand& command) {
  const std::string self = self_path();
  const char* path = std::getenv("PATH");                                        // NOLINT
  const char* passed = std::getenv(std::string(k_passed_dirs_variable).c_str()); // NOLINT
  const std::string passed_dirs = passed != nullptr ? passed : "";
  auto compiler = resolve_compiler(command.args[0], path != nullptr ? path : "", self, passed_dirs);
  if (!compiler) {
    print_error(compiler.error().message());
    return 127;
  }
  if (*compiler != command.args[0]) {
    // Found in PATH: should it lead back here through a wrapper ccrex does not know, the
    // next ccrex looks past this directory.
    const std::string dirs =
        (passed_dirs.empty() ? "" : passed_dirs + ":") + std::string(util::dirname(*compiler));
    ::setenv(std::string(k_passed_dirs_variable).c_str(), dirs.c_str(), 1); // NOLINT
  }
  if (!command.settings.empty()) {
    ::setenv(std::string(k_settings_variable).c_str(), // NOLINT(concurrency-mt-unsafe)
             util::join(command.settings, "\n").c_str(),
             1);
  }
  std::vector<std::string> argv = command.args;
  argv[0] = *compiler;
  int code = 0;
  // CCREX_DISABLE set to a true value: the compiler alone, no agent started. Any other
  // value goes to the agent, which reports an invalid one.
  const char* disable = std::getenv("CCREX_DISABLE"); // NOLINT(concurrency-mt-unsafe)
  if (disable != nullptr) {
    if (auto off = util::parse_bool(disable); off && *off) {
      exec_compiler(argv);
    }
  }
  if (recorder_watching()) {
    exec_compiler_for_recorder(argv); // bear sees the compiler; no cache while it records
  }
  if (compile_via_agent(self, argv, code)) {
    return code;
  }
  exec_compiler(argv);
}

// Return the pid in the agent's pid file, or 0.
pid_t read_agent_pid(const std::string& pid_file) {
  const int fd = ::open(pid_file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return 0;
  }
  char buf[32] = {};
  const ssize_t n = ::read(fd, buf, sizeof(buf) - 1);
  ::close(fd);
  if (n <= 0) {
    return 0;
  }
  const long pid = std::strtol(buf, nullptr, 10);
  return pid > 0 && pid <= INT_MAX ? static_cast<pid_t>(pid) : 0;
}

// Wait (up to 30 s) until process `pid` has exited, so that `ccrex --stop-agent` returns
// only once the agent has finished writing its files. Return whether it has.
bool wait_for_exit(pid_t pid) {
  const auto alive = [pid] { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); };
  for (int i = 0; i < 3000 && alive(); ++i) {
    ::usleep(10'000);
  }
  return !alive();
}

int run_one_admin(std::vector<std::string> args) {
  const bool stop = args[0] == "--stop-agent";
  if (args[0] == "--doctor" && args.size() > 1) {
    // The compiler the way a compile would find it (PATH, masquerade links skipped).
    const char* path = std::getenv("PATH"); // NOLINT(concurrency-mt-unsafe)
    if (auto found = resolve_compiler(args[1], path != nullptr ? path : "", self_path())) {
      std::string_view rel = *found;
      while (rel.starts_with("./")) {
        rel.remove_prefix(2);
      }
      args[1] = found->front() == '/' ? *found : current_dir() + "/" + std::string(rel);
    }
  }
  auto options = agent_options(self_path());
  if (stop) {
    options.agent_bin.clear(); // never start an agent only to stop it
  }
  util::Error last_error(util::ErrorCode::unavailable, "no attempt");
  // A second attempt covers an agent that stopped because it speaks another version.
  for (int attempt = 0; attempt < 3; ++attempt) {
    const pid_t agent_pid = stop ? read_agent_pid(options.paths.pid_file) : 0;
    auto sock = stop ? connect_agent(options) : connect_or_start_agent(options);
    if (!sock && stop) {
      write_all(STDOUT_FILENO, "ccrex: no agent is running\n");
      return 0;
    }
    if (sock) {
      const auto request = make_request(protocol::RequestKind::admin, args);
      auto reply = exchange(sock->get(), request, {});
      if (reply && reply->kind == protocol::ReplyKind::text) {
        write_all(STDOUT_FILENO, reply->out);
        write_all(STDERR_FILENO, reply->err);
        if (stop && !wait_for_exit(agent_pid)) {
          print_error("the agent (pid " + std::to_string(agent_pid)
                      + ") did not stop within 30 seconds");
          return 1;
        }
        return reply->exit_code;
      }
      last_error = reply ? util::Error(util::ErrorCode::unavailable, reply->reason)
                         : std::move(reply).error();
      if (last_error.code() == util::ErrorCode::deadline_exceeded) {
        break; // a stuck agent stays stuck: no point in waiting again
      }
    } else {
      last_error = std::move(sock).error();
    }
    ::usleep(100'000);
  }
  print_error("cannot reach the agent: " + last_error.message());
  return 1;
}

// Run the admin commands in order (`ccrex -z -s`); stop at the first that fails.
int run_admin(const ClientCommand& command) {
  for (const auto& args : command.admin) {
    if (const int code = run_one_admin(args); code != 0) {
      return code;
    }
  }
  return 0;
}

} // namespace

int client_main(int argc, char** argv) {
  const ClientCommand command = classify_command_line(std::vector<std::string>(argv, argv + argc));
  switch (command.kind) {
  case ClientCommand::Kind::compile:
    return run_compile(command);
  case ClientCommand::Kind::admin:
    return run_admin(command);
  case ClientCommand::Kind::version:
    write_all(STDOUT_FILENO, "ccrex version " CCREX_VERSION "\n");
    return 0;
  case ClientCommand::Kind::help:
    write_all(STDOUT_FILENO, k_usage);
    return 0;
  case ClientCommand::Kind::usage_error:
    break;
  }
  print_error(command.message);
  write_all(STDERR_FILENO, k_usage);
  return 1;
}

} // namespace ccrex::client
