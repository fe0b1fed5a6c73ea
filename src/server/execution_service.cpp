#include "server/execution_service.h"

#include "reapi/digest.h"
#include "reapi/execute_inline.h"
#include "server/action_runner.h"
#include "server/action_tmpdir.h"
#include "server/admission.h"
#include "server/grpc_util.h"
#include "server/platform.h"
#include "server/result_inlining.h"
#include "server/staging.h"
#include "server/tree_validation.h"
#include "util/file.h"
#include "util/logging.h"
#include "util/worker_pool.h"

#include <google/protobuf/util/time_util.h>

#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <exception>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>

namespace ccrex::server {
namespace {

using google::longrunning::Operation;
using reapi::v2::ExecuteResponse;
using Stage = reapi::v2::ExecutionStage;
using SteadyClock = std::chrono::steady_clock;

// How often a waiting stream checks for a client that went away.
constexpr auto k_poll_interval = std::chrono::milliseconds(200);
constexpr uint64_t k_never_sent = std::numeric_limits<uint64_t>::max();

// State of one execution, shared by the streams that watch it and the worker running it.
// Every field is guarded by Impl::m_mutex.
struct OperationState {
  std::string name;
  reapi::v2::Digest action_digest;
  Stage::Value stage = Stage::QUEUED;
  bool done = false;
  ExecuteResponse response;
  uint64_t version = 0; // bumped on every change
  // Key under which identical requests join this execution while it runs; empty if none.
  std::string merge_key;
  SteadyClock::time_point finished_at;
  // Streams (Execute and WaitExecution) watching the operation now; when the last one goes,
  // `unwatched` is set with the time, and the janitor cancels the operation after the grace.
  int watchers = 0;
  bool unwatched = false;
  SteadyClock::time_point unwatched_since;
  // Set (once) to stop the action: it is dropped while queued and killed while running.
  // Read by the runner without the mutex.
  std::atomic<bool> cancel{false};
  std::atomic<bool> abandoned{false};
  // The queue slot of a queued action (admission.h); released when it starts or is dropped.
  std::shared_ptr<AdmissionTicket> ticket;
};

// 128 random bits from the kernel's CSPRNG as 32 hex digits.
// Without randomness a name could be guessed: then there is no name (and no operation).
util::Result<std::string> random_operation_id() {
  std::array<unsigned char, 16> bytes{};
  size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = ::getrandom(bytes.data() + got, bytes.size() - got, 0);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return util::errno_error("getrandom", n < 0 ? errno : EIO);
    }
    got += static_cast<size_t>(n);
  }
  static constexpr std::string_view k_hex = "0123456789abcdef";
  std::string out;
  out.reserve(2 * bytes.size());
  for (const unsigned char b : bytes) {
    out += k_hex[b >> 4];
    out += k_hex[b & 0xf];
  }
  return out;
}

// The instance an operation name "[{instance}/]operations/{id}" belongs to.
std::string instance_of_operation(const std::string& name) {
  const size_t at = name.rfind("operations/");
  if (at == std::string::npos || at == 0) {
    return {};
  }
  return name.substr(0, at - 1);
}

std::string short_digest(const reapi::v2::Digest& d) {
  return d.hash().substr(0, 12) + "/" + std::to_string(d.size_bytes());
}

std::string host_name() {
  std::array<char, 256> buf{};
  if (::gethostname(buf.data(), buf.size() - 1) != 0) {
    return "localhost";
  }
  return buf.data();
}

grpc::Status rejection_status(const ActionRejection& r) {
  const auto code = reapi::to_grpc(util::Error(r.code, r.message)).error_code();
  if (r.missing.empty()) {
    return {code, r.message};
  }
  return {code,
          r.message,
          make_rpc_status(static_cast<int>(code), r.message, r.missing).SerializeAsString()};
}

std::string describe_outcome(const ExecuteResponse& resp) {
  if (resp.status().code() != 0) {
    return "failed: " + resp.status().message();
  }
  return std::string(resp.cached_result() ? "cache hit, " : "") + "exit "
         + std::to_string(resp.result().exit_code());
}

} // namespace

struct ExecutionService::Impl {
  Impl(const Config& cfg, BlobStore& blob_store, ActionCache& action_cache, Metrics& metrics);

  grpc::Status execute(grpc::ServerContext* ctx,
                       const reapi::v2::ExecuteRequest& req,
                       grpc::ServerWriter<Operation>* writer);
  grpc::Status
  wait(grpc::ServerContext* ctx, const std::string& name, grpc::ServerWriter<Operation>* writer);
  void shutdown();
  const Sandbox& sandbox() const { return m_runner.sandbox(); }

private:
  // Create and register an operation named with `id`; with `mergeable`, return the running
  // operation for the same action and instance instead if there is one (second member true).
  std::pair<std::shared_ptr<OperationState>, bool> create_operation(const std::string& instance,
                                                                    const reapi::v2::Digest& digest,
                                                                    const std::string& id,
                                                                    Stage::Value stage,
                                                                    bool mergeable);
  void set_stage(OperationState& op, Stage::Value stage);
  void complete(OperationState& op, ExecuteResponse response);
  Operation snapshot_locked(const OperationState& op) const;
  void purge_expired_locked();
  // Send `op` on `writer` as it changes until it is done; its final response carries the
  // outputs `inline_wanted` asks for inline (this stream's own request's hints).
  grpc::Status stream(grpc::ServerContext* ctx,
                      grpc::ServerWriter<Operation>* writer,
                      OperationState& op,
                      uint64_t sent_version,
                      const reapi::InlineOptions& inline_wanted);
  grpc::Status stream_watched(grpc::ServerContext* ctx,
                              grpc::ServerWriter<Operation>* writer,
                              OperationState& op,
                              uint64_t sent_version,
                              const reapi::InlineOptions& inline_wanted = {});
  // Cancel operations nobody has watched for config.abandoned_grace; runs until shutdown.
  void janitor();
  void abandon_locked(OperationState& op);
  bool try_cache(const std::string& instance, OperationState& op);
  void run_job(const std::shared_ptr<OperationState>& op,
               const std::shared_ptr<const PreparedAction>& action,
               const std::string& instance,
               const google::protobuf::Timestamp& queued,
               size_t worker);

  Config m_config;
  BlobStore& m_store;
  ActionCache& m_cache;
  Metrics& m_metrics;
  const std::string m_host;
  ActionRunner m_runner;
  std::atomic<bool> m_stopping{false};
  std::mutex m_mutex;
  std::condition_variable m_changed;
  std::unordered_map<std::string, std::shared_ptr<OperationState>> m_operations; // m_mutex
  // Running mergeable operations by instance + action digest; guarded by m_mutex.
  std::unordered_map<std::string, std::shared_ptr<OperationState>> m_in_flight;
  Admission m_admission;
  // Threads start as actions need them, up to the configured worker count, and end after
  // an idle spell: an idle server keeps none. Queued actions start in arrival order; at
  // shutdown the queued ones run, find the service stopping and end as dropped.
  util::WorkerPool m_pool; // its threads use the members above
  std::thread m_janitor;   // last, for the same reason
};

ExecutionService::Impl::Impl(const Config& cfg,
                             BlobStore& blob_store,
                             ActionCache& action_cache,
                             Metrics& metrics)
    : m_config(cfg),
      m_store(blob_store),
      m_cache(action_cache),
      m_metrics(metrics),
      m_host(host_name()),
      m_runner(blob_store,
               {util::join_path(cfg.cache_dir, "work"),
                m_host,
                true, // hard links only where the action cannot change them (staging.h)
                cfg.cache_dir,
                cfg.max_input_entries,
                cfg.sandbox,
                {.dir = util::join_path(cfg.cache_dir, "trees"), .max_bytes = cfg.tree_cache_size},
                cfg.max_output_size,
                cfg.tmp_dir.empty() ? default_tmp_root() : cfg.tmp_dir}),
      m_admission(cfg.max_queued, cfg.max_queued_per_client),
      m_pool({.max_threads = cfg.workers > 0
                                 ? static_cast<size_t>(cfg.workers)
                                 : std::max<size_t>(1, std::thread::hardware_concurrency())}),
      m_janitor([this] { janitor(); }) {
  if (m_config.platform.empty()) {
    m_config.platform = host_platform();
  }
  add_sandbox_offer(m_config.platform,
                    m_runner.sandbox().supports(RootMode::input),
                    m_runner.sandbox().confines() && cfg.sandbox.allow_network);
  // Work directories left behind by a crash are of no use to anyone; while other processes
  // share the store, they may be theirs.
  // The same for cached input subtrees (tree_cache.h): the cap counts only what this
  // process builds, so a process with the store to itself starts from none.
  for (const auto& dir : {m_runner.options().work_root, m_runner.options().tree_cache.dir}) {
    if (auto st = blob_store.sole_user() ? remove_tree(dir) : util::Status(); !st) {
      CCREX_LOG_WARN("execution: " << st.error().message());
    }
  }
}

std::pair<std::shared_ptr<OperationState>, bool>
ExecutionService::Impl::create_operation(const std::string& instance,
                                         const reapi::v2::Digest& digest,
                                         const std::string& id,
                                         Stage::Value stage,
                                         bool mergeable) {
  const std::string key = instance + "\n" + reapi::to_string(digest);
  const std::lock_guard lock(m_mutex);
  purge_expired_locked();
  if (mergeable) {
    if (const auto it = m_in_flight.find(key); it != m_in_flight.end()) {
      return {it->second, true};
    }
  }
  auto op = std::make_shared<OperationState>();
  op->name = (instance.empty() ? "" : instance + "/") + "operations/" + id;
  op->action_digest = digest;
  op->stage = stage;
  m_operations.emplace(op->name, op);
  if (mergeable) {
    op->merge_key = key;
    m_in_flight.emplace(key, op);
  }
  return {op, false};
}

void ExecutionService::Impl::set_stage(OperationState& op, Stage::Value stage) {
  {
    const std::lock_guard lock(m_mutex);
    op.stage = stage;
    ++op.version;
  }
  m_changed.notify_all();
}

void ExecutionService::Impl::complete(OperationState& op, ExecuteResponse response) {
  {
    const std::lock_guard lock(m_mutex);
    op.response = std::move(response);
    op.stage = Stage::COMPLETED;
    op.done = true;
    op.finished_at = SteadyClock::now();
    ++op.version;
    if (!op.merge_key.empty()) {
      m_in_flight.erase(op.merge_key);
    }
  }
  m_changed.notify_all();
}

Operation ExecutionService::Impl::snapshot_locked(const OperationState& op) const {
  Operation out;
  out.set_name(op.name);
  reapi::v2::ExecuteOperationMetadata meta;
  meta.set_stage(op.stage);
  *meta.mutable_action_digest() = op.action_digest;
  out.mutable_metadata()->PackFrom(meta);
  out.set_done(op.done);
  if (op.done) {
    out.mutable_response()->PackFrom(op.response);
  }
  return out;
}

void ExecutionService::Impl::purge_expired_locked() {
  const auto now = SteadyClock::now();
  for (auto it = m_operations.begin(); it != m_operations.end();) {
    const auto& op = *it->second;
    if (op.done && now - op.finished_at > m_config.operation_retention) {
      it = m_operations.erase(it);
    } else {
      ++it;
    }
  }
}

grpc::Status ExecutionService::Impl::stream_watched(grpc::ServerContext* ctx,
                                                    grpc::ServerWriter<Operation>* writer,
                                                    OperationState& op,
                                                    uint64_t sent_version,
                                                    const reapi::InlineOptions& inline_wanted) {
  {
    const std::lock_guard lock(m_mutex);
    ++op.watchers;
    op.unwatched = false;
  }
  auto status = stream(ctx, writer, op, sent_version, inline_wanted);
  {
    const std::lock_guard lock(m_mutex);
    if (--op.watchers != 0 || op.done) {
      return status;
    }
    op.unwatched = true;
    op.unwatched_since = SteadyClock::now();
  }
  m_changed.notify_all(); // the janitor's grace starts
  return status;
}

void ExecutionService::Impl::abandon_locked(OperationState& op) {
  op.abandoned = true;
  op.cancel = true;
  if (!op.merge_key.empty()) {
    m_in_flight.erase(op.merge_key); // new requests start afresh
    op.merge_key.clear();
  }
  if (op.ticket) {
    op.ticket->release();
  }
}

void ExecutionService::Impl::janitor() {
  std::unique_lock lock(m_mutex);
  while (!m_stopping) {
    // Sleep until the first unwatched operation's grace ends, or until something changes:
    // an idle server does not wake up for nothing.
    const auto now = SteadyClock::now();
    std::optional<SteadyClock::time_point> next;
    for (auto& [name, op] : m_operations) {
      if (!op->unwatched || op->done || op->abandoned) {
        continue;
      }
      const auto due = op->unwatched_since + m_config.abandoned_grace;
      if (now >= due) {
        CCREX_LOG_INFO("execute " << short_digest(op->action_digest) << ": nobody waits for "
                                  << name << " any more, cancelling it");
        abandon_locked(*op);
      } else if (!next || due < *next) {
        next = due;
      }
    }
    if (next) {
      m_changed.wait_until(lock, *next);
    } else {
      m_changed.wait(lock);
    }
  }
}

grpc::Status ExecutionService::Impl::stream(grpc::ServerContext* ctx,
                                            grpc::ServerWriter<Operation>* writer,
                                            OperationState& op,
                                            uint64_t sent_version,
                                            const reapi::InlineOptions& inline_wanted) {
  const bool wants_inline = inline_wanted.inline_stdout || inline_wanted.inline_stderr
                            || !inline_wanted.inline_output_files.empty();
  auto last_sent = SteadyClock::now();
  std::unique_lock lock(m_mutex);
  for (;;) {
    if (op.version != sent_version
        || SteadyClock::now() - last_sent >= m_config.operation_resend_interval) {
      Operation msg = snapshot_locked(op);
      const bool done = op.done;
      std::optional<ExecuteResponse> inlined;
      if (done && wants_inline && op.response.status().code() == 0 && op.response.has_result()) {
        inlined = op.response; // the store is read without the lock
      }
      sent_version = op.version;
      lock.unlock();
      if (inlined) {
        inline_outputs(m_store, inline_wanted, *inlined->mutable_result());
        msg.mutable_response()->PackFrom(*inlined);
      }
      if (!writer->Write(msg)) {
        return {grpc::StatusCode::CANCELLED, "client went away"};
      }
      last_sent = SteadyClock::now();
      if (done) {
        return grpc::Status::OK;
      }
      lock.lock();
      continue;
    }
    if (m_stopping) {
      return {grpc::StatusCode::UNAVAILABLE, "server shutting down"};
    }
    if (ctx->IsCancelled()) {
      return {grpc::StatusCode::CANCELLED, "call cancelled by the client"};
    }
    m_changed.wait_for(lock, k_poll_interval);
  }
}

bool ExecutionService::Impl::try_cache(const std::string& instance, OperationState& op) {
  auto hit = m_cache.get(instance, op.action_digest);
  m_metrics.action_cache_lookup(instance, hit.has_value());
  if (!hit) {
    return false;
  }
  m_metrics.action_finished({.action_digest = reapi::to_string(op.action_digest),
                             .instance = instance,
                             .exit_code = hit->exit_code(),
                             .cached = true});
  ExecuteResponse resp;
  *resp.mutable_result() = std::move(*hit);
  resp.set_cached_result(true);
  CCREX_LOG_INFO("execute " << short_digest(op.action_digest) << ": cache hit, exit "
                            << resp.result().exit_code());
  complete(op, std::move(resp));
  return true;
}

grpc::Status ExecutionService::Impl::execute(grpc::ServerContext* ctx,
                                             const reapi::v2::ExecuteRequest& req,
                                             grpc::ServerWriter<Operation>* writer) {
  if (m_stopping) {
    return {grpc::StatusCode::UNAVAILABLE, "server shutting down"};
  }
  if (!req.has_action_digest()) {
    return {grpc::StatusCode::INVALID_ARGUMENT, "action_digest is missing"};
  }
  if (auto st = check_digest(req.action_digest(), "action_digest"); !st.ok()) {
    return st;
  }
  auto prepared = prepare_action(m_store, req.action_digest(), m_config);
  if (!prepared) {
    CCREX_LOG_INFO("execute " << short_digest(req.action_digest())
                              << ": rejected: " << prepared.error().message);
    return rejection_status(prepared.error());
  }
  auto action = std::make_shared<const PreparedAction>(std::move(prepared).value());
  if (const auto note =
          ignored_outputs_note(action->command, action->outputs, m_config.api_versions);
      !note.empty()) {
    CCREX_LOG_DEBUG("execute " << short_digest(req.action_digest()) << ": " << note);
  }
  const bool check_cache = !req.skip_cache_lookup() && !action->action.do_not_cache();
  // Small outputs go back in the response only when this request asked (REAPI 2.9 hints),
  // so a client that never asks sees the same ActionResult as before.
  const reapi::InlineOptions inline_wanted = reapi::execute_inline_of(req);
  // Identical requests share one execution, except when the client asked for a fresh run
  // (skip_cache_lookup) or for an unshared one (do_not_cache).
  const auto id = random_operation_id();
  if (!id) {
    return reapi::to_grpc(id.error().with_context("naming the operation"));
  }
  auto [op, merged] = create_operation(req.instance_name(),
                                       req.action_digest(),
                                       *id,
                                       check_cache ? Stage::CACHE_CHECK : Stage::QUEUED,
                                       check_cache);
  if (merged) {
    CCREX_LOG_DEBUG("execute " << short_digest(req.action_digest()) << ": joining " << op->name);
    return stream_watched(ctx, writer, *op, k_never_sent, inline_wanted);
  }
  uint64_t sent = k_never_sent;
  {
    std::unique_lock lock(m_mutex);
    const Operation first = snapshot_locked(*op);
    sent = op->version;
    lock.unlock();
    writer->Write(first); // a client gone already does not cancel the action
  }
  if (check_cache && try_cache(req.instance_name(), *op)) {
    return stream_watched(ctx, writer, *op, sent, inline_wanted);
  }
  std::string why;
  auto ticket = m_admission.admit(peer_key(*ctx, req.instance_name()), why);
  if (!ticket) {
    CCREX_LOG_INFO("execute " << short_digest(req.action_digest()) << ": refused: " << why);
    ExecuteResponse resp;
    *resp.mutable_status() = make_rpc_status(grpc::StatusCode::RESOURCE_EXHAUSTED, why);
    complete(*op, std::move(resp));
    return {grpc::StatusCode::RESOURCE_EXHAUSTED, why};
  }
  {
    const std::lock_guard lock(m_mutex);
    op->ticket = ticket;
  }
  if (check_cache) {
    set_stage(*op, Stage::QUEUED);
  }
  m_metrics.action_queued();
  const auto queued = google::protobuf::util::TimeUtil::GetCurrentTime();
  const bool accepted = m_pool.submit([this, op, action, instance = req.instance_name(), queued] {
    run_job(op, action, instance, queued, util::WorkerPool::current_index());
  });
  if (!accepted) {
    m_metrics.action_dropped();
    ExecuteResponse resp;
    *resp.mutable_status() = make_rpc_status(grpc::StatusCode::UNAVAILABLE, "server shutting down");
    complete(*op, std::move(resp));
    return {grpc::StatusCode::UNAVAILABLE, "server shutting down"};
  }
  return stream_watched(ctx, writer, *op, sent, inline_wanted);
}

void ExecutionService::Impl::run_job(const std::shared_ptr<OperationState>& op,
                                     const std::shared_ptr<const PreparedAction>& action,
                                     const std::string& instance,
                                     const google::protobuf::Timestamp& queued,
                                     size_t worker) {
  if (op->ticket) {
    op->ticket->release();
  }
  if (op->cancel || m_stopping) {
    ExecuteResponse resp;
    *resp.mutable_status() =
        op->abandoned ? make_rpc_status(grpc::StatusCode::CANCELLED,
                                        "nobody waited for the operation; dropped before it ran")
                      : make_rpc_status(grpc::StatusCode::UNAVAILABLE, "server shutting down");
    CCREX_LOG_INFO("execute " << short_digest(action->action_digest) << ": "
                              << describe_outcome(resp));
    m_metrics.action_dropped();
    complete(*op, std::move(resp));
    return;
  }
  const std::string digest_text = reapi::to_string(action->action_digest);
  const auto started = SteadyClock::now();
  m_metrics.action_started(digest_text);
  set_stage(*op, Stage::EXECUTING);
  ExecuteResponse resp;
  try {
    resp = m_runner.run(*action, &op->cancel);
    if (op->abandoned && resp.status().code() == grpc::StatusCode::UNAVAILABLE) {
      *resp.mutable_status() =
          make_rpc_status(grpc::StatusCode::CANCELLED,
                          "nobody waited for the operation; its processes were killed");
    }
  } catch (const std::exception& e) {
    // A bug must not leave the operation (and every stream watching it) hanging.
    *resp.mutable_status() =
        make_rpc_status(grpc::StatusCode::INTERNAL, std::string("worker failed: ") + e.what());
  }
  auto* meta = resp.mutable_result()->mutable_execution_metadata();
  *meta->mutable_queued_timestamp() = queued;
  meta->set_worker(m_host + "/worker-" + std::to_string(worker));
  const bool cacheable =
      resp.status().code() == 0 && resp.result().exit_code() == 0 && !action->action.do_not_cache();
  if (cacheable) {
    if (auto st = m_cache.put(instance, action->action_digest, resp.result()); !st) {
      CCREX_LOG_WARN("execute " << short_digest(action->action_digest)
                                << ": cannot cache the result: " << st.error().message());
    }
  }
  CCREX_LOG_INFO("execute " << short_digest(action->action_digest) << ": " << describe_outcome(resp)
                            << (cacheable ? ", result stored in the action cache" : ""));
  m_metrics.action_finished({.action_digest = digest_text,
                             .instance = instance,
                             .exit_code = resp.result().exit_code(),
                             .status_code = resp.status().code(),
                             .duration = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 SteadyClock::now() - started)});
  complete(*op, std::move(resp));
}

grpc::Status ExecutionService::Impl::wait(grpc::ServerContext* ctx,
                                          const std::string& name,
                                          grpc::ServerWriter<Operation>* writer) {
  std::shared_ptr<OperationState> op;
  {
    const std::lock_guard lock(m_mutex);
    purge_expired_locked();
    const auto it = m_operations.find(name);
    if (it != m_operations.end()) {
      op = it->second;
    }
  }
  if (!op) {
    return {grpc::StatusCode::NOT_FOUND, "unknown or expired operation '" + name + "'"};
  }
  return stream_watched(ctx, writer, *op, k_never_sent);
}

void ExecutionService::Impl::shutdown() {
  {
    const std::lock_guard lock(m_mutex);
    m_stopping = true;
    for (auto& [name, op] : m_operations) {
      op->cancel = true;
    }
  }
  m_changed.notify_all();
  if (m_janitor.joinable()) {
    m_janitor.join();
  }
  m_pool.drain();
}

ExecutionService::ExecutionService(const Config& config,
                                   BlobStore& store,
                                   ActionCache& cache,
                                   const Access& access,
                                   Metrics& metrics)
    : m_impl(std::make_unique<Impl>(config, store, cache, metrics)),
      m_access(access) {}

ExecutionService::~ExecutionService() {
  shutdown();
}

grpc::Status ExecutionService::Execute(grpc::ServerContext* context,
                                       const reapi::v2::ExecuteRequest* request,
                                       grpc::ServerWriter<Operation>* writer) {
  return guarded("Execute", [&] {
    if (auto st = m_access.check(*context, Role::execute, request->instance_name(), "Execute");
        !st.ok()) {
      return st;
    }
    return m_impl->execute(context, *request, writer);
  });
}

grpc::Status ExecutionService::WaitExecution(grpc::ServerContext* context,
                                             const reapi::v2::WaitExecutionRequest* request,
                                             grpc::ServerWriter<Operation>* writer) {
  return guarded("WaitExecution", [&] {
    const std::string instance = instance_of_operation(request->name());
    if (auto st = m_access.check(*context, Role::execute, instance, "WaitExecution"); !st.ok()) {
      return st;
    }
    return m_impl->wait(context, request->name(), writer);
  });
}

void ExecutionService::shutdown() {
  m_impl->shutdown();
}

const Sandbox& ExecutionService::sandbox() const {
  return m_impl->sandbox();
}

} // namespace ccrex::server
