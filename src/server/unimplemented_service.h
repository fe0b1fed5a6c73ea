#pragma once

// The answer to every call no registered service handles (an unregistered service such as
// google.longrunning.Operations, or a method newer than the packaged protos): UNIMPLEMENTED
// with a message naming the method, never gRPC's default empty message, which some clients
// misread as success. Each such call is also logged.
//
// Why this is an asynchronous generic service with a thread of its own, not a callback one:
// registering any callback service (gRPC 1.51 as Debian 12 ships it, on Linux's default
// poller, and any gRPC whose callback queue is not backed by its event engine) turns the
// whole server into a "hybrid" one, whose synchronous services stop polling their own
// queues and depend on gRPC's shared callback threads. Those threads wait at most one
// second for work and then sleep 100 ms; while all of them sleep, a call that arrives
// waits, so a few percent of all calls took up to 100 ms more. Here the generic calls come
// to a completion queue that takes no part in the server's polling (ServerBuilder's
// `is_frequently_polled` false), served by one thread, and the services keep their own
// pollers (ServerThreads.NoCallbackThreads checks that no callback thread exists).
//
//   UnimplementedService fallback(builder);   // before BuildAndStart
//   auto server = builder.BuildAndStart();
//   fallback.start();
//   ...
//   server->Shutdown(deadline);
//   fallback.stop();                          // after Shutdown, before the server is freed
//
// Thread safety: construct, start() and stop() from one thread.

#include <grpcpp/generic/async_generic_service.h>

#include <memory>
#include <mutex>
#include <thread>

namespace grpc {
class ServerBuilder;
class ServerCompletionQueue;
} // namespace grpc

namespace ccrex::server {

class UnimplementedService {
public:
  // Register with `builder` (its own completion queue and the generic service).
  explicit UnimplementedService(grpc::ServerBuilder& builder);
  // stop().
  ~UnimplementedService();
  UnimplementedService(const UnimplementedService&) = delete;
  UnimplementedService& operator=(const UnimplementedService&) = delete;

  // Start answering. Only after the server was built and started.
  void start();
  // Stop answering and wait for the thread. Only after the server's Shutdown(). Idempotent.
  void stop();

private:
  struct Call;
  // Ask the server for the next unhandled call, unless stopping.
  void request_next();
  void serve();

  grpc::AsyncGenericService m_service;
  std::unique_ptr<grpc::ServerCompletionQueue> m_queue;
  std::mutex m_mutex;      // orders new operations against stop()
  bool m_stopping = false; // guarded by m_mutex
  std::thread m_thread;
};

} // namespace ccrex::server
