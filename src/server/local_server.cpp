#include "server/local_server.h"

#include "server/action_cache.h"
#include "server/blob_store.h"
#include "server/bytestream_service.h"
#include "server/cas_service.h"
#include "server/execution_service.h"
#include "util/file.h"
#include "util/logging.h"
#include "util/strings.h"

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>

#include <unistd.h>

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

// Return `address` with its port replaced by `port`.
std::string with_port(const std::string& address, int port) {
  const size_t colon = address.rfind(':');
  return address.substr(0, colon + 1) + std::to_string(port);
}

// Answers every call that no registered service handles: UNIMPLEMENTED naming the method.
class UnimplementedFallback final : public grpc::CallbackGenericService {
public:
  grpc::ServerGenericBidiReactor* CreateReactor(grpc::GenericCallbackServerContext* ctx) override {
    class Reactor final : public grpc::ServerGenericBidiReactor {
    public:
      explicit Reactor(const std::string& method) {
        Finish({grpc::StatusCode::UNIMPLEMENTED,
                "ccrex-server does not implement " + (method.empty() ? "this method" : method)});
      }
      void OnDone() override { delete this; }
    };
    CCREX_LOG_INFO("server: call to unimplemented method " << ctx->method());
    return new Reactor(ctx->method()); // NOLINT(cppcoreguidelines-owning-memory): OnDone frees
  }
};

} // namespace

LocalServer::LocalServer(Config config) : m_config(std::move(config)) {}

LocalServer::~LocalServer() {
  shutdown();
}

util::Result<std::unique_ptr<LocalServer>> LocalServer::start(const Config& config,
                                                              const ServiceOverrides& overrides) {
  std::unique_ptr<LocalServer> srv(new LocalServer(config));
  Config& cfg = srv->m_config;
  if (cfg.workers <= 0) {
    cfg.workers = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  }
  if (cfg.platform.empty()) {
    cfg.platform = host_platform();
  }
  CCREX_ASSIGN_OR_RETURN(srv->m_store, BlobStore::open(cfg.cache_dir, cfg.max_size));
  srv->m_action_cache = std::make_unique<ActionCache>(*srv->m_store);
  srv->m_cas = std::make_unique<CasService>(srv->m_config, *srv->m_store);
  srv->m_bytestream = std::make_unique<ByteStreamService>(*srv->m_store);
  srv->m_capabilities = std::make_unique<CapabilitiesService>(srv->m_config);
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
        std::make_unique<ActionCacheService>(*srv->m_store, *srv->m_action_cache);
    return srv->m_action_cache_service.get();
  });
  grpc::Service* execution_service = pick(overrides.execution, [&] {
    srv->m_execution =
        std::make_unique<ExecutionService>(srv->m_config, *srv->m_store, *srv->m_action_cache);
    return srv->m_execution.get();
  });
  if (action_cache_service == nullptr || execution_service == nullptr) {
    return util::invalid_argument("a service override returned no service");
  }
  srv->m_fallback = std::make_unique<UnimplementedFallback>();

  grpc::ServerBuilder builder;
  // Accept somewhat more than the advertised batch limit: lax clients count only blob bytes.
  builder.SetMaxReceiveMessageSize(static_cast<int>(
      std::max<int64_t>(64 << 20, cfg.max_batch_bytes + (cfg.max_batch_bytes / 4))));
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  std::vector<int> ports(cfg.listen.size(), 0);
  for (size_t i = 0; i < cfg.listen.size(); ++i) {
    const std::string addr = grpc_listen_address(cfg.listen[i]);
    if (addr.rfind("unix:", 0) == 0) {
      const std::string path = addr.substr(5);
      ::unlink(path.c_str()); // a stale socket from a previous run would block the bind
      CCREX_TRY(util::make_dirs(util::dirname(path), 0700));
      builder.AddListeningPort(addr, grpc::InsecureServerCredentials());
    } else {
      builder.AddListeningPort(addr, grpc::InsecureServerCredentials(), &ports[i]);
    }
  }
  builder.RegisterService(srv->m_cas.get());
  builder.RegisterService(srv->m_bytestream.get());
  builder.RegisterService(srv->m_capabilities.get());
  builder.RegisterService(action_cache_service);
  builder.RegisterService(execution_service);
  builder.RegisterCallbackGenericService(srv->m_fallback.get());
  srv->m_server = builder.BuildAndStart();
  if (!srv->m_server) {
    return util::Error(util::ErrorCode::unavailable,
                       "cannot listen on " + util::join(cfg.listen, ", "));
  }
  for (size_t i = 0; i < cfg.listen.size(); ++i) {
    const std::string addr = grpc_listen_address(cfg.listen[i]);
    if (addr.rfind("unix:", 0) == 0) {
      srv->m_addresses.push_back(addr);
    } else if (ports[i] == 0) {
      return util::Error(util::ErrorCode::unavailable, "cannot listen on " + cfg.listen[i]);
    } else {
      srv->m_addresses.push_back(with_port(addr, ports[i]));
    }
  }
  CCREX_LOG_INFO("server: store " << cfg.cache_dir << ", " << cfg.workers << " workers");
  return srv;
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
}

void LocalServer::wait() {
  if (m_server) {
    m_server->Wait();
  }
}

} // namespace ccrex::server
