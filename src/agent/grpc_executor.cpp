#include "agent/grpc_executor.h"

#include "reapi/call_limiter.h"
#include "reapi/channel.h"
#include "reapi/digest.h"
#include "reapi/reconnect_gate.h"
#include "reapi/remote.h"
#include "util/logging.h"

#include <atomic>
#include <mutex>
#include <system_error>
#include <thread>

namespace ccrex::agent {
namespace {

namespace v2 = reapi::v2;

util::Error to_error(const reapi::Failure& f) {
  util::ErrorCode code = f.error.code();
  if (f.kind == reapi::FailureKind::timeout) {
    code = util::ErrorCode::deadline_exceeded;
  } else if (f.kind == reapi::FailureKind::unavailable) {
    code = util::ErrorCode::unavailable;
  }
  return {code, f.to_string()};
}

// Ask for stdout, stderr and the contents of `paths` inline: a small result then needs no
// read after GetActionResult or Execute.
reapi::InlineOptions inline_request(const std::vector<std::string>& paths) {
  reapi::InlineOptions out;
  out.inline_stdout = true;
  out.inline_stderr = true;
  out.inline_output_files = paths;
  return out;
}

// How long a probe waits for the channel to start connecting again.
constexpr auto k_reconnect_wait = std::chrono::seconds(1);

// Calls of one executor: the engine's reachability, shared by every compile, and a slot
// among the calls it may have in flight. `slot` is declared last, so it is released first.
struct Admission {
  reapi::ReconnectGate::Pass pass;
  reapi::CallLimiter::Slot slot;
};

class GrpcExecutor final : public Executor {
public:
  GrpcExecutor(const std::shared_ptr<grpc::Channel>& channel,
               reapi::CallSettings settings,
               std::chrono::seconds execution_timeout,
               bool same_path,
               size_t max_calls)
      : m_channel(channel),
        m_slot_wait(settings.call_timeout.count() > 0
                        ? settings.call_timeout
                        : std::chrono::milliseconds(execution_timeout)),
        m_remote(channel, std::move(settings)),
        m_calls(max_calls),
        m_execution_timeout(execution_timeout),
        m_same_path(same_path) {}

  util::Result<reapi::ServerInfo> capabilities() override {
    if (m_known.load()) {
      // Read once per channel: no call, but no compile is sent while the engine is down.
      if (m_gate.refusing()) {
        return util::Error(util::ErrorCode::unavailable,
                           "engine unreachable a moment ago; not trying yet");
      }
      return m_remote.server_info();
    }
    CCREX_ASSIGN_OR_RETURN(auto admission, admit(nullptr));
    auto info = m_remote.server_info();
    if (!info) {
      return note(admission, to_error(reapi::failure_from_error(info.error())));
    }
    admission.pass.reachable();
    m_known = true;
    std::call_once(m_described, [&] { describe(*info); });
    return info;
  }

  util::Result<std::optional<v2::ActionResult>>
  lookup(const v2::Digest& action, const std::vector<std::string>& inline_outputs) override {
    CCREX_ASSIGN_OR_RETURN(auto admission, admit(nullptr));
    auto r = m_remote.lookup(action, inline_request(inline_outputs));
    if (!r) {
      return note(admission, to_error(r.error()));
    }
    admission.pass.reachable();
    return std::move(r).value();
  }

  util::Result<std::optional<v2::ActionResult>>
  lookup_while_uploading(const v2::Digest& action,
                         const std::vector<std::string>& inline_outputs,
                         const reapi::InputRoot& inputs) override {
    const bool misses_lately = m_hit_share.load(std::memory_order_relaxed) < k_share_one / 2;
    if (!misses_lately || !m_remote.uploads_without_asking(inputs.blobs)) {
      return counted(lookup(action, inline_outputs));
    }
    // The upload's outcome is not needed here: what it sent is remembered as held, and
    // Execute's own upload_missing() sends again whatever it could not.
    std::thread upload;
    try {
      upload = std::thread([this, &inputs] {
        if (auto admission = admit(nullptr)) {
          if (auto st = m_remote.upload_missing(inputs.blobs); !st) {
            note(*admission, to_error(st.error()));
          } else {
            admission->pass.reachable();
          }
        }
      });
    } catch (const std::system_error&) {
      // No thread to be had: the lookup goes alone and Execute uploads, as when hits prevail.
    }
    auto found = counted(lookup(action, inline_outputs));
    if (upload.joinable()) {
      upload.join();
    }
    return found;
  }

  util::Result<Execution> execute(const v2::Digest& action,
                                  const reapi::InputRoot& inputs,
                                  const std::vector<std::string>& inline_outputs,
                                  const util::Cancellation* cancel) override {
    CCREX_ASSIGN_OR_RETURN(auto admission, admit(cancel));
    reapi::ActionInputs ai{action, inputs.blobs, inputs.directories};
    reapi::ExecuteOptions opts;
    opts.deadline =
        std::chrono::system_clock::now() + m_execution_timeout + std::chrono::seconds(30);
    opts.stream_timeout = std::chrono::seconds(60);
    opts.inline_outputs = inline_request(inline_outputs);
    reapi::CancelToken token;
    opts.cancel = &token;
    const auto subscription = cancel != nullptr ? cancel->subscribe([&token] { token.cancel(); })
                                                : util::Cancellation::Subscription();
    auto r = reapi::upload_and_execute(m_remote, ai, opts);
    if (!r) {
      return note(admission, to_error(r.error()));
    }
    admission.pass.reachable();
    const auto& resp = r->response;
    if (resp.status().code() != 0) {
      const auto code = resp.status().code() == grpc::StatusCode::DEADLINE_EXCEEDED
                            ? util::ErrorCode::deadline_exceeded
                            : util::ErrorCode::failed_precondition;
      return util::Error(code, "execution failed: " + resp.status().message());
    }
    if (!resp.has_result()) {
      return util::Error(util::ErrorCode::data_loss, "execution returned no result");
    }
    return Execution{resp.result(), resp.cached_result()};
  }

  bool holds_inputs(const reapi::InputRoot& inputs) const override {
    return m_remote.holds_all(inputs.blobs);
  }

  util::Result<std::string> fetch(const v2::Digest& digest) override {
    CCREX_ASSIGN_OR_RETURN(auto admission, admit(nullptr));
    auto r = m_remote.read_blob(digest);
    if (!r) {
      return note(admission, to_error(r.error()));
    }
    admission.pass.reachable();
    return std::move(r).value();
  }

  util::Result<std::map<std::string, std::string>>
  fetch_all(const std::vector<v2::Digest>& digests) override {
    CCREX_ASSIGN_OR_RETURN(auto admission, admit(nullptr));
    auto r = m_remote.read_blobs(digests);
    if (!r) {
      return note(admission, to_error(r.error()));
    }
    admission.pass.reachable();
    return std::move(r).value();
  }

  util::Status update(const v2::Digest& action,
                      const v2::ActionResult& result,
                      const reapi::BlobMap& blobs) override {
    CCREX_ASSIGN_OR_RETURN(auto admission, admit(nullptr));
    if (auto st = m_remote.upload_missing(blobs); !st) {
      return note(admission, to_error(st.error()));
    }
    if (auto st = m_remote.update_action_result(action, result); !st) {
      return note(admission, to_error(st.error()));
    }
    admission.pass.reachable();
    return {};
  }

  bool stages_at_same_path() const override { return m_same_path; }

private:
  // Say once, in the agent's log, what the engine is and what that means for compiles.
  static void describe(const reapi::ServerInfo& info) {
    if (info.incompatible != reapi::Incompatibility::none) {
      CCREX_LOG_WARN("engine not used, every compile runs locally: " << info.incompatible_detail);
      return;
    }
    CCREX_LOG_INFO("engine speaks REAPI " << reapi::to_text(info.low_api) << " to "
                                          << reapi::to_text(info.high_api) << ", using "
                                          << reapi::to_text(info.chosen_api));
    if (!info.exec_enabled) {
      CCREX_LOG_WARN("engine offers no remote execution: compiles run locally, the engine is "
                     << (info.ac_update_enabled ? "a shared cache" : "a read-only cache"));
    }
  }

  // Move the share of recent lookups that hit towards `found`'s answer (a failed lookup
  // counts as a miss: Execute follows it); pass `found` through.
  template <typename Found>
  Found counted(Found found) {
    const int64_t target = found && found->has_value() ? k_share_one : 0;
    const int64_t share = m_hit_share.load(std::memory_order_relaxed);
    m_hit_share.store(share + (target - share) / 4, std::memory_order_relaxed);
    return found;
  }

  // Let one call through: refused at once while the engine is known to be unreachable
  // (except the probe the gate lets out now and then), then waiting in line for a slot.
  util::Result<Admission> admit(const util::Cancellation* cancel) {
    CCREX_ASSIGN_OR_RETURN(auto pass, m_gate.enter());
    CCREX_ASSIGN_OR_RETURN(auto slot,
                           m_calls.acquire(std::chrono::steady_clock::now() + m_slot_wait, cancel));
    if (pass.probe()) {
      reconnect_now();
    } else if (m_gate.refusing()) {
      // The engine was lost while this call waited: do not try it again.
      return util::Error(util::ErrorCode::unavailable,
                         "engine unreachable a moment ago; not trying yet");
    }
    return Admission{std::move(pass), std::move(slot)};
  }
  // Make the probe a real connection attempt: gRPC's own backoff may still hold the
  // channel in its failure state, where a call fails without trying. The gate has already
  // spaced the probes out, so no other backoff applies on top.
  void reconnect_now() {
    grpc::experimental::ChannelResetConnectionBackoff(m_channel.get());
    const auto state = m_channel->GetState(true);
    if (state == GRPC_CHANNEL_TRANSIENT_FAILURE) {
      m_channel->WaitForStateChange(state, std::chrono::system_clock::now() + k_reconnect_wait);
    }
  }
  // Tell the gate what `e` says about the engine; pass `e` through. A timeout or a
  // cancelled call says nothing either way.
  static util::Error note(Admission& admission, util::Error e) {
    if (e.code() == util::ErrorCode::unavailable) {
      admission.pass.unreachable();
    } else if (e.code() != util::ErrorCode::deadline_exceeded
               && e.code() != util::ErrorCode::cancelled) {
      admission.pass.reachable();
    }
    return e;
  }

  std::shared_ptr<grpc::Channel> m_channel;
  std::chrono::milliseconds m_slot_wait;
  reapi::GrpcRemoteExecutor m_remote;
  reapi::ReconnectGate m_gate;
  reapi::CallLimiter m_calls;
  std::atomic<bool> m_known{false}; // the engine's capabilities were read
  // Share of recent lookups (lookup_while_uploading) that were hits, out of k_share_one, a
  // moving average that gives the latest a quarter of the weight. While most recent
  // lookups missed, small uploads go out with the lookup; while most hit, they wait for
  // its answer, so a warm cache costs no upload. It starts as if all had hit. Updated
  // without a lock: a lost update only delays the switch by one compile.
  static constexpr int64_t k_share_one = 1024;
  std::atomic<int64_t> m_hit_share{k_share_one};
  std::once_flag m_described;
  std::chrono::seconds m_execution_timeout;
  bool m_same_path;
};

reapi::CallSettings settings_for(const Config& config) {
  reapi::CallSettings s;
  s.instance_name = config.instance;
  s.tool_version = "0.1.0";
  s.retry.max_attempts = 1 + config.retries;
  s.call_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(config.rpc_timeout);
  for (const auto& h : config.headers) {
    const size_t eq = h.find('=');
    std::string name = h.substr(0, eq);
    for (auto& c : name) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    s.headers.emplace_back(name, h.substr(eq + 1));
  }
  if (!config.access_token.empty()) {
    s.set_bearer_token(config.access_token);
  }
  return s;
}

} // namespace

std::unique_ptr<Executor> make_embedded_executor(const std::shared_ptr<grpc::Channel>& channel,
                                                 const Config& config) {
  // The embedded server is in the process: nothing to wait for or reconnect to.
  return std::make_unique<GrpcExecutor>(
      channel, settings_for(config), config.execution_timeout, true, 0);
}

util::Result<std::unique_ptr<Executor>> make_remote_executor(const Config& config) {
  reapi::ChannelOptions co;
  co.endpoint = config.remote;
  co.ca_file = config.tls_ca_file;
  co.client_cert_file = config.tls_client_cert;
  co.client_key_file = config.tls_client_key;
  co.carries_secrets = !config.access_token.empty() || !config.headers.empty();
  co.allow_plaintext_secrets = config.allow_plaintext_credentials;
  CCREX_ASSIGN_OR_RETURN(auto channel, reapi::make_channel(co));
  return std::unique_ptr<Executor>(
      std::make_unique<GrpcExecutor>(channel,
                                     settings_for(config),
                                     config.execution_timeout,
                                     config.same_path == "true",
                                     static_cast<size_t>(config.max_remote_calls)));
}

} // namespace ccrex::agent
