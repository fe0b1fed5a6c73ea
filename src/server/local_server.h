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
// Every call to a method the server does not serve gets UNIMPLEMENTED with a message naming
// the method (unimplemented_service.h).
//
// Seam for tests: start() takes optional ServiceOverrides. A factory that is set builds the
// service registered instead of the default one for that API (the default is then not
// built at all); it runs after the store and the ActionCache exist, so the replacement can
// use store() and action_cache(). ccrex-server and ccrexd never pass any; the lying test
// engine (test/support/test_engine_main.cpp) replaces Execution and, in one mode,
// ActionCache.
//
// Security (see auth.h and config.h): start() refuses plaintext TCP listening beyond
// loopback unless config.allow_insecure_listen, serves TLS on TCP addresses when a
// certificate is configured (client certificates required with a client CA), holds the
// store's lock (store_lock.h) for its whole life (shared when `store` says so: the agents'
// embedded servers share one store, a standalone server keeps it to itself), and replaces
// an existing path given as "unix:PATH" only when it is a socket nobody listens on.
//
// Thread safety: start() and shutdown() from one thread; the services are concurrent.

#include "server/config.h"
#include "server/store_lock.h"
#include "util/result.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace grpc {
class Server;
class Channel;
class Service;
} // namespace grpc

namespace ccrex::server {

class LocalServer;
class UnimplementedService;

// Replacement services for LocalServer::start (see above). Each factory must return a
// service implementing the API its member names.
struct ServiceOverrides {
  using Factory = std::function<std::unique_ptr<grpc::Service>(LocalServer&)>;
  // Replaces build.bazel.remote.execution.v2.Execution.
  Factory execution;
  // Replaces build.bazel.remote.execution.v2.ActionCache.
  Factory action_cache;
};

class Access;
class BlobStore;
class ActionCache;
class CasService;
class ByteStreamService;
class CapabilitiesService;
class ActionCacheService;
class ExecutionService;
class AssetStore;
class AssetFetchService;
class AssetPushService;
class Metrics;
class StartupProbes;

class LocalServer {
public:
  // Open the store, build the services and start listening on every address in
  // `config.listen` (at least one unless only in-process channels are wanted).
  // `overrides` replaces default services (tests only). `store` says whether other
  // processes may use the store at the same time (store_lock.h).
  static util::Result<std::unique_ptr<LocalServer>>
  start(const Config& config,
        const ServiceOverrides& overrides = {},
        StoreLockMode store = StoreLockMode::exclusive);
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
  ActionCache& action_cache() { return *m_action_cache; }
  // Who may call what; replacement services should ask it as the default ones do.
  const Access& access() const { return *m_access; }
  const Config& config() const { return m_config; }
  // What the services have done (metrics.h), for ccrex-server's status port.
  std::shared_ptr<Metrics> metrics() const { return m_metrics; }
  // Reload what can change without a restart (SIGHUP): the token file. On an error the
  // previous tokens stay in force.
  util::Status reload();

private:
  explicit LocalServer(Config config);

  Config m_config;
  std::unique_ptr<StoreLock> m_lock; // released last, after everything using the store
  std::unique_ptr<Access> m_access;
  std::shared_ptr<Metrics> m_metrics;
  std::unique_ptr<BlobStore> m_store;
  std::unique_ptr<ActionCache> m_action_cache;
  std::unique_ptr<CasService> m_cas;
  std::unique_ptr<ByteStreamService> m_bytestream;
  std::unique_ptr<CapabilitiesService> m_capabilities;
  std::unique_ptr<ActionCacheService> m_action_cache_service;
  std::unique_ptr<ExecutionService> m_execution; // null when overridden
  std::unique_ptr<StartupProbes> m_probes;       // for unconfined actions (startup_probes.h)
  std::unique_ptr<AssetStore> m_assets;
  std::unique_ptr<AssetFetchService> m_asset_fetch;
  std::unique_ptr<AssetPushService> m_asset_push;
  std::vector<std::unique_ptr<grpc::Service>> m_overrides;
  std::unique_ptr<UnimplementedService> m_fallback; // outlives m_server: its queue must
  std::unique_ptr<grpc::Server> m_server;
  std::vector<std::string> m_addresses;
  bool m_shut_down = false;
};

} // namespace ccrex::server
