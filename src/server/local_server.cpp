#include "server/local_server.h"

#include "reapi/channel.h"
#include "server/action_cache.h"
#include "server/asset_service.h"
#include "server/asset_store.h"
#include "server/auth.h"
#include "server/blob_store.h"
#include "server/bytestream_service.h"
#include "server/cas_service.h"
#include "server/execution_service.h"
#include "server/metrics.h"
#include "server/sandbox.h"
#include "server/startup_probes.h"
#include "server/store_lock.h"
#include "server/unimplemented_service.h"
#include "util/file.h"
#include "util/logging.h"
#include "util/strings.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/server_interceptor.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

namespace ccrex::server {
namespace {

// gRPC accepts "unix:/path" and "host:port"; we also take the grpc:// spelling users write.
std::string grpc_listen_address(const std::string& address) {
  if (address.rfind("grpc://", 0) == 0) {
    return address.substr(7);
  }
  return address;
}

// Whether `address` (after grpc_listen_address) is a Unix domain socket.
bool is_unix(const std::string& address) {
  return address.rfind("unix:", 0) == 0;
}

// Make `path` free for a new socket: nothing there, or a socket nobody listens on (left by
// a server that died), which is removed. Anything else stays untouched and is an error.
util::Status free_socket_path(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    return errno == ENOENT ? util::Status() : util::errno_error("--listen unix:" + path, errno);
  }
  if (!S_ISSOCK(st.st_mode)) {
    return util::invalid_argument("--listen unix:" + path + ": " + path
                                  + " exists and is not a socket; not replacing it");
  }
  sockaddr_un addr{};
  if (path.size() >= sizeof(addr.sun_path)) {
    return util::invalid_argument("--listen unix:" + path + ": the path is too long");
  }
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, path.size());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
    const bool live = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
    ::close(fd);
    if (live) {
      return util::Error(util::ErrorCode::failed_precondition,
                         "--listen unix:" + path + ": another process is listening there");
    }
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return util::errno_error("remove the stale socket " + path, errno);
  }
  return {};
}

// Refuse plaintext TCP listening beyond loopback unless the configuration allows it, and
// then say so loudly.
util::Status check_plaintext_listen(const Config& cfg) {
  if (!cfg.tls_cert_file.empty()) {
    return {};
  }
  for (const auto& listen : cfg.listen) {
    const std::string addr = grpc_listen_address(listen);
    if (is_unix(addr) || reapi::is_loopback_host(reapi::target_host(addr))) {
      continue;
    }
    if (!cfg.allow_insecure_listen) {
      return util::invalid_argument(
          "refusing to listen on " + listen
          + " without TLS: anyone who reaches it could read and write the cache and run "
            "commands; give --tls-cert and --tls-key, or --allow-insecure-listen on a "
            "network you trust");
    }
    const std::string exposed = cfg.auth_tokens_file.empty()
                                    ? "use the cache and run commands"
                                    : "read the traffic, bearer tokens included";
    CCREX_LOG_WARN("server: listening on " << listen << " WITHOUT TLS (--allow-insecure-listen): "
                                           << "anyone who reaches it can " << exposed);
  }
  return {};
}

// The credentials of TCP listeners: TLS (mutual with a client CA) or plaintext.
util::Result<std::shared_ptr<grpc::ServerCredentials>> tcp_credentials(const Config& cfg) {
  if (cfg.tls_cert_file.empty() != cfg.tls_key_file.empty()) {
    return util::invalid_argument("TLS needs both --tls-cert and --tls-key");
  }
  if (cfg.tls_cert_file.empty()) {
    if (!cfg.tls_client_ca_file.empty()) {
      return util::invalid_argument("--tls-client-ca needs --tls-cert and --tls-key");
    }
    return grpc::InsecureServerCredentials();
  }
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  auto key = util::read_file(cfg.tls_key_file);
  if (!key) {
    return key.error().with_context("reading the TLS key");
  }
  auto cert = util::read_file(cfg.tls_cert_file);
  if (!cert) {
    return cert.error().with_context("reading the TLS certificate");
  }
  pair.private_key = std::move(*key);
  pair.cert_chain = std::move(*cert);
  grpc::SslServerCredentialsOptions options(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  if (!cfg.tls_client_ca_file.empty()) {
    auto ca = util::read_file(cfg.tls_client_ca_file);
    if (!ca) {
      return ca.error().with_context("reading the TLS client CA");
    }
    options.pem_root_certs = std::move(*ca);
    options.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  options.pem_key_cert_pairs.push_back(std::move(pair));
  return grpc::SslServerCredentials(options);
}

// Return `address` with its port replaced by `port`.
std::string with_port(const std::string& address, int port) {
  const size_t colon = address.rfind(':');
  return address.substr(0, colon + 1) + std::to_string(port);
}

// Counts every finished call, by method and status, in Metrics.
class CallCounter final : public grpc::experimental::Interceptor {
public:
  CallCounter(Metrics& metrics, const char* method)
      : m_metrics(metrics),
        m_method(method != nullptr ? method : "") {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      m_metrics.count_call(m_method, methods->GetSendStatus().error_code());
    }
    methods->Proceed();
  }

private:
  Metrics& m_metrics;
  const std::string m_method;
};

class CallCounterFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
public:
  explicit CallCounterFactory(Metrics& metrics) : m_metrics(metrics) {}
  grpc::experimental::Interceptor*
  CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override {
    return new CallCounter(m_metrics, info->method()); // NOLINT: gRPC owns interceptors
  }

private:
  Metrics& m_metrics;
};

} // namespace

LocalServer::LocalServer(Config config) : m_config(std::move(config)) {}

LocalServer::~LocalServer() {
  shutdown();
  if (m_metrics) {
    m_metrics->set_store_probe(nullptr); // the status port may outlive the store
  }
}

util::Result<std::unique_ptr<LocalServer>>
LocalServer::start(const Config& config, const ServiceOverrides& overrides, StoreLockMode store) {
  std::unique_ptr<LocalServer> srv(new LocalServer(config));
  Config& cfg = srv->m_config;
  if (cfg.workers <= 0) {
    cfg.workers = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  }
  if (cfg.platform.empty()) {
    cfg.platform = host_platform();
  }
  CCREX_TRY(check_plaintext_listen(cfg));
  CCREX_ASSIGN_OR_RETURN(auto tcp_creds, tcp_credentials(cfg));
  CCREX_ASSIGN_OR_RETURN(srv->m_access, Access::from_config(cfg));
  // Before anything in the store is touched: opening it cleans up temporary files.
  CCREX_ASSIGN_OR_RETURN(auto lock, StoreLock::acquire(cfg.cache_dir, cfg.store_lock_wait, store));
  srv->m_lock = std::make_unique<StoreLock>(std::move(lock));
  // Leftovers (temporary files, work directories) are removed only by a process that has
  // the store to itself: with others sharing it they may be writes in progress.
  CCREX_ASSIGN_OR_RETURN(
      srv->m_store,
      BlobStore::open(cfg.cache_dir, cfg.max_size, srv->m_lock->alone(), cfg.compression_level));
  const Access& access = *srv->m_access;
  srv->m_metrics = std::make_shared<Metrics>();
  srv->m_metrics->set_store_probe([store = srv->m_store.get()] {
    return std::pair{store->total_size(), store->max_size()};
  });
  Metrics& metrics = *srv->m_metrics;
  srv->m_action_cache = std::make_unique<ActionCache>(*srv->m_store);
  srv->m_cas = std::make_unique<CasService>(srv->m_config, *srv->m_store, access, metrics);
  srv->m_bytestream =
      std::make_unique<ByteStreamService>(*srv->m_store, access, srv->m_config, metrics);
  srv->m_capabilities = std::make_unique<CapabilitiesService>(srv->m_config, access);
  CCREX_ASSIGN_OR_RETURN(srv->m_assets, AssetStore::open(cfg.cache_dir, cfg.max_assets));
  srv->m_asset_fetch =
      std::make_unique<AssetFetchService>(srv->m_config, *srv->m_store, *srv->m_assets, access);
  srv->m_asset_push =
      std::make_unique<AssetPushService>(srv->m_config, *srv->m_store, *srv->m_assets, access);
  // The default service, or the override's replacement for it.
  const auto pick = [&](const ServiceOverrides::Factory& factory,
                        auto make_default) -> grpc::Service* {
    if (factory) {
      srv->m_overrides.push_back(factory(*srv));
      return srv->m_overrides.back().get();
    }
    return make_default();
  };
  grpc::Service* action_cache_service = pick(overrides.action_cache, [&] {
    srv->m_action_cache_service =
        std::make_unique<ActionCacheService>(*srv->m_store, *srv->m_action_cache, access, metrics);
    return srv->m_action_cache_service.get();
  });
  grpc::Service* execution_service = pick(overrides.execution, [&] {
    srv->m_execution = std::make_unique<ExecutionService>(
        srv->m_config, *srv->m_store, *srv->m_action_cache, access, metrics);
    return srv->m_execution.get();
  });
  if (action_cache_service == nullptr || execution_service == nullptr) {
    return util::invalid_argument("a service override returned no service");
  }
  // Commands from the network never run unconfined as root unless the operator said so.
  if (srv->m_execution && ::geteuid() == 0 && cfg.sandbox.enabled
      && !srv->m_execution->sandbox().confines()) {
    return util::Error(util::ErrorCode::failed_precondition,
                       "this server runs as root, so its actions must run in the sandbox, "
                       "which does not work here ("
                           + srv->m_execution->sandbox().describe()
                           + "); fix that, or pass --no-sandbox to run actions unconfined "
                             "as root");
  }
  // What an unconfined action checks on its first run is found while the server waits for
  // it (a sandbox made its own checks when it was chosen).
  if (srv->m_execution && !srv->m_execution->sandbox().confines()) {
    srv->m_probes = std::make_unique<StartupProbes>();
  }
  if (store == StoreLockMode::shared) {
    CCREX_TRY(srv->m_lock->share()); // leftovers are gone: other agents may come in
  }

  grpc::ServerBuilder builder;
  // Accept somewhat more than the advertised batch limit: lax clients count only blob bytes.
  builder.SetMaxReceiveMessageSize(static_cast<int>(
      std::max<int64_t>(64 << 20, cfg.max_batch_bytes + (cfg.max_batch_bytes / 4))));
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> counters;
  counters.push_back(std::make_unique<CallCounterFactory>(metrics));
  builder.experimental().SetInterceptorCreators(std::move(counters));
  std::vector<int> ports(cfg.listen.size(), 0);
  for (size_t i = 0; i < cfg.listen.size(); ++i) {
    const std::string addr = grpc_listen_address(cfg.listen[i]);
    if (is_unix(addr)) {
      const std::string path = addr.substr(5);
      CCREX_TRY(util::make_dirs(util::dirname(path), 0700));
      CCREX_TRY(free_socket_path(path));
      builder.AddListeningPort(addr, grpc::InsecureServerCredentials());
    } else {
      builder.AddListeningPort(addr, tcp_creds, &ports[i]);
    }
  }
  builder.RegisterService(srv->m_cas.get());
  builder.RegisterService(srv->m_bytestream.get());
  builder.RegisterService(srv->m_capabilities.get());
  builder.RegisterService(action_cache_service);
  builder.RegisterService(execution_service);
  builder.RegisterService(srv->m_asset_fetch.get());
  builder.RegisterService(srv->m_asset_push.get());
  srv->m_fallback = std::make_unique<UnimplementedService>(builder);
  srv->m_server = builder.BuildAndStart();
  if (!srv->m_server) {
    return util::Error(util::ErrorCode::unavailable,
                       "cannot listen on " + util::join(cfg.listen, ", ")
                           + (cfg.tls_cert_file.empty()
                                  ? std::string()
                                  : " (is the TLS certificate valid and does the key match it?)"));
  }
  srv->m_fallback->start();
  for (size_t i = 0; i < cfg.listen.size(); ++i) {
    const std::string addr = grpc_listen_address(cfg.listen[i]);
    if (is_unix(addr)) {
      srv->m_addresses.push_back(addr);
    } else if (ports[i] == 0) {
      return util::Error(util::ErrorCode::unavailable, "cannot listen on " + cfg.listen[i]);
    } else {
      srv->m_addresses.push_back(with_port(addr, ports[i]));
    }
  }
  std::string security;
  if (!cfg.tls_cert_file.empty()) {
    security += cfg.tls_client_ca_file.empty() ? ", TLS" : ", mutual TLS";
  }
  if (srv->m_access->tokens_required()) {
    security += ", bearer tokens";
  } else if (!cfg.allow_ac_updates) {
    security += ", action cache written only by its own executions";
  }
  CCREX_LOG_INFO("server: store " << cfg.cache_dir << ", " << cfg.workers << " workers"
                                  << security);
  return srv;
}

util::Status LocalServer::reload() {
  return m_access->reload(m_config);
}

std::shared_ptr<grpc::Channel> LocalServer::in_process_channel() {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  return m_server->InProcessChannel(args);
}

void LocalServer::shutdown() {
  if (m_shut_down || !m_server) {
    return;
  }
  m_shut_down = true;
  if (m_execution) {
    m_execution->shutdown();
  }
  m_server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  m_fallback->stop();
}

void LocalServer::wait() {
  if (m_server) {
    m_server->Wait();
  }
}

} // namespace ccrex::server
