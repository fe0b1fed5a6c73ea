#pragma once

// CallSettings: what every REAPI call of one client process carries — the instance name,
// extra headers (authorization), the RequestMetadata header and the retry policy.
//
// Thread safety: immutable after construction; apply() is const and thread-safe.

#include "reapi/proto.h"
#include "reapi/retrier.h"

#include <grpcpp/client_context.h>

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ccrex::reapi {

// Name of the binary RequestMetadata header (REAPI §1.3).
inline constexpr std::string_view k_request_metadata_header =
    "build.bazel.remote.execution.v2.requestmetadata-bin";

struct CallSettings {
  // REAPI instance name; empty for the default instance.
  std::string instance_name;
  // Extra headers sent on every call, e.g. {"authorization", "Bearer <token>"}. Keys must be
  // lowercase (gRPC rejects others).
  std::vector<std::pair<std::string, std::string>> headers;
  // RequestMetadata: tool name is always "ccrex"; `tool_invocation_id` groups the calls of
  // one compile; `action_mnemonic` describes the work.
  std::string tool_version;
  std::string tool_invocation_id;
  std::string action_mnemonic = "CppCompile";
  // Retries of unary calls and of streams that broke.
  RetryPolicy retry;
  RetryEnv retry_env = RetryEnv::system();
  // Deadline of each unary attempt; zero means none. Streams use their own deadlines.
  std::chrono::milliseconds call_timeout{60000};

  // Add `headers` and a RequestMetadata naming `action_id` (may be empty) to `ctx`.
  void apply(grpc::ClientContext& ctx, std::string_view action_id = {}) const;

  // Return a Retrier for one unary call (policy with call_timeout per attempt).
  Retrier unary_retrier() const;

  // Add `Authorization: Bearer <token>` to `headers`.
  void set_bearer_token(std::string_view token);
};

// Return a RequestMetadata for `settings` and `action_id`.
v2::RequestMetadata make_request_metadata(const CallSettings& settings, std::string_view action_id);

// Return a random RFC 4122 version-4 UUID ("3f2504e0-4f89-41d3-9a0c-0305e82c3301").
std::string random_uuid();

} // namespace ccrex::reapi
