// The agent's socket server driven in-process through the client's own functions.
#include "agent/socket_server.h"
#include "client/agent_client.h"
#include "protocol/socket_io.h"
#include "util/file.h"
#include "util/strings.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace ccrex::agent {
namespace {

using namespace std::chrono_literals;

class FakeHandler : public Handler {
public:
  CompileReply compile(const CompileRequest& request) override {
    const int now = ++m_active;
    ++m_entered;
    {
      std::unique_lock lock(m_mutex);
      m_max_active = std::max(m_max_active, now);
      m_last = request;
      m_cv.notify_all();
      // Hold the first calls until `hold` calls have arrived (or a timeout passes), so that
      // that many run at once.
      m_cv.wait_for(lock, 3s, [&] { return m_entered.load() >= m_hold; });
    }
    --m_active;
    if (request.argv.size() > 1 && request.argv[1] == "local") {
      return {true, 0, "asked to"};
    }
    const std::string out = "out:" + request.argv[0] + "\n";
    (void)!::write(request.stdout_fd, out.data(), out.size());
    (void)!::write(request.stderr_fd, "err\n", 4);
    return {false, 3, ""};
  }
  AdminReply admin(const std::vector<std::string>& args,
                   const std::vector<std::string>& env) override {
    return {"admin:" + args.at(0) + "\n", "env:" + std::to_string(env.size()) + "\n", 4};
  }

  void hold_until(int n) { m_hold = n; }
  int max_active() {
    const std::lock_guard lock(m_mutex);
    return m_max_active;
  }
  CompileRequest last() {
    const std::lock_guard lock(m_mutex);
    return m_last;
  }

private:
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::atomic<int> m_active{0};
  std::atomic<int> m_entered{0};
  std::atomic<int> m_hold{0};
  int m_max_active = 0;
  CompileRequest m_last;
};

std::string drain(int fd) {
  std::string out;
  std::array<char, 256> buf{};
  ssize_t n = 0;
  while ((n = ::read(fd, buf.data(), buf.size())) > 0) {
    out.append(buf.data(), static_cast<size_t>(n));
  }
  return out;
}

class SocketServerTest : public ::testing::Test {
protected:
  SocketServerTest() {
    m_options.dir = util::join_path(m_tmp.path(), "agent");
    m_options.idle_timeout = 0ms;
    m_options.threads = 4;
    m_options.handle_signals = false;
    m_client.paths = protocol::agent_paths(m_options.dir);
  }
  ~SocketServerTest() override {
    if (m_server) {
      m_server->request_stop();
    }
    if (m_run.valid()) {
      m_run.wait();
    }
  }

  void start() {
    m_server = std::make_unique<SocketServer>(m_options, m_handler);
    auto started = m_server->start();
    ASSERT_TRUE(started) << started.error().to_string();
    m_run = std::async(std::launch::async, [this] { return m_server->run(); });
  }

  StopReason wait_stopped() {
    EXPECT_EQ(m_run.wait_for(10s), std::future_status::ready);
    return m_run.get();
  }

  util::Result<protocol::Reply> send(const protocol::Request& request, std::vector<int> fds) {
    auto sock = client::connect_agent(m_client);
    if (!sock) {
      return std::move(sock).error();
    }
    return client::exchange(sock->get(), request, fds);
  }

  protocol::Request compile_request(std::vector<std::string> argv) {
    protocol::Request r;
    r.kind = protocol::RequestKind::compile;
    r.argv = std::move(argv);
    r.cwd = "/some/dir";
    r.env = {"A=1", "B=2"};
    return r;
  }

  util::TempDir m_tmp;
  SocketServerOptions m_options;
  client::AgentClientOptions m_client;
  FakeHandler m_handler;
  std::unique_ptr<SocketServer> m_server;
  std::future<StopReason> m_run;
};

TEST_F(SocketServerTest, CompileWritesToClientDescriptorsAndReturnsExitCode) {
  start();
  std::array<int, 2> out{};
  std::array<int, 2> err{};
  ASSERT_EQ(::pipe(out.data()), 0);
  ASSERT_EQ(::pipe(err.data()), 0);
  auto reply = send(compile_request({"/usr/bin/cc", "-c", "a.c"}), {out[1], err[1]});
  ::close(out[1]);
  ::close(err[1]);
  ASSERT_TRUE(reply) << reply.error().to_string();
  EXPECT_EQ(reply->kind, protocol::ReplyKind::done);
  EXPECT_EQ(reply->exit_code, 3);
  // The server closed its copies: the pipes reach end of file.
  EXPECT_EQ(drain(out[0]), "out:/usr/bin/cc\n");
  EXPECT_EQ(drain(err[0]), "err\n");
  ::close(out[0]);
  ::close(err[0]);
  const CompileRequest seen = m_handler.last();
  EXPECT_EQ(seen.argv, (std::vector<std::string>{"/usr/bin/cc", "-c", "a.c"}));
  EXPECT_EQ(seen.cwd, "/some/dir");
  EXPECT_EQ(seen.env, (std::vector<std::string>{"A=1", "B=2"}));
}

TEST_F(SocketServerTest, RunLocallyCarriesReason) {
  start();
  auto reply = send(compile_request({"cc", "local"}), {STDOUT_FILENO, STDERR_FILENO});
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->kind, protocol::ReplyKind::run_locally);
  EXPECT_EQ(reply->reason, "asked to");
}

TEST_F(SocketServerTest, CompileWithoutDescriptorsRunsLocally) {
  start();
  auto reply = send(compile_request({"cc", "-c"}), {});
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->kind, protocol::ReplyKind::run_locally);
}

TEST_F(SocketServerTest, AdminAnswersWithText) {
  start();
  protocol::Request r;
  r.kind = protocol::RequestKind::admin;
  r.argv = {"-s"};
  r.env = {"X=1", "Y=2", "Z=3"};
  auto reply = send(r, {});
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->kind, protocol::ReplyKind::text);
  EXPECT_EQ(reply->out, "admin:-s\n");
  EXPECT_EQ(reply->err, "env:3\n");
  EXPECT_EQ(reply->exit_code, 4);
}

TEST_F(SocketServerTest, StopRequestStopsAndCleansUp) {
  start();
  const auto paths = protocol::agent_paths(m_options.dir);
  auto pid = util::read_file(paths.pid_file);
  ASSERT_TRUE(pid);
  EXPECT_EQ(*pid, std::to_string(::getpid()) + "\n");
  struct stat st {};
  ASSERT_EQ(::stat(paths.socket.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600U);

  protocol::Request r;
  r.kind = protocol::RequestKind::admin;
  r.argv = {"--stop-agent"};
  auto reply = send(r, {});
  ASSERT_TRUE(reply);
  EXPECT_NE(reply->out.find("stopping"), std::string::npos);
  EXPECT_EQ(wait_stopped(), StopReason::stop_request);
  EXPECT_FALSE(util::path_exists(paths.socket));
  EXPECT_FALSE(util::path_exists(paths.pid_file));
  EXPECT_FALSE(client::connect_agent(m_client));
}

TEST_F(SocketServerTest, OtherProtocolVersionGetsRunLocallyAndStopsServer) {
  start();
  auto sock = client::connect_agent(m_client);
  ASSERT_TRUE(sock);
  std::string frame = protocol::encode_request(compile_request({"cc"}));
  frame[4] = static_cast<char>(protocol::k_protocol_version + 1);
  ASSERT_TRUE(protocol::send_frame(sock->get(), frame));
  auto got = protocol::receive_frame(sock->get(), 0);
  ASSERT_TRUE(got);
  auto reply = protocol::decode_reply_payload(got->payload);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->kind, protocol::ReplyKind::run_locally);
  EXPECT_EQ(reply->reason, "agent version mismatch");
  EXPECT_EQ(wait_stopped(), StopReason::version_mismatch);
}

TEST_F(SocketServerTest, MalformedRequestIsDroppedAndServerKeepsServing) {
  start();
  {
    auto sock = client::connect_agent(m_client);
    ASSERT_TRUE(sock);
    ASSERT_TRUE(protocol::send_frame(sock->get(), "CCRX garbage that is not a frame"));
    EXPECT_FALSE(protocol::receive_frame(sock->get(), 0));
  }
  auto reply = send(compile_request({"cc", "local"}), {STDOUT_FILENO, STDERR_FILENO});
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->kind, protocol::ReplyKind::run_locally);
}

TEST_F(SocketServerTest, SlowCompileIsKeptAliveUntilItsReply) {
  m_handler.hold_until(2); // the only compile waits for the handler's 3 s timeout
  start();
  auto sock = client::connect_agent(m_client);
  ASSERT_TRUE(sock);
  ASSERT_TRUE(protocol::send_frame(sock->get(),
                                   protocol::encode_request(compile_request({"cc", "local"})),
                                   {STDOUT_FILENO, STDERR_FILENO}));
  // `working` frames while the compile runs, then the answer.
  int working = 0;
  while (true) {
    auto got = protocol::receive_frame(sock->get(), 0);
    ASSERT_TRUE(got) << got.error().to_string();
    auto reply = protocol::decode_reply_payload(got->payload);
    ASSERT_TRUE(reply) << reply.error().to_string();
    if (reply->kind != protocol::ReplyKind::working) {
      EXPECT_EQ(reply->kind, protocol::ReplyKind::run_locally);
      break;
    }
    ++working;
  }
  EXPECT_GE(working, 1);
}

TEST_F(SocketServerTest, ClientWaitsForACompileLongerThanItsSilenceLimit) {
  m_handler.hold_until(2); // the only compile waits for the handler's 3 s timeout
  start();
  auto sock = client::connect_agent(m_client);
  ASSERT_TRUE(sock);
  auto reply = client::exchange(
      sock->get(), compile_request({"cc", "local"}), {STDOUT_FILENO, STDERR_FILENO}, 1500ms);
  ASSERT_TRUE(reply) << reply.error().to_string();
  EXPECT_EQ(reply->kind, protocol::ReplyKind::run_locally);
}

TEST(AgentClient, AnAgentThatSaysNothingIsGivenUpOn) {
  util::TempDir dir;
  const std::string path = util::join_path(dir.path(), "sock");
  // Listening, never accepting: the kernel takes the connection and the request, as for a
  // stopped agent.
  auto listener = protocol::listen_unix(path, 4);
  ASSERT_TRUE(listener);
  auto sock = protocol::connect_unix(path);
  ASSERT_TRUE(sock);
  protocol::Request r;
  r.argv = {"cc", "-c", "a.c"};
  r.cwd = "/";
  auto reply = client::exchange(sock->get(), r, {}, 300ms);
  ASSERT_FALSE(reply);
  EXPECT_EQ(reply.error().code(), util::ErrorCode::deadline_exceeded);
  EXPECT_NE(reply.error().message().find("made no progress"), std::string::npos);
}

TEST_F(SocketServerTest, IdleTimeoutStopsServer) {
  m_options.idle_timeout = 300ms;
  const auto begin = std::chrono::steady_clock::now();
  start();
  EXPECT_EQ(wait_stopped(), StopReason::idle);
  EXPECT_GE(std::chrono::steady_clock::now() - begin, 300ms);
}

TEST_F(SocketServerTest, WorkersAreBounded) {
  m_options.threads = 3;
  m_handler.hold_until(3);
  start();
  std::vector<std::future<bool>> clients;
  for (int i = 0; i < 6; ++i) {
    clients.push_back(std::async(std::launch::async, [this] {
      auto reply = send(compile_request({"cc", "local"}), {STDOUT_FILENO, STDERR_FILENO});
      return reply && reply->kind == protocol::ReplyKind::run_locally;
    }));
  }
  for (auto& c : clients) {
    EXPECT_TRUE(c.get());
  }
  EXPECT_EQ(m_handler.max_active(), 3);
}

// Threads of this process.
size_t process_threads() {
  size_t n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/task")) {
    (void)e;
    ++n;
  }
  return n;
}

TEST_F(SocketServerTest, WorkerThreadsStartWithRequestsAndEndWhenIdle) {
  m_options.threads = 3;
  m_options.worker_idle_exit = 100ms;
  m_handler.hold_until(3);
  const size_t base = process_threads();
  start();
  // run() and the heartbeat; no worker before a request comes.
  EXPECT_EQ(process_threads(), base + 2);
  {
    std::vector<std::future<bool>> clients;
    for (int i = 0; i < 3; ++i) {
      clients.push_back(std::async(std::launch::async, [this] {
        auto reply = send(compile_request({"cc"}), {STDOUT_FILENO, STDERR_FILENO});
        return reply && reply->kind == protocol::ReplyKind::done;
      }));
    }
    for (auto& c : clients) {
      EXPECT_TRUE(c.get());
    }
  }
  EXPECT_EQ(m_handler.max_active(), 3);
  // The workers end; the hang-up watcher, started with the first compile, stays.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (process_threads() != base + 3 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(process_threads(), base + 3);
  // A request after they ended starts a worker again.
  auto reply = send(compile_request({"cc"}), {STDOUT_FILENO, STDERR_FILENO});
  ASSERT_TRUE(reply) << reply.error().to_string();
  EXPECT_EQ(reply->kind, protocol::ReplyKind::done);
}

TEST_F(SocketServerTest, SecondServerOnSameDirectoryIsRefused) {
  start();
  SocketServerOptions other = m_options;
  other.lock_wait = 100ms;
  FakeHandler handler;
  SocketServer second(other, handler);
  auto started = second.start();
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().code(), util::ErrorCode::already_exists);
  // The first one still serves.
  EXPECT_TRUE(send(compile_request({"cc", "local"}), {STDOUT_FILENO, STDERR_FILENO}));
}

TEST_F(SocketServerTest, StaleSocketIsReplaced) {
  ASSERT_TRUE(protocol::ensure_private_dir(m_options.dir, ::getuid()));
  {
    auto stale = protocol::listen_unix(m_client.paths.socket, 1);
    ASSERT_TRUE(stale);
  } // closed: the file stays behind, nobody listens
  EXPECT_FALSE(client::connect_agent(m_client));
  start();
  EXPECT_TRUE(send(compile_request({"cc", "local"}), {STDOUT_FILENO, STDERR_FILENO}));
}

TEST_F(SocketServerTest, RefusesDirectoryOpenToOthers) {
  ASSERT_TRUE(util::make_dirs(m_options.dir, 0755));
  ASSERT_EQ(::chmod(m_options.dir.c_str(), 0755), 0);
  SocketServer server(m_options, m_handler);
  auto started = server.start();
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().code(), util::ErrorCode::permission_denied);
  // The client refuses to talk through it as well.
  EXPECT_FALSE(client::connect_agent(m_client));
}

TEST_F(SocketServerTest, ConnectionsFromOtherUsersAreRejected) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root to connect as another user";
  }
  start();
  // Open the file permissions so that only the peer-credential check stands in the way.
  ASSERT_EQ(::chmod(m_tmp.path().c_str(), 0711), 0);
  ASSERT_EQ(::chmod(m_options.dir.c_str(), 0711), 0);
  ASSERT_EQ(::chmod(m_client.paths.socket.c_str(), 0666), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) {
      ::_exit(2);
    }
    auto sock = protocol::connect_unix(m_client.paths.socket);
    if (!sock) {
      ::_exit(3);
    }
    auto reply = client::exchange(sock->get(), compile_request({"cc", "local"}), {1, 2});
    ::_exit(reply ? 1 : 0); // 0: the server hung up without answering
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  // The owner is still served (once the directory is private again).
  ASSERT_EQ(::chmod(m_options.dir.c_str(), 0700), 0);
  auto reply = send(compile_request({"cc", "local"}), {STDOUT_FILENO, STDERR_FILENO});
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->kind, protocol::ReplyKind::run_locally);
}

TEST(AgentClient, StartFailsCleanlyWithoutAgentBinary) {
  util::TempDir tmp;
  client::AgentClientOptions options;
  options.paths = protocol::agent_paths(util::join_path(tmp.path(), "agent"));
  options.start_timeout = 200ms;
  EXPECT_FALSE(client::connect_or_start_agent(options));
  options.agent_bin = util::join_path(tmp.path(), "no-such-agent");
  const auto begin = std::chrono::steady_clock::now();
  EXPECT_FALSE(client::connect_or_start_agent(options));
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 2s);
}

} // namespace
} // namespace ccrex::agent

namespace ccrex::client {
namespace {

using namespace std::chrono_literals;

// Options for an agent directory in `tmp` whose agent is `script` (a shell script named
// `name`, in place of ccrexd).
AgentClientOptions
with_fake_agent(const util::TempDir& tmp, const std::string& name, const std::string& script) {
  AgentClientOptions options;
  options.paths = protocol::agent_paths(util::join_path(tmp.path(), "agent"));
  options.agent_bin = util::join_path(tmp.path(), name);
  EXPECT_TRUE(util::write_file_atomic(options.agent_bin, "#!/bin/sh\n" + script, 0755));
  return options;
}

TEST(AgentClient, AnAgentThatExitsFailsAtOnceAndIsRememberedForTheBackoffPeriod) {
  util::TempDir tmp;
  // Exits at once without ever listening: no need to wait out the start timeout.
  auto options = with_fake_agent(tmp, "dead-agent", "exit 0\n");
  options.start_timeout = 5s;

  auto begin = std::chrono::steady_clock::now();
  auto first = connect_or_start_agent(options);
  ASSERT_FALSE(first);
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 3s);
  EXPECT_EQ(first.error().message(),
            "the agent " + options.agent_bin + " exited without answering");
  EXPECT_TRUE(util::path_exists(options.paths.start_failed));

  begin = std::chrono::steady_clock::now();
  auto again = connect_or_start_agent(options);
  ASSERT_FALSE(again);
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 250ms);
  EXPECT_NE(again.error().message().find("recently"), std::string::npos);

  // Without a backoff period the client starts it again.
  options.failed_start_backoff = 0ms;
  auto third = connect_or_start_agent(options);
  ASSERT_FALSE(third);
  EXPECT_NE(third.error().message().find("exited without answering"), std::string::npos);
}

TEST(AgentClient, TheAgentsReasonForNotStartingReachesTheClient) {
  util::TempDir tmp;
  // Writes its reason on the pipe named by --ready-fd=N, then lingers with the pipe open:
  // the line is what ends the wait, not the agent's exit.
  auto options = with_fake_agent(tmp,
                                 "refusing-agent",
                                 "fd=${1#--ready-fd=}\n"
                                 "eval \"echo 'CCREX_AGENT_DIR is not usable' >&$fd\"\n"
                                 "sleep 10\n");
  options.start_timeout = 20s;
  const auto begin = std::chrono::steady_clock::now();
  auto started = connect_or_start_agent(options);
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 8s);
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().message(),
            "the agent " + options.agent_bin + " did not start: CCREX_AGENT_DIR is not usable");
  EXPECT_TRUE(util::path_exists(options.paths.start_failed));
}

TEST(AgentClient, AnAgentThatHangsIsWaitedForUntilTheStartTimeout) {
  util::TempDir tmp;
  // Alive, holding the pipe, never listening.
  auto options = with_fake_agent(tmp, "hung-agent", "exec sleep 3\n");
  options.start_timeout = 300ms;
  const auto begin = std::chrono::steady_clock::now();
  auto started = connect_or_start_agent(options);
  ASSERT_FALSE(started);
  EXPECT_GE(std::chrono::steady_clock::now() - begin, 300ms);
  EXPECT_EQ(started.error().code(), util::ErrorCode::deadline_exceeded);
  EXPECT_EQ(started.error().message(),
            "the agent " + options.agent_bin + " did not answer within 300 ms of starting");
}

// An agent that knows nothing of the pipe (an older ccrexd after an upgrade): it holds the
// pipe open while it runs, and is found by connecting once it listens.
TEST(AgentClient, AnAgentThatIgnoresThePipeIsFoundByConnecting) {
  if (::access("/usr/bin/python3", X_OK) != 0) {
    GTEST_SKIP() << "needs /usr/bin/python3 to listen on a socket";
  }
  util::TempDir tmp;
  // Listens on the socket (the agent directory's path, passed in the script) and ignores
  // the descriptor it was given.
  const std::string socket = util::join_path(tmp.path(), "agent/agent.sock");
  const auto options = with_fake_agent(tmp,
                                       "old-agent",
                                       "exec /usr/bin/python3 -c 'import socket, sys, time\n"
                                       "s = socket.socket(socket.AF_UNIX)\n"
                                       "s.bind(sys.argv[1])\n"
                                       "s.listen(8)\n"
                                       "time.sleep(3)' "
                                           + socket + "\n");
  ASSERT_EQ(options.paths.socket, socket);
  auto started = connect_or_start_agent(options);
  ASSERT_TRUE(started) << started.error().message();
  EXPECT_FALSE(util::path_exists(options.paths.start_failed));
}

TEST(AgentClient, TheReadyPipeReachesTheAgentAloneAndOnDescriptorThree) {
  util::TempDir tmp;
  const std::string seen = util::join_path(tmp.path(), "seen");
  // Records its arguments and open descriptors, then says why it stops.
  const auto options = with_fake_agent(tmp,
                                       "listing-agent",
                                       "echo \"$@\" >" + seen + "\nls /proc/$$/fd >>" + seen
                                           + "\necho listed >&3\n");
  auto started = connect_or_start_agent(options);
  ASSERT_FALSE(started);
  EXPECT_NE(started.error().message().find("did not start: listed"), std::string::npos)
      << started.error().message();
  auto text = util::read_file(seen);
  ASSERT_TRUE(text);
  // The shell's own descriptor (the script it reads) may sit above 3; no client
  // descriptor does: the start lock and the pipe's read end stay with the client.
  EXPECT_EQ(text->substr(0, text->find('\n')), "--ready-fd=3");
  const std::string listing = text->substr(text->find('\n') + 1);
  const auto fds = util::split(util::trim(listing), '\n');
  std::vector<std::string> low;
  for (const std::string_view fd : fds) {
    if (fd.size() == 1) {
      low.emplace_back(fd);
    }
  }
  EXPECT_EQ(low, (std::vector<std::string>{"0", "1", "2", "3"}));
}

} // namespace
} // namespace ccrex::client
