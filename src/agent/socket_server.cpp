#include "agent/socket_server.h"

#include "agent/hangup_watcher.h"
#include "protocol/agent_dir.h"
#include "protocol/messages.h"
#include "protocol/socket_io.h"
#include "util/file.h"
#include "util/logging.h"
#include "util/strings.h"
#include "util/worker_pool.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <deque>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

namespace ccrex::agent {
namespace {

using protocol::UniqueFd;
using Clock = std::chrono::steady_clock;

// A client that connected must send its request promptly; a stalled one loses its worker.
constexpr auto k_request_timeout = std::chrono::seconds(30);
constexpr int k_listen_backlog = 4096;
constexpr size_t k_compile_fds = 2;

// Write end of the pipe that wakes the accept loop; written from signal handlers.
std::atomic<int> g_signal_pipe{-1};

extern "C" void on_stop_signal(int /*signal*/) {
  const int fd = g_signal_pipe.load();
  if (fd >= 0) {
    const char byte = 's';
    (void)!::write(fd, &byte, 1);
  }
}

util::Result<UniqueFd> take_lock(const std::string& path, std::chrono::milliseconds wait) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    return util::errno_error("opening " + path, errno);
  }
  const auto deadline = Clock::now() + wait;
  while (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) {
      return util::errno_error("locking " + path, errno);
    }
    if (Clock::now() >= deadline) {
      return util::Error(util::ErrorCode::already_exists, "another agent owns " + path);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return fd;
}

std::optional<uid_t> peer_uid(int fd) {
  ucred cred{};
  socklen_t len = sizeof(cred);
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return std::nullopt;
  }
  return cred.uid;
}

// One client connection, from accept to reply. Until the reply, the heartbeat sends it a
// `working` frame every keep-alive interval (protocol/messages.h), so its client can tell
// a long compile from a stuck agent.
class Connection {
public:
  explicit Connection(UniqueFd fd) : m_fd(std::move(fd)) {}

  int fd() const { return m_fd.get(); }

  // Send a `working` frame unless the reply is on its way. Never blocks: a client that
  // does not read (it is not waiting for us any more) misses the frame; a frame that could
  // be written only in part would corrupt the stream, so the connection is shut down then.
  void keep_alive(const std::string& frame) {
    const std::lock_guard lock(m_mutex);
    if (m_replying) {
      return;
    }
    if (auto sent = protocol::try_send_frame(m_fd.get(), frame); !sent) {
      CCREX_LOG_DEBUG("keep-alive: " << sent.error().to_string());
      if (sent.error().code() == util::ErrorCode::data_loss) {
        ::shutdown(m_fd.get(), SHUT_RDWR);
      }
      m_replying = true; // the peer is gone or broken: no more frames
    }
  }
  // From now on the worker writes the reply: no more keep-alive frames.
  void start_reply() {
    const std::lock_guard lock(m_mutex);
    m_replying = true;
  }

private:
  UniqueFd m_fd;
  std::mutex m_mutex;
  bool m_replying = false; // guarded by m_mutex
};

protocol::Reply run_locally(std::string reason) {
  protocol::Reply reply;
  reply.kind = protocol::ReplyKind::run_locally;
  reply.reason = std::move(reason);
  return reply;
}

} // namespace

struct SocketServer::Impl {
  SocketServerOptions options;
  Handler& handler;
  protocol::AgentPaths paths;
  UniqueFd lock_fd;
  UniqueFd listen_fd;
  UniqueFd wake_read;
  UniqueFd wake_write;
  bool signals_installed = false;

  // Cancels the compile of a client that hangs up; outlives the workers.
  HangupWatcher hangups;
  std::mutex mutex;
  // Every accepted connection not yet answered, queued or being served; guarded by mutex.
  std::vector<std::shared_ptr<Connection>> live;
  std::optional<StopReason> stop; // guarded by mutex
  // Serves the connections; started in start(), drained when run() stops.
  std::unique_ptr<util::WorkerPool> workers;
  // Sends `working` frames to the live connections until heartbeat_stop.
  std::thread heartbeat;
  bool heartbeat_stop = false; // guarded by mutex
  std::condition_variable heartbeat_cv;

  std::atomic<int> in_flight{0};
  std::atomic<Clock::rep> last_activity{Clock::now().time_since_epoch().count()};
  // The last_activity after which on_quiet last ran (run() thread only).
  Clock::rep quiet_after_activity = 0;

  Impl(SocketServerOptions o, Handler& h)
      : options(std::move(o)),
        handler(h),
        paths(protocol::agent_paths(options.dir)) {}

  void stop_with(StopReason reason) {
    {
      const std::lock_guard lock(mutex);
      if (!stop) {
        stop = reason;
      }
    }
    const char byte = 'w';
    (void)!::write(wake_write.get(), &byte, 1);
  }

  void touch() { last_activity = Clock::now().time_since_epoch().count(); }

  util::Status open_socket();
  void accept_one();
  void serve_and_release(const std::shared_ptr<Connection>& connection);
  void drain_workers();
  void heartbeat_loop();
  void stop_heartbeat();
  void serve(Connection& connection);
  protocol::Reply answer(int fd, const protocol::Request& request, std::vector<UniqueFd>& fds);
  protocol::Reply
  answer_compile(int fd, const protocol::Request& request, std::vector<UniqueFd>& fds);
  protocol::Reply answer_admin(const protocol::Request& request);
  std::optional<std::chrono::milliseconds> idle_left() const;
  void maybe_quiet();
  void release_socket();
};

util::Status SocketServer::Impl::open_socket() {
  CCREX_TRY(protocol::ensure_private_dir(options.dir, ::getuid()));
  CCREX_ASSIGN_OR_RETURN(lock_fd, take_lock(paths.agent_lock, options.lock_wait));
  // Holding the lock means no live agent uses the socket: whatever is there is stale.
  if (::unlink(paths.socket.c_str()) != 0 && errno != ENOENT) {
    return util::errno_error("removing stale " + paths.socket, errno);
  }
  CCREX_ASSIGN_OR_RETURN(listen_fd, protocol::listen_unix(paths.socket, k_listen_backlog));
  if (::chmod(paths.socket.c_str(), 0600) != 0) {
    return util::errno_error("chmod " + paths.socket, errno);
  }
  CCREX_TRY(util::write_file_atomic(paths.pid_file, std::to_string(::getpid()) + "\n", 0600));
  return {};
}

void SocketServer::Impl::accept_one() {
  UniqueFd fd(::accept4(listen_fd.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!fd.valid()) {
    return;
  }
  const auto uid = peer_uid(fd.get());
  if (!uid || *uid != ::getuid()) {
    CCREX_LOG_WARN("rejected a connection from uid " << (uid ? static_cast<long>(*uid) : -1L));
    return;
  }
  touch();
  if (workers->queued() >= options.max_queued) {
    CCREX_LOG_WARN("request queue full; the client will compile locally");
    return;
  }
  auto connection = std::make_shared<Connection>(std::move(fd));
  {
    const std::lock_guard lock(mutex);
    live.push_back(connection);
  }
  ++in_flight;
  if (!workers->submit([this, connection] { serve_and_release(connection); })) {
    const std::lock_guard lock(mutex);
    live.erase(std::find(live.begin(), live.end(), connection));
    --in_flight; // no worker to serve it: closing it makes its client compile locally
  }
}

void SocketServer::Impl::heartbeat_loop() {
  const std::string frame = [] {
    protocol::Reply working;
    working.kind = protocol::ReplyKind::working;
    return protocol::encode_reply(working);
  }();
  std::unique_lock lock(mutex);
  while (!heartbeat_cv.wait_for(
      lock, protocol::k_keepalive_interval, [this] { return heartbeat_stop; })) {
    const auto connections = live;
    lock.unlock();
    for (const auto& c : connections) {
      c->keep_alive(frame);
    }
    lock.lock();
  }
}

void SocketServer::Impl::stop_heartbeat() {
  {
    const std::lock_guard lock(mutex);
    heartbeat_stop = true;
  }
  heartbeat_cv.notify_all();
  if (heartbeat.joinable()) {
    heartbeat.join();
  }
}

void SocketServer::Impl::serve_and_release(const std::shared_ptr<Connection>& connection) {
  serve(*connection);
  {
    const std::lock_guard lock(mutex);
    live.erase(std::find(live.begin(), live.end(), connection));
  }
  // The socket closes once the task that holds `connection` is gone and the heartbeat has
  // let go of it too.
  touch();
  --in_flight;
}

void SocketServer::Impl::drain_workers() {
  if (workers) {
    workers->drain();
  }
}

void SocketServer::Impl::serve(Connection& connection) {
  const int fd = connection.fd();
  (void)protocol::set_receive_timeout(fd, k_request_timeout);
  auto frame = protocol::receive_frame(fd, k_compile_fds);
  if (!frame) {
    CCREX_LOG_DEBUG("dropping connection: " << frame.error().to_string());
    return;
  }
  protocol::Reply reply;
  if (frame->header.version != protocol::k_protocol_version) {
    CCREX_LOG_INFO("client speaks protocol " << frame->header.version << "; stopping");
    reply = run_locally("agent version mismatch");
    stop_with(StopReason::version_mismatch);
  } else if (auto request = protocol::decode_request_payload(frame->payload)) {
    reply = answer(fd, *request, frame->fds);
  } else {
    CCREX_LOG_WARN("malformed request: " << request.error().to_string());
    return;
  }
  connection.start_reply();
  if (auto sent = protocol::send_frame(fd, protocol::encode_reply(reply)); !sent) {
    CCREX_LOG_DEBUG("could not reply: " << sent.error().to_string());
  }
}

protocol::Reply
SocketServer::Impl::answer(int fd, const protocol::Request& request, std::vector<UniqueFd>& fds) {
  try {
    if (request.kind == protocol::RequestKind::compile) {
      return answer_compile(fd, request, fds);
    }
    return answer_admin(request);
  } catch (const std::exception& e) {
    CCREX_LOG_ERROR("request failed: " << e.what());
  }
  if (request.kind == protocol::RequestKind::compile) {
    return run_locally("internal error in the agent");
  }
  protocol::Reply reply;
  reply.kind = protocol::ReplyKind::text;
  reply.err = "ccrex: internal error in the agent\n";
  reply.exit_code = 1;
  return reply;
}

protocol::Reply SocketServer::Impl::answer_compile(int fd,
                                                   const protocol::Request& request,
                                                   std::vector<UniqueFd>& fds) {
  if (fds.size() != k_compile_fds || request.argv.empty()) {
    return run_locally("malformed compile request");
  }
  CompileRequest compile;
  compile.argv = request.argv;
  compile.cwd = request.cwd;
  compile.env = request.env;
  compile.umask = static_cast<mode_t>(request.umask);
  compile.stdout_fd = fds[0].get();
  compile.stderr_fd = fds[1].get();
  util::Cancellation cancel;
  compile.cancel = &cancel;
  const CompileReply result = [&] {
    const auto watch = hangups.watch(fd, cancel);
    return handler.compile(compile);
  }();
  if (result.run_locally) {
    return run_locally(result.reason);
  }
  protocol::Reply reply;
  reply.kind = protocol::ReplyKind::done;
  reply.exit_code = result.exit_code;
  return reply;
}

protocol::Reply SocketServer::Impl::answer_admin(const protocol::Request& request) {
  protocol::Reply reply;
  reply.kind = protocol::ReplyKind::text;
  if (request.argv.size() == 1 && request.argv[0] == "--stop-agent") {
    reply.out = "ccrex agent (pid " + std::to_string(::getpid()) + ") stopping\n";
    stop_with(StopReason::stop_request);
    return reply;
  }
  const AdminReply result = handler.admin(request.argv, request.env);
  reply.out = result.out;
  reply.err = result.err;
  reply.exit_code = result.exit_code;
  return reply;
}

std::optional<std::chrono::milliseconds> SocketServer::Impl::idle_left() const {
  if (options.idle_timeout.count() <= 0) {
    return std::nullopt;
  }
  if (in_flight.load() > 0) {
    return options.idle_timeout;
  }
  const Clock::time_point last{Clock::duration(last_activity.load())};
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - last);
  return std::max(std::chrono::milliseconds(0), options.idle_timeout - elapsed);
}

void SocketServer::Impl::maybe_quiet() {
  const Clock::rep last = last_activity.load();
  if (!options.on_quiet || in_flight.load() > 0 || last == quiet_after_activity) {
    return;
  }
  if (Clock::now() - Clock::time_point(Clock::duration(last)) < options.quiet_after) {
    return;
  }
  quiet_after_activity = last;
  options.on_quiet();
}

void SocketServer::Impl::release_socket() {
  if (!listen_fd.valid()) {
    return;
  }
  // Unlink before unlocking: once the lock is free, a new agent may bind a new socket.
  (void)::unlink(paths.socket.c_str());
  (void)::unlink(paths.pid_file.c_str());
  listen_fd.reset();
  lock_fd.reset();
}

SocketServer::SocketServer(SocketServerOptions options, Handler& handler)
    : m_impl(std::make_unique<Impl>(std::move(options), handler)) {
  std::array<int, 2> fds{};
  if (::pipe2(fds.data(), O_CLOEXEC | O_NONBLOCK) == 0) {
    m_impl->wake_read.reset(fds[0]);
    m_impl->wake_write.reset(fds[1]);
  }
}

SocketServer::~SocketServer() {
  if (m_impl->signals_installed) {
    g_signal_pipe = -1;
  }
  m_impl->drain_workers();
  m_impl->stop_heartbeat();
  m_impl->release_socket();
}

const std::string& SocketServer::socket_path() const {
  return m_impl->paths.socket;
}

void SocketServer::request_stop() {
  m_impl->stop_with(StopReason::requested);
}

util::Status SocketServer::start() {
  if (!m_impl->wake_read.valid()) {
    return util::internal_error("could not create the wake-up pipe");
  }
  struct sigaction ignore {};
  ignore.sa_handler = SIG_IGN;
  sigemptyset(&ignore.sa_mask);
  ::sigaction(SIGPIPE, &ignore, nullptr);
  CCREX_TRY(m_impl->open_socket());
  if (m_impl->options.handle_signals) {
    g_signal_pipe = m_impl->wake_write.get();
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    ::sigaction(SIGTERM, &sa, nullptr);
    ::sigaction(SIGINT, &sa, nullptr);
    m_impl->signals_installed = true;
  }
  size_t threads = m_impl->options.threads;
  if (threads == 0) {
    threads = 4 * std::max(1U, std::thread::hardware_concurrency());
  }
  m_impl->workers = std::make_unique<util::WorkerPool>(util::WorkerPoolOptions{
      .max_threads = threads, .retire_after = m_impl->options.worker_idle_exit});
  m_impl->heartbeat = std::thread([this] { m_impl->heartbeat_loop(); });
  m_impl->touch();
  return {};
}

StopReason SocketServer::run() {
  Impl& s = *m_impl;
  StopReason reason = StopReason::requested;
  while (true) {
    const auto idle = s.idle_left();
    if (idle && idle->count() == 0) {
      reason = StopReason::idle;
      break;
    }
    std::array<pollfd, 2> fds{{{s.listen_fd.get(), POLLIN, 0}, {s.wake_read.get(), POLLIN, 0}}};
    const int timeout = idle ? static_cast<int>(std::min<int64_t>(idle->count(), 1000)) : 1000;
    const int n = ::poll(fds.data(), fds.size(), timeout);
    if (n < 0 && errno != EINTR) {
      CCREX_LOG_ERROR("agent loop stopped: " << util::errno_error("poll", errno).message());
      break;
    }
    if (n > 0 && fds[1].revents != 0) {
      std::array<char, 64> buf{};
      bool from_signal = false;
      ssize_t got = 0;
      while ((got = ::read(s.wake_read.get(), buf.data(), buf.size())) > 0) {
        from_signal = from_signal || std::find(buf.begin(), buf.begin() + got, 's') != buf.end();
      }
      const std::lock_guard lock(s.mutex);
      if (from_signal && !s.stop) {
        s.stop = StopReason::signal;
      }
      if (s.stop) {
        reason = *s.stop;
        break;
      }
    }
    if (n > 0 && (fds[0].revents & POLLIN) != 0) {
      s.accept_one();
    }
    s.maybe_quiet();
  }
  CCREX_LOG_INFO("agent stopping: " << stop_reason_name(reason));
  s.release_socket();
  s.drain_workers();
  s.stop_heartbeat();
  return reason;
}

const char* stop_reason_name(StopReason reason) {
  switch (reason) {
  case StopReason::signal:
    return "signal";
  case StopReason::stop_request:
    return "stop request";
  case StopReason::idle:
    return "idle";
  case StopReason::version_mismatch:
    return "protocol version mismatch";
  case StopReason::requested:
    return "requested";
  }
  return "unknown";
}

util::Result<SocketServerOptions> socket_server_options_from_environment() {
  SocketServerOptions options;
  options.dir = protocol::agent_dir();
  const char* idle = std::getenv("CCREX_IDLE_TIMEOUT"); // NOLINT(concurrency-mt-unsafe)
  if (idle != nullptr && *idle != '\0') {
    auto seconds = util::parse_int(idle);
    if (!seconds) {
      return seconds.error().with_context("CCREX_IDLE_TIMEOUT");
    }
    options.idle_timeout = std::chrono::seconds(*seconds);
  }
  return options;
}

} // namespace ccrex::agent
