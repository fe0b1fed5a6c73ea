#include "reapi/action_cache_client.h"

#include "reapi/digest.h"

namespace ccrex::reapi {

ActionCacheClient::ActionCacheClient(std::shared_ptr<v2::ActionCache::StubInterface> stub,
                                     std::shared_ptr<const CallSettings> settings)
    : m_stub(std::move(stub)),
      m_settings(std::move(settings)) {}

std::unique_ptr<ActionCacheClient>
ActionCacheClient::create(const std::shared_ptr<grpc::Channel>& channel,
                          std::shared_ptr<const CallSettings> settings) {
  return std::make_unique<ActionCacheClient>(v2::ActionCache::NewStub(channel),
                                             std::move(settings));
}

util::Result<std::optional<v2::ActionResult>>
ActionCacheClient::get(const v2::Digest& action, const InlineOptions& inline_options) const {
  v2::GetActionResultRequest req;
  req.set_instance_name(m_settings->instance_name);
  *req.mutable_action_digest() = action;
  req.set_inline_stdout(inline_options.inline_stdout);
  req.set_inline_stderr(inline_options.inline_stderr);
  for (const auto& path : inline_options.inline_output_files) {
    req.add_inline_output_files(path);
  }
  v2::ActionResult result;
  auto retrier = m_settings->unary_retrier();
  const auto st =
      retrier.run([&](grpc::ClientContext& ctx) { m_settings->apply(ctx, action.hash()); },
                  [&](grpc::ClientContext& ctx) {
                    result.Clear();
                    return m_stub->GetActionResult(&ctx, req, &result);
                  });
  if (st.error_code() == grpc::StatusCode::NOT_FOUND) {
    return std::optional<v2::ActionResult>();
  }
  if (!st.ok()) {
    return from_grpc(st).with_context("GetActionResult " + to_string(action));
  }
  return std::optional<v2::ActionResult>(std::move(result));
}

util::Status ActionCacheClient::update(const v2::Digest& action,
                                       const v2::ActionResult& result) const {
  v2::UpdateActionResultRequest req;
  req.set_instance_name(m_settings->instance_name);
  *req.mutable_action_digest() = action;
  *req.mutable_action_result() = result;
  v2::ActionResult stored;
  auto retrier = m_settings->unary_retrier();
  const auto st = retrier.run(
      [&](grpc::ClientContext& ctx) { m_settings->apply(ctx, action.hash()); },
      [&](grpc::ClientContext& ctx) { return m_stub->UpdateActionResult(&ctx, req, &stored); });
  if (!st.ok()) {
    return from_grpc(st).with_context("UpdateActionResult " + to_string(action));
  }
  return {};
}

} // namespace ccrex::reapi
