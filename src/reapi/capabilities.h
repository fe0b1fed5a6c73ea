#pragma once

// Server capabilities, fetched once per channel and checked against what this client needs:
// SHA-256 digests and an API version range that includes ours (2.0 to 2.2). A server that
// lacks either is remembered as incompatible (not asked again) and says why.
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
#include <string>

namespace ccrex::reapi {

struct ApiVersion {
  int major = 0;
  int minor = 0;
  auto operator<=>(const ApiVersion&) const = default;
};

// Which Command fields name the outputs. REAPI 2.1 replaced output_files/output_directories
// with output_paths; a server whose range still includes 2.0 may read either, so both are
// filled for it (the spec's advice), a 2.0-only server only knows the old fields and a
// server from 2.1 on may read only output_paths.
enum class OutputFields { legacy, paths, both };

// Why a server cannot be used at all.
enum class Incompatibility { none, api_version, digest_function };

struct ServerInfo {
  // Not none: the server cannot be used; `incompatible_detail` says why in one line.
  Incompatibility incompatible = Incompatibility::none;
  std::string incompatible_detail;
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
  // Whether blobs may travel compressed with zstd through ByteStream: the server lists
  // ZSTD among supported_compressors and `chosen_api` is 2.1 or later (a 2.0 server never
  // gets compressed resource names).
  bool zstd_blobs = false;
  // How to fill Command outputs for `chosen_api` and the server's low end.
  OutputFields output_fields = OutputFields::both;
};

// The API range this client implements.
inline constexpr ApiVersion k_client_low_api{2, 0};
inline constexpr ApiVersion k_client_high_api{2, 2};

// Summarise `caps`. A server without SHA-256 among its cache digest functions, or with no
// API version in common with ours, is marked incompatible.
ServerInfo check_capabilities(const v2::ServerCapabilities& caps);

// Return "2.1".
std::string to_text(ApiVersion v);

class CapabilitiesClient {
public:
  CapabilitiesClient(std::shared_ptr<v2::Capabilities::StubInterface> stub,
                     std::shared_ptr<const CallSettings> settings);
  static std::unique_ptr<CapabilitiesClient> create(const std::shared_ptr<grpc::Channel>& channel,
                                                    std::shared_ptr<const CallSettings> settings);

  // Return the checked capabilities, fetching them on the first successful call (an
  // incompatible server's answer is kept too: it will not change while the channel lives).
  util::Result<ServerInfo> get();

private:
  std::shared_ptr<v2::Capabilities::StubInterface> m_stub;
  std::shared_ptr<const CallSettings> m_settings;
  std::mutex m_mutex;
  std::optional<ServerInfo> m_info;
};

} // namespace ccrex::reapi
