#pragma once

// Executors over REAPI gRPC: the embedded server (an in-process channel to the agent's own
// LocalServer) and a remote engine (from the configuration's endpoint, TLS and headers).

#include "agent/backend.h"
#include "agent/config.h"

#include <grpcpp/channel.h>

#include <memory>

namespace ccrex::agent {

// Executor on the embedded server reached through `channel`; it stages at the same path.
std::unique_ptr<Executor> make_embedded_executor(const std::shared_ptr<grpc::Channel>& channel,
                                                 const Config& config);

// Executor on the engine named by `config.remote`.
util::Result<std::unique_ptr<Executor>> make_remote_executor(const Config& config);

} // namespace ccrex::agent
