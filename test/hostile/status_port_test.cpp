// The status port (--status-listen): what a browser, a Prometheus scraper and a hostile
// client get from it. Only GET and HEAD of three paths; oversized and slow requests do not
// keep it from answering; nothing a client sent (tokens, headers) ever shows; beyond
// loopback only when asked for; and the figures match what clients did. One test loads the
// page in headless Chromium (skipped without Debian's `chromium`).

#include "hostile/hostile_support.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <optional>
#include <regex>
#include <thread>

namespace ccrex::test {
namespace {

using namespace std::chrono_literals;

// A TCP connection to 127.0.0.1:port (-1 when it cannot connect).
int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void send_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) {
      return; // the server may close early on a bad request
    }
    done += static_cast<size_t>(n);
  }
}

// Everything the server sends on `fd` until it closes the connection or `limit` passes;
// nullopt when it is still open then.
std::optional<std::string> read_until_closed(int fd, std::chrono::milliseconds limit) {
  std::string out;
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return std::nullopt;
    }
    pollfd pfd{fd, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) {
      continue;
    }
    std::array<char, 4096> buf{};
    const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n <= 0) {
      return out;
    }
    out.append(buf.data(), static_cast<size_t>(n));
  }
}

// Send `request` and return the whole answer: "" when the server closed the connection
// without one (it may reset a connection whose request it did not read to the end),
// "TIMEOUT" when it did not close in time.
std::string
http_exchange(int port, const std::string& request, std::chrono::milliseconds limit = 10s) {
  const int fd = connect_to(port);
  if (fd < 0) {
    return "";
  }
  send_all(fd, request);
  auto answer = read_until_closed(fd, limit);
  ::close(fd);
  return answer.value_or("TIMEOUT");
}

int status_of(const std::string& answer) {
  if (answer.rfind("HTTP/1.", 0) != 0 || answer.size() < 12) {
    return -1;
  }
  return std::stoi(answer.substr(9, 3));
}

std::string body_of(const std::string& answer) {
  const size_t at = answer.find("\r\n\r\n");
  return at == std::string::npos ? "" : answer.substr(at + 4);
}

std::string get(int port, const std::string& path, const std::string& extra_headers = "") {
  return http_exchange(port,
                       "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n" + extra_headers
                           + "Connection: close\r\n\r\n");
}

// A tiny reader of the Prometheus text format (0.0.4): every sample must belong to a metric
// announced by a TYPE line (after its HELP line), names and labels must be well formed, and
// values numbers. Returns "name{labels}" -> value, or a description of the first fault.
struct Parsed {
  std::map<std::string, double> samples;
  std::string error;
};

Parsed parse_prometheus(const std::string& text) {
  Parsed out;
  static const std::regex k_help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+)");
  static const std::regex k_type(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge))");
  static const std::regex k_sample(
      R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*)\})? (-?[0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?))");
  std::map<std::string, std::string> types;
  std::string helped;
  for (const auto& line : lines_of(text)) {
    std::smatch m;
    if (std::regex_match(line, m, k_help)) {
      helped = m[1];
    } else if (std::regex_match(line, m, k_type)) {
      if (m[1] != helped) {
        out.error = "TYPE without a HELP line before it: " + line;
        return out;
      }
      types[m[1]] = m[2];
    } else if (std::regex_match(line, m, k_sample)) {
      if (types.count(m[1]) == 0) {
        out.error = "sample of a metric without TYPE: " + line;
        return out;
      }
      out.samples[std::string(m[1]) + "{" + std::string(m[3]) + "}"] = std::stod(m[4]);
    } else {
      out.error = "not Prometheus text: " + line;
      return out;
    }
  }
  return out;
}

// The port of the "status page at http://127.0.0.1:PORT/" line, or -1.
int status_port(const ServerProcess& server) {
  static const std::regex k_line(R"(status page at http://127\.0\.0\.1:([0-9]+)/)");
  std::smatch m;
  return std::regex_search(server.output(), m, k_line) ? std::stoi(m[1]) : -1;
}

class StatusPort : public ::testing::Test {
protected:
  void start(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--workers", "1", "--status-listen", "127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    m_server = std::make_unique<ServerProcess>(args);
    ASSERT_TRUE(m_server->ok()) << m_server->error();
    m_port = status_port(*m_server);
    ASSERT_GT(m_port, 0) << m_server->output();
    m_channel = plain_channel(m_server->address());
  }

  // Upload `echo <word> > out` and its Action; return the Action's digest.
  v2::Digest action(Caller& caller, const std::string& word, const std::string& instance = "") {
    v2::Command cmd;
    cmd.add_arguments("/bin/sh");
    cmd.add_arguments("-c");
    cmd.add_arguments("echo " + word + " > out");
    cmd.add_output_paths("out");
    v2::Action action;
    *action.mutable_command_digest() = reapi::digest_of(cmd.SerializeAsString());
    *action.mutable_input_root_digest() = reapi::digest_of("");
    for (const auto& blob : {cmd.SerializeAsString(), action.SerializeAsString()}) {
      EXPECT_TRUE(caller.upload(blob, instance).ok());
      m_uploaded += static_cast<int64_t>(blob.size());
    }
    return reapi::digest_of(action.SerializeAsString());
  }

  util::TempDir m_dir;
  std::unique_ptr<ServerProcess> m_server;
  std::shared_ptr<grpc::Channel> m_channel;
  int m_port = -1;
  int64_t m_uploaded = 0;
};

TEST_F(StatusPort, ServesOnlyGetAndHeadOfItsPaths) {
  start();
  EXPECT_EQ(status_of(get(m_port, "/")), 200);
  EXPECT_EQ(status_of(get(m_port, "/metrics")), 200);
  const auto health = get(m_port, "/healthz");
  EXPECT_EQ(status_of(health), 200);
  EXPECT_EQ(body_of(health), "ok\n");
  const auto head = http_exchange(m_port, "HEAD /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");
  EXPECT_EQ(status_of(head), 200) << head;
  EXPECT_EQ(body_of(head), "");
  for (const std::string method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "BREW"}) {
    const auto answer =
        http_exchange(m_port,
                      method
                          + " /metrics HTTP/1.1\r\nHost: localhost\r\nContent-Length: "
                            "4\r\nConnection: close\r\n\r\nabcd");
    // A method HTTP does not define is a malformed request.
    EXPECT_EQ(status_of(answer), method == "BREW" ? 400 : 405) << method << ": " << answer;
  }
  for (const std::string path :
       {"/nope", "/metrics/x", "/../../etc/passwd", "/%2e%2e/etc/passwd", "/healthz?x=<b>"}) {
    const auto answer = get(m_port, path);
    EXPECT_TRUE(status_of(answer) == 404
                || (path.find('?') != std::string::npos && status_of(answer) == 200))
        << path << ": " << answer;
    EXPECT_EQ(answer.find("root:"), std::string::npos);
    EXPECT_EQ(answer.find("<b>"), std::string::npos);
  }
  // A declared body is never waited for, let alone read: the answer comes at once.
  const auto before = std::chrono::steady_clock::now();
  EXPECT_EQ(status_of(http_exchange(m_port,
                                    "GET /healthz HTTP/1.1\r\nHost: localhost\r\nContent-Length: "
                                    "100000000\r\nConnection: close\r\n\r\n",
                                    1s)),
            200);
  EXPECT_EQ(status_of(http_exchange(m_port,
                                    "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: "
                                    "100000000\r\nConnection: close\r\n\r\n",
                                    1s)),
            405);
  EXPECT_LT(std::chrono::steady_clock::now() - before, 1500ms);
  EXPECT_EQ(status_of(http_exchange(m_port, "NOT HTTP AT ALL\r\n\r\n")), 400);
  // A web page whose name resolves to 127.0.0.1 (DNS rebinding) is not answered.
  for (const std::string host : {"evil.example", "evil.example:1234", "127.0.0.1.nip.io"}) {
    const auto answer =
        http_exchange(m_port, "GET /metrics HTTP/1.1\r\nHost: " + host + "\r\n\r\n");
    EXPECT_EQ(status_of(answer), 403) << host << ": " << answer;
    EXPECT_EQ(answer.find("ccrex_"), std::string::npos) << host;
  }
  for (const std::string host : {"localhost", "127.0.0.1:8", "[::1]:9"}) {
    EXPECT_EQ(
        status_of(http_exchange(m_port, "GET /healthz HTTP/1.1\r\nHost: " + host + "\r\n\r\n")),
        200)
        << host;
  }
  // Every page tells browsers to run nothing and load nothing.
  const auto page = get(m_port, "/");
  EXPECT_NE(page.find("Content-Security-Policy: default-src 'none'"), std::string::npos) << page;
  EXPECT_NE(page.find("X-Content-Type-Options: nosniff"), std::string::npos);
  EXPECT_EQ(page.find("<script"), std::string::npos);
}

TEST_F(StatusPort, HugeRequestsAreRefusedAndItKeepsAnswering) {
  start();
  // Refused with a status, or with a reset when the rest of the request was not read.
  const auto refused = [](const std::string& answer, int status) {
    return answer.empty() || status_of(answer) == status;
  };
  const std::string long_uri(64 * 1024, 'a');
  const auto uri_answer = get(m_port, "/" + long_uri);
  EXPECT_TRUE(refused(uri_answer, 414)) << uri_answer.substr(0, 200);
  const std::string long_header = "X-Big: " + std::string(64 * 1024, 'b') + "\r\n";
  const auto header_answer = get(m_port, "/", long_header);
  EXPECT_TRUE(refused(header_answer, 400)) << header_answer.substr(0, 200);
  std::string many_headers;
  for (int i = 0; i < 2000; ++i) {
    many_headers += "X-H" + std::to_string(i) + ": v\r\n";
  }
  const int many = status_of(get(m_port, "/healthz", many_headers));
  EXPECT_TRUE(many == 200 || many == 400) << many;
  EXPECT_EQ(status_of(get(m_port, "/healthz")), 200);
  // The gRPC side never noticed.
  Caller anyone(m_channel, "");
  v2::ServerCapabilities caps;
  EXPECT_TRUE(anyone.capabilities("", &caps).ok());
}

TEST_F(StatusPort, SlowAndSilentClientsDoNotTieItUp) {
  start();
  // More idle and half-sent connections than the port has threads.
  std::vector<int> held;
  for (int i = 0; i < 12; ++i) {
    const int fd = connect_to(m_port);
    ASSERT_GE(fd, 0);
    if (i % 2 == 0) {
      send_all(fd, "GET / HTTP/1.1\r\nHost: localhost\r\n"); // never finished
    }
    held.push_back(fd);
  }
  // Each is dropped after the read timeout, so a fresh request gets through soon.
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(
      status_of(http_exchange(m_port, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n", 30s)),
      200);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
  for (const int fd : held) {
    EXPECT_TRUE(read_until_closed(fd, 15s).has_value()) << "the server kept a silent client";
    ::close(fd);
  }
  // A slowloris that sends one header every few seconds is cut off too.
  const int slow = connect_to(m_port);
  send_all(slow, "GET / HTTP/1.1\r\n");
  bool cut = false;
  for (int i = 0; i < 5 && !cut; ++i) {
    std::this_thread::sleep_for(3s);
    cut = ::send(slow, "X-A: b\r\n", 8, MSG_NOSIGNAL) < 0
          || read_until_closed(slow, 10ms).has_value();
  }
  EXPECT_TRUE(cut) << "a client sending a header every 3 s was kept";
  ::close(slow);
  EXPECT_EQ(status_of(get(m_port, "/healthz")), 200);
}

TEST_F(StatusPort, ShowsNoTokenHeaderOrCommandLine) {
  const std::string token = "status-secret-2b7c1f0e9d8a7b6c5d4e3f2a1b0c9d8e";
  const std::string file = m_dir.path() + "/tokens";
  ASSERT_TRUE(util::write_file_atomic(
      file, token_line(token, "*", "read,write-cas,execute", "builders"), 0600));
  start({"--auth-tokens", file});
  Caller builder(m_channel, token);
  const auto digest = action(builder, "command-line-secret-77", "<script>alert(1)</script>");
  v2::ExecuteResponse response;
  ASSERT_TRUE(builder.execute(digest, nullptr, &response, "<script>alert(1)</script>").ok());
  // Wrong tokens and odd headers, as a client might send them.
  Caller wrong(m_channel, "wrong-token-value-4242");
  v2::ServerCapabilities caps;
  EXPECT_FALSE(wrong.capabilities("", &caps).ok());
  {
    grpc::ClientContext ctx;
    builder.prepare(ctx);
    ctx.AddMetadata("x-private", "header-secret-5151");
    v2::GetCapabilitiesRequest req;
    EXPECT_TRUE(builder.caps->GetCapabilities(&ctx, req, &caps).ok());
  }
  for (const std::string path : {"/", "/metrics"}) {
    const auto answer = get(m_port, path, "Authorization: Bearer " + token + "\r\n");
    ASSERT_EQ(status_of(answer), 200) << path;
    for (const std::string& secret : {token,
                                      std::string("wrong-token-value-4242"),
                                      std::string("header-secret-5151"),
                                      std::string("command-line-secret-77"),
                                      util::sha256_hex(token)}) {
      EXPECT_EQ(answer.find(secret), std::string::npos) << path << " shows " << secret;
    }
  }
  // The client-chosen instance name is escaped as HTML on the page; /metrics is plain text
  // (nosniff) with Prometheus' own escaping.
  const auto page = get(m_port, "/");
  EXPECT_EQ(page.find("<script>"), std::string::npos);
  EXPECT_NE(page.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(get(m_port, "/").find(reapi::to_string(digest)), std::string::npos);
}

TEST_F(StatusPort, ClientsCannotGrowItWithInstanceNames) {
  start();
  Caller anyone(m_channel, "");
  for (int i = 0; i < 200; ++i) {
    EXPECT_EQ(
        anyone.get_result(reapi::digest_of("x"), nullptr, "inst-" + std::to_string(i)).error_code(),
        grpc::StatusCode::NOT_FOUND);
  }
  const auto parsed = parse_prometheus(body_of(get(m_port, "/metrics")));
  ASSERT_EQ(parsed.error, "");
  size_t instances = 0;
  for (const auto& [key, value] : parsed.samples) {
    if (key.rfind("ccrex_action_cache_lookups_total{", 0) == 0
        && key.find("result=\"miss\"") != std::string::npos) {
      ++instances;
    }
  }
  EXPECT_LE(instances, 65U);
  const std::string other =
      "ccrex_action_cache_lookups_total{instance=\"(other)\",result=\"miss\"}";
  EXPECT_EQ(parsed.samples.at(other), 200 - 64);
}

TEST(StatusListen, BeyondLoopbackOnlyWhenAskedFor) {
  util::TempDir dir;
  for (const std::string listen : {"0.0.0.0:0", "[::]:0", "192.0.2.1:0"}) {
    const auto r = run_server_to_exit({"--listen",
                                       "127.0.0.1:0",
                                       "--cache-dir",
                                       dir.path() + "/store",
                                       "--status-listen",
                                       listen});
    EXPECT_FALSE(r.timed_out) << listen << ": the server started";
    EXPECT_EQ(r.exit_code, 1) << listen;
    const auto lines = lines_of(r.stderr_data);
    ASSERT_EQ(lines.size(), 1U) << r.stderr_data;
    EXPECT_NE(lines[0].find("refusing to serve the status page on " + listen), std::string::npos)
        << lines[0];
    EXPECT_NE(lines[0].find("--allow-remote-status"), std::string::npos) << lines[0];
    EXPECT_EQ(r.stdout_data.find("listening on"), std::string::npos) << r.stdout_data;
  }
  ServerProcess server({"--status-listen", "0.0.0.0:0", "--allow-remote-status"});
  ASSERT_TRUE(server.ok()) << server.error();
  EXPECT_NE(server.output().find("status page at http://0.0.0.0:"), std::string::npos)
      << server.output();
}

// Chromium renders the page (no script needed) and /metrics parses as Prometheus text, both
// with the figures of what a client did.
TEST_F(StatusPort, ChromiumAndPrometheusSeeWhatClientsDid) {
  start();
  Caller client(m_channel, "");
  const auto digest = action(client, "hello");
  EXPECT_EQ(client.get_result(digest).error_code(), grpc::StatusCode::NOT_FOUND); // miss
  v2::ExecuteResponse first;
  ASSERT_TRUE(client.execute(digest, nullptr, &first).ok()); // miss, runs
  ASSERT_EQ(first.result().exit_code(), 0);
  EXPECT_TRUE(client.get_result(digest).ok()); // hit
  v2::ExecuteResponse second;
  ASSERT_TRUE(client.execute(digest, nullptr, &second).ok()); // hit
  EXPECT_TRUE(second.cached_result());
  EXPECT_EQ(client.get_result(reapi::digest_of("nothing"), nullptr, "ci").error_code(),
            grpc::StatusCode::NOT_FOUND);

  const auto metrics = get(m_port, "/metrics");
  EXPECT_NE(metrics.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  const auto parsed = parse_prometheus(body_of(metrics));
  ASSERT_EQ(parsed.error, "") << body_of(metrics);
  const auto& s = parsed.samples;
  const auto value = [&s](const std::string& key) {
    const auto it = s.find(key);
    return it == s.end() ? -1.0 : it->second;
  };
  EXPECT_EQ(value(R"(ccrex_action_cache_lookups_total{instance="",result="hit"})"), 2);
  EXPECT_EQ(value(R"(ccrex_action_cache_lookups_total{instance="",result="miss"})"), 2);
  EXPECT_EQ(value(R"(ccrex_action_cache_lookups_total{instance="ci",result="miss"})"), 1);
  EXPECT_EQ(value(R"(ccrex_executions_total{instance="",outcome="success"})"), 1);
  EXPECT_EQ(value(R"(ccrex_executions_total{instance="",outcome="failure"})"), 0);
  EXPECT_EQ(
      value(R"(ccrex_grpc_calls_total{method="ActionCache/GetActionResult",code="NOT_FOUND"})"), 2);
  EXPECT_EQ(value(R"(ccrex_grpc_calls_total{method="ActionCache/GetActionResult",code="OK"})"), 1);
  EXPECT_EQ(value(R"(ccrex_grpc_calls_total{method="Execution/Execute",code="OK"})"), 2);
  EXPECT_EQ(
      value(
          R"(ccrex_grpc_calls_total{method="ContentAddressableStorage/BatchUpdateBlobs",code="OK"})"),
      2);
  EXPECT_EQ(value("ccrex_cas_received_bytes_total{}"), static_cast<double>(m_uploaded));
  EXPECT_EQ(value("ccrex_actions_queued{}"), 0);
  EXPECT_EQ(value("ccrex_actions_running{}"), 0);
  EXPECT_GE(value("ccrex_uptime_seconds{}"), 0);
  EXPECT_GT(value("ccrex_store_bytes{}"), 0);
  EXPECT_EQ(value("ccrex_store_limit_bytes{}"), 5.0 * 1024 * 1024 * 1024);

  if (::access("/usr/bin/chromium", X_OK) != 0) {
    GTEST_SKIP() << "chromium is not installed (scripts/install-deps.sh); /metrics was checked";
  }
  util::SubprocessOptions o;
  o.argv = {"/usr/bin/chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--user-data-dir=" + m_dir.path() + "/chromium",
            "--dump-dom",
            "http://127.0.0.1:" + std::to_string(m_port) + "/"};
  o.timeout = 90s;
  o.env = std::vector<std::string>{"HOME=" + m_dir.path(), "PATH=/usr/bin:/bin"};
  auto r = util::run_subprocess(o);
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->exit_code, 0) << r->stderr_data;
  const std::string& dom = r->stdout_data;
  EXPECT_TRUE(std::regex_search(dom, std::regex(R"(<td id="uptime">(\d+d )?\d\d:\d\d:\d\d</td>)")))
      << dom;
  EXPECT_NE(dom.find(R"(<td id="hit-rate">40.0 %</td>)"), std::string::npos) << dom;
  EXPECT_NE(dom.find(R"(<td id="lookups">2 hits, 3 misses</td>)"), std::string::npos) << dom;
  EXPECT_NE(dom.find(R"(<td id="queued">0</td>)"), std::string::npos) << dom;
  EXPECT_NE(dom.find(R"(<td id="running">0</td>)"), std::string::npos) << dom;
  // Per instance: (default) 2 hits, 2 misses, 50 %, one execution; ci one miss.
  EXPECT_TRUE(std::regex_search(
      dom,
      std::regex(
          R"(<td>\(default\)</td><td class="n">2</td><td class="n">2</td><td class="n">50.0 %</td><td class="n">1</td><td class="n">0</td>)")))
      << dom;
  EXPECT_TRUE(
      std::regex_search(dom, std::regex(R"(<td>ci</td><td class="n">0</td><td class="n">1</td>)")))
      << dom;
  // The execution and the cache hit are listed with the action's digest.
  EXPECT_NE(dom.find(reapi::to_string(digest)), std::string::npos) << dom;
  EXPECT_NE(dom.find("cache hit, exit 0"), std::string::npos) << dom;
}

// SIGHUP reloads the token file and does not stop the server; a broken file keeps the old
// tokens.
TEST(Sighup, ReloadsTheTokenFileAndKeepsServing) {
  util::TempDir dir;
  const std::string old_token = "old-token-0f1e2d3c4b5a69788796a5b4c3d2e1f0";
  const std::string new_token = "new-token-a1b2c3d4e5f60718293a4b5c6d7e8f90";
  const std::string file = dir.path() + "/tokens";
  ASSERT_TRUE(util::write_file_atomic(file, token_line(old_token, "*", "read", "old"), 0600));
  ServerProcess server({"--auth-tokens", file});
  ASSERT_TRUE(server.ok()) << server.error();
  auto channel = plain_channel(server.address());
  const auto works = [&](const std::string& token) {
    Caller caller(channel, token);
    v2::ServerCapabilities caps;
    return caller.capabilities("", &caps).ok();
  };
  EXPECT_TRUE(works(old_token));
  EXPECT_FALSE(works(new_token));

  ASSERT_TRUE(util::write_file_atomic(file, token_line(new_token, "*", "read", "new"), 0600));
  ASSERT_EQ(::kill(server.pid(), SIGHUP), 0);
  bool switched = false;
  for (int i = 0; i < 50 && !switched; ++i) {
    std::this_thread::sleep_for(100ms);
    switched = works(new_token);
  }
  EXPECT_TRUE(switched) << "the new token file did not take effect";
  EXPECT_FALSE(works(old_token));
  EXPECT_EQ(::kill(server.pid(), 0), 0) << "SIGHUP stopped the server";

  // A file that does not parse (or grants nothing) is refused; the tokens in force stay.
  for (const std::string broken : {"this is not a token line\n", "# nothing\n"}) {
    ASSERT_TRUE(util::write_file_atomic(file, broken, 0600));
    ASSERT_EQ(::kill(server.pid(), SIGHUP), 0);
    std::this_thread::sleep_for(500ms);
    EXPECT_TRUE(works(new_token));
  }
  ASSERT_TRUE(::unlink(file.c_str()) == 0);
  ASSERT_EQ(::kill(server.pid(), SIGHUP), 0);
  std::this_thread::sleep_for(500ms);
  EXPECT_TRUE(works(new_token));
  EXPECT_EQ(server.kill_and_wait(SIGTERM), 0);
}

// --log-file takes stderr once the server listens; after a rotator renames the file,
// SIGHUP opens a new one under the old name and the server keeps serving.
TEST(Sighup, ReopensTheLogFile) {
  util::TempDir dir;
  const std::string log = dir.path() + "/server.log";
  ServerProcess server({"--log-file", log});
  ASSERT_TRUE(server.ok()) << server.error();
  const auto wait_for = [](const std::string& path, const std::string& text) {
    for (int i = 0; i < 50; ++i) {
      auto content = util::read_file(path);
      if (content && content->find(text) != std::string::npos) {
        return true;
      }
      std::this_thread::sleep_for(100ms);
    }
    return false;
  };
  ASSERT_EQ(::kill(server.pid(), SIGHUP), 0);
  ASSERT_TRUE(wait_for(log, "reopened " + log)) << "no log line in " << log;
  ASSERT_EQ(::rename(log.c_str(), (log + ".1").c_str()), 0);
  ASSERT_EQ(::kill(server.pid(), SIGHUP), 0);
  ASSERT_TRUE(wait_for(log, "reopened " + log)) << "no new " << log << " after SIGHUP";
  const auto old_lines = lines_of(util::read_file(log + ".1").value_or(""));
  EXPECT_EQ(old_lines.size(), 1U) << "the rotated file still gets lines";
  Caller anyone(plain_channel(server.address()), "");
  v2::ServerCapabilities caps;
  EXPECT_TRUE(anyone.capabilities("", &caps).ok());
  EXPECT_EQ(server.kill_and_wait(SIGTERM), 0);
  EXPECT_TRUE(wait_for(log, "shutting down"));
}

} // namespace
} // namespace ccrex::test
