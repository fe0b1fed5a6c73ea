#include "reapi/call_settings.h"

#include <cstdio>
#include <random>

namespace ccrex::reapi {

v2::RequestMetadata make_request_metadata(const CallSettings& settings,
                                          std::string_view action_id) {
  v2::RequestMetadata md;
  md.mutable_tool_details()->set_tool_name("ccrex");
  md.mutable_tool_details()->set_tool_version(
      settings.tool_version.empty() ? CCREX_VERSION_STRING : settings.tool_version);
  md.set_action_id(std::string(action_id));
  md.set_tool_invocation_id(settings.tool_invocation_id);
  md.set_action_mnemonic(settings.action_mnemonic);
  return md;
}

void CallSettings::apply(grpc::ClientContext& ctx, std::string_view action_id) const {
  for (const auto& [key, value] : headers) {
    ctx.AddMetadata(key, value);
  }
  ctx.AddMetadata(std::string(k_request_metadata_header),
                  make_request_metadata(*this, action_id).SerializeAsString());
}

Retrier CallSettings::unary_retrier() const {
  RetryPolicy policy = retry;
  if (policy.attempt_timeout.count() == 0) {
    policy.attempt_timeout = call_timeout;
  }
  return Retrier(policy, retry_env);
}

void CallSettings::set_bearer_token(std::string_view token) {
  headers.emplace_back("authorization", "Bearer " + std::string(token));
}

std::string random_uuid() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  const uint64_t hi = (rng() & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  const uint64_t lo = (rng() & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  char buf[37];
  std::snprintf(buf,
                sizeof buf,
                "%08x-%04x-%04x-%04x-%012llx",
                static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff),
                static_cast<unsigned>(hi & 0xffff),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return buf;
}

} // namespace ccrex::reapi
