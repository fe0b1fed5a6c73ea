#pragma once

// LocalServer: owns a BlobStore, the ActionCache and every REAPI service, and serves them
// over gRPC on the configured addresses. Used by `ccrex-server` and embedded in ccrexd.
//
//   server::Config cfg;
//   cfg.cache_dir = dir;
//   cfg.listen = {"127.0.0.1:0"};
//   auto srv = server::LocalServer::start(cfg);   // Result<std::unique_ptr<LocalServer>>
//   std::string addr = (*srv)->addresses()[0];    // "127.0.0.1:41234"
//
// Thread safety: start() and shutdown() from one thread; the services are concurrent.

#include "server/config.h"
#include "util/result.h"

#include <memory>
#include <string>
#include <vector>

namespace grpc {
class Server;
class Channel;
} // namespace grpc

namespace ccrex::server {

class BlobStore;
class ActionCache;
class CasService;
class ByteStreamService;
class CapabilitiesService;
class ActionCacheService;
class ExecutionService;

class LocalServer {
public:
  // Open the store, build the services and start listening on every address in
  // `config.listen` (at least one unless only in-process channels are wanted).
  static util::Result<std::unique_ptr<LocalServer>> start(const Config& config);
  ~LocalServer();
  LocalServer(const LocalServer&) = delete;
  LocalServer& operator=(const LocalServer&) = delete;

  // The bound addresses, in the order of config.listen, with port 0 replaced by the real
  // port ("127.0.0.1:41234", "unix:/run/x.sock"). Usable as gRPC target strings.
  const std::vector<std::string>& addresses() const { return m_addresses; }
  // A channel that talks to this server without a socket.
  std::shared_ptr<grpc::Channel> in_process_channel();

  // Stop accepting calls, cancel running executions and wait for in-flight calls (at most
  // `grace`), then release the store. Idempotent; the destructor calls it.
  void shutdown();
  // Block until shutdown() is called from another thread.
  void wait();

  BlobStore& store() { return *m_store; }
  const Config& config() const { return m_config; }

private:
  explicit LocalServer(Config config);

  Config m_config;
  std::unique_ptr<BlobStore> m_store;
  std::unique_ptr<ActionCache> m_action_cache;
  std::unique_ptr<CasService> m_cas;
  std::unique_ptr<ByteStreamService> m_bytestream;
  std::unique_ptr<CapabilitiesService> m_capabilities;
  std::unique_ptr<ActionCacheService> m_action_cache_service;
  std::unique_ptr<ExecutionService> m_execution;
  std::unique_ptr<grpc::Server> m_server;
  std::vector<std::string> m_addresses;
  bool m_shut_down = false;
};

} // namespace ccrex::server
