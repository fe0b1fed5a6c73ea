#include "reapi/capabilities.h"

#include "reapi/compression.h"
#include "reapi/digest.h"

#include <algorithm>

namespace ccrex::reapi {
namespace {

ApiVersion to_version(const build::bazel::semver::SemVer& v) {
  return {v.major(), v.minor()};
}

bool offers_sha256(const google::protobuf::RepeatedField<int>& functions) {
  return std::find(functions.begin(), functions.end(), v2::DigestFunction::SHA256)
         != functions.end();
}

OutputFields output_fields_for(ApiVersion low, ApiVersion chosen) {
  if (chosen < ApiVersion{2, 1}) {
    return OutputFields::legacy;
  }
  return low < ApiVersion{2, 1} ? OutputFields::both : OutputFields::paths;
}

} // namespace

std::string to_text(ApiVersion v) {
  return std::to_string(v.major) + "." + std::to_string(v.minor);
}

ServerInfo check_capabilities(const v2::ServerCapabilities& caps) {
  ServerInfo info;
  const auto& cache = caps.cache_capabilities();
  // An empty list comes from servers predating the field; SHA-256 was the only choice then.
  if (cache.digest_function_size() > 0 && !offers_sha256(cache.digest_function())) {
    info.incompatible = Incompatibility::digest_function;
    info.incompatible_detail = "the engine's CAS does not offer SHA-256 digests, which ccrex "
                               "requires";
    return info;
  }
  info.max_batch_total_size_bytes = std::max<int64_t>(cache.max_batch_total_size_bytes(), 0);
  info.ac_update_enabled = cache.action_cache_update_capabilities().update_enabled();
  const auto& exec = caps.execution_capabilities();
  const auto exec_function = exec.digest_function();
  info.exec_enabled = exec.exec_enabled()
                      && (exec_function == v2::DigestFunction::SHA256
                          || exec_function == v2::DigestFunction::UNKNOWN);
  info.high_api = to_version(caps.high_api_version());
  info.low_api = to_version(caps.low_api_version());
  if (caps.has_deprecated_api_version()) {
    info.low_api = std::min(info.low_api, to_version(caps.deprecated_api_version()));
  }
  if (!caps.has_high_api_version() && !caps.has_low_api_version()) {
    // Very old servers announce nothing; assume the 2.0 baseline.
    info.low_api = info.high_api = {2, 0};
  }
  const ApiVersion low = std::max(info.low_api, k_client_low_api);
  const ApiVersion high = std::min(info.high_api, k_client_high_api);
  if (low > high) {
    info.incompatible = Incompatibility::api_version;
    info.incompatible_detail = "the engine speaks REAPI " + to_text(info.low_api) + " to "
                               + to_text(info.high_api) + ", ccrex speaks "
                               + to_text(k_client_low_api) + " to " + to_text(k_client_high_api);
    return info;
  }
  info.chosen_api = high;
  info.output_fields = output_fields_for(low, high);
  const auto compressors = supported_compressors(cache);
  info.zstd_blobs =
      high >= ApiVersion{2, 1}
      && std::find(compressors.begin(), compressors.end(), static_cast<int>(Compressor::zstd))
             != compressors.end();
  return info;
}

CapabilitiesClient::CapabilitiesClient(std::shared_ptr<v2::Capabilities::StubInterface> stub,
                                       std::shared_ptr<const CallSettings> settings)
    : m_stub(std::move(stub)),
      m_settings(std::move(settings)) {}

std::unique_ptr<CapabilitiesClient>
CapabilitiesClient::create(const std::shared_ptr<grpc::Channel>& channel,
                           std::shared_ptr<const CallSettings> settings) {
  return std::make_unique<CapabilitiesClient>(v2::Capabilities::NewStub(channel),
                                              std::move(settings));
}

util::Result<ServerInfo> CapabilitiesClient::get() {
  std::lock_guard lock(m_mutex);
  if (m_info) {
    return *m_info;
  }
  v2::GetCapabilitiesRequest req;
  req.set_instance_name(m_settings->instance_name);
  v2::ServerCapabilities caps;
  auto retrier = m_settings->unary_retrier();
  const auto st = retrier.run([&](grpc::ClientContext& ctx) { m_settings->apply(ctx); },
                              [&](grpc::ClientContext& ctx) {
                                caps.Clear();
                                return m_stub->GetCapabilities(&ctx, req, &caps);
                              });
  if (!st.ok()) {
    return from_grpc(st).with_context("GetCapabilities");
  }
  m_info = check_capabilities(caps);
  return *m_info;
}

} // namespace ccrex::reapi
