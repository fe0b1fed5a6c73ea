#pragma once

// Server capabilities, fetched once per process and checked against what this client needs:
// SHA-256 digests and an API version range that includes ours (2.0 to 2.2).
//
// Thread safety: CapabilitiesClient::get() is thread-safe (the first call fetches, others
// wait for it and share the result); ServerInfo is a plain value.

#include "reapi/call_settings.h"
#include "reapi/proto.h"
#include "util/result.h"

#include <grpcpp/channel.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>

namespace ccrex::reapi {

struct ApiVersion {
  int major = 0;
  int minor = 0;
  auto operator<=>(const ApiVersion&) const = default;
};

struct ServerInfo {
  // max_batch_total_size_bytes of the cache capabilities; 0 = no limit announced.
  int64_t max_batch_total_size_bytes = 0;
  // Announced API range (low may be lowered to deprecated, which still works).
  ApiVersion low_api;
  ApiVersion high_api;
  // The version this client speaks with the server: the highest in both ranges.
  ApiVersion chosen_api;
  // Whether the server offers remote execution (with SHA-256).
  bool exec_enabled = false;
  // Whether the server accepts UpdateActionResult from clients.
  bool ac_update_enabled = false;
};

// The API range this client implements.
inline constexpr ApiVersion k_client_low_api{2, 0};
inline constexpr ApiVersion k_client_high_api{2, 2};

// Check `caps` and summarise it. Errors: no SHA-256 among the cache digest functions, or no
// API version in common.
util::Result<ServerInfo> check_capabilities(const v2::ServerCapabilities& caps);

class CapabilitiesClient {
public:
  CapabilitiesClient(std::shared_ptr<v2::Capabilities::StubInterface> stub,
                     std::shared_ptr<const CallSettings> settings);
  static std::unique_ptr<CapabilitiesClient> create(const std::shared_ptr<grpc::Channel>& channel,
                                                    std::shared_ptr<const CallSettings> settings);

  // Return the checked capabilities, fetching them on the first successful call.
  util::Result<ServerInfo> get();

private:
  std::shared_ptr<v2::Capabilities::StubInterface> m_stub;
  std::shared_ptr<const CallSettings> m_settings;
  std::mutex m_mutex;
  std::optional<ServerInfo> m_info;
};

} // namespace ccrex::reapi
