#include "server/unimplemented_service.h"

#include "util/logging.h"

#include <grpcpp/grpcpp.h>

namespace ccrex::server {

// One unhandled call: requested from the server, then answered.
struct UnimplementedService::Call {
  grpc::GenericServerContext context;
  grpc::GenericServerAsyncReaderWriter stream{&context};
  bool answered = false; // the Finish is under way: its completion ends the call
};

UnimplementedService::UnimplementedService(grpc::ServerBuilder& builder)
    : m_queue(builder.AddCompletionQueue(/*is_frequently_polled=*/false)) {
  builder.RegisterAsyncGenericService(&m_service);
}

UnimplementedService::~UnimplementedService() {
  stop();
}

void UnimplementedService::start() {
  request_next();
  m_thread = std::thread([this] { serve(); });
}

void UnimplementedService::stop() {
  {
    const std::lock_guard lock(m_mutex);
    if (m_stopping) {
      return;
    }
    m_stopping = true;
  }
  m_queue->Shutdown();
  if (m_thread.joinable()) {
    m_thread.join();
    return;
  }
  void* tag = nullptr;
  bool ok = false;
  while (m_queue->Next(&tag, &ok)) {
    delete static_cast<Call*>(tag); // NOLINT(cppcoreguidelines-owning-memory): the tag owns
  }
}

void UnimplementedService::request_next() {
  const std::lock_guard lock(m_mutex);
  if (m_stopping) {
    return;
  }
  auto* call = new Call; // NOLINT(cppcoreguidelines-owning-memory): freed when it completes
  m_service.RequestCall(&call->context, &call->stream, m_queue.get(), m_queue.get(), call);
}

void UnimplementedService::serve() {
  void* tag = nullptr;
  bool ok = false;
  while (m_queue->Next(&tag, &ok)) {
    std::unique_ptr<Call> call(static_cast<Call*>(tag));
    if (call->answered || !ok) {
      continue; // answered, or the server is shutting down
    }
    request_next();
    const std::string& method = call->context.method();
    CCREX_LOG_INFO("server: call to unimplemented method " << method);
    const grpc::Status status(grpc::StatusCode::UNIMPLEMENTED,
                              "ccrex-server does not implement "
                                  + (method.empty() ? std::string("this method") : method));
    const std::lock_guard lock(m_mutex);
    if (!m_stopping) {
      call->answered = true;
      call->stream.Finish(status, call.release());
    }
  }
}

} // namespace ccrex::server
