#pragma once

// ServerProcess: runs the real `ccrex-server` binary (path from $CCREX_SERVER_BIN) in a
// fresh cache directory and reports the address it bound. Tests talk to it over a real
// socket, exactly as a third-party client would.
//
//   ServerProcess server({"--workers", "2"});
//   ASSERT_TRUE(server.ok()) << server.error();
//   auto channel = grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials());

#include "util/file.h"

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

namespace ccrex::test {

class ServerProcess {
public:
  // Start the server listening on 127.0.0.1:0 (or `listen` when given) with `extra_args`.
  // The cache directory is `cache_dir` if given, else a fresh temporary one.
  // `wrapper`, when given, is a command that runs the server: the server's argv follows
  // it (e.g. a shell that mounts something first).
  explicit ServerProcess(std::vector<std::string> extra_args = {},
                         std::string listen = "127.0.0.1:0",
                         std::string cache_dir = "",
                         std::vector<std::string> wrapper = {});
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  bool ok() const { return !m_address.empty(); }
  const std::string& error() const { return m_error; }
  // gRPC target of the first listening address ("127.0.0.1:PORT" or "unix:/path").
  const std::string& address() const { return m_address; }
  const std::string& cache_dir() const { return m_cache_dir; }
  // What the server printed on stdout up to its listening line (the status page's URL
  // comes before it).
  const std::string& output() const { return m_output; }
  pid_t pid() const { return m_pid; }

  // Send `sig` and wait for the process to exit; return its wait status.
  int kill_and_wait(int sig);

private:
  std::unique_ptr<util::TempDir> m_temp;
  std::string m_cache_dir;
  std::string m_address;
  std::string m_error;
  std::string m_output;
  pid_t m_pid = -1;
};

// Path of the ccrex-server binary under test.
std::string server_binary();

// Let others search (not read) `dir` and the directories above it that this process owns
// inside the temporary directory, as the parents of a store must be for a root server's
// sandbox user to reach the store's work directories (src/server/sandbox.h); a root server
// whose sandbox cannot do so does not start. Directories that do not exist yet are skipped.
void let_sandbox_search(const std::string& dir);

} // namespace ccrex::test
