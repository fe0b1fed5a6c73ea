// Where the server may listen: plaintext beyond loopback only with an explicit, loudly
// logged option; "unix:PATH" replaces nothing but a dead socket.

#include "hostile/hostile_support.h"

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace ccrex::test {
namespace {

class Listen : public ::testing::Test {
protected:
  void SetUp() override { let_sandbox_search(m_dir.path()); }
  std::vector<std::string> args(const std::string& listen) const {
    return {"--listen", listen, "--cache-dir", m_dir.path() + "/store"};
  }

  util::TempDir m_dir;
};

TEST_F(Listen, PlaintextBeyondLoopbackIsRefused) {
  for (const std::string listen : {"0.0.0.0:0", "[::]:0", "grpc://0.0.0.0:0"}) {
    const auto r = run_server_to_exit(args(listen));
    EXPECT_FALSE(r.timed_out) << listen << ": the server started";
    EXPECT_EQ(r.exit_code, 1) << listen;
    const auto lines = lines_of(r.stderr_data);
    ASSERT_EQ(lines.size(), 1U) << r.stderr_data;
    EXPECT_NE(lines[0].find("refusing to listen on " + listen + " without TLS"), std::string::npos)
        << lines[0];
    EXPECT_NE(lines[0].find("--allow-insecure-listen"), std::string::npos) << lines[0];
    EXPECT_EQ(r.stdout_data.find("listening on"), std::string::npos) << r.stdout_data;
  }
}

TEST_F(Listen, ExplicitOptionAllowsItWithAWarning) {
  const std::string log = m_dir.path() + "/server.log";
  ServerProcess server({"--allow-insecure-listen"},
                       "0.0.0.0:0",
                       m_dir.path() + "/store",
                       {"/bin/sh", "-c", "log=$0; exec \"$@\" 2>\"$log\"", log});
  ASSERT_TRUE(server.ok()) << server.error();
  const auto text = util::read_file(log);
  ASSERT_TRUE(text);
  EXPECT_NE(text->find("WITHOUT TLS"), std::string::npos) << *text;
  EXPECT_NE(text->find("WARN"), std::string::npos) << *text;
}

TEST_F(Listen, LoopbackAndUnixSocketsNeedNoOption) {
  for (const std::string& listen :
       {std::string("127.0.0.1:0"), std::string("localhost:0"), "unix:" + m_dir.path() + "/s"}) {
    ServerProcess server({}, listen, m_dir.path() + "/store-" + std::to_string(listen.size()));
    EXPECT_TRUE(server.ok()) << listen << ": " << server.error();
  }
}

TEST_F(Listen, UnixPathHoldingAFileIsLeftAlone) {
  const std::string file = m_dir.path() + "/precious";
  ASSERT_TRUE(util::write_file_atomic(file, "keep me\n"));
  const auto r = run_server_to_exit(args("unix:" + file));
  EXPECT_FALSE(r.timed_out) << "the server started";
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.stderr_data.find("not a socket"), std::string::npos) << r.stderr_data;
  const auto after = util::read_file(file);
  ASSERT_TRUE(after) << "the file is gone";
  EXPECT_EQ(*after, "keep me\n");
}

TEST_F(Listen, UnixPathHoldingASymlinkOrDirectoryIsLeftAlone) {
  const std::string target = m_dir.path() + "/target";
  ASSERT_TRUE(util::write_file_atomic(target, "keep me\n"));
  const std::string link = m_dir.path() + "/link";
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  const std::string dir = m_dir.path() + "/dir";
  ASSERT_TRUE(util::make_dirs(dir));
  ASSERT_TRUE(util::write_file_atomic(dir + "/inside", "x"));
  for (const auto& path : {link, dir}) {
    const auto r = run_server_to_exit(args("unix:" + path));
    EXPECT_FALSE(r.timed_out) << path;
    EXPECT_EQ(r.exit_code, 1) << path;
  }
  struct stat st {};
  ASSERT_EQ(::lstat(link.c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(*util::read_file(target), "keep me\n");
  EXPECT_TRUE(util::path_exists(dir + "/inside"));
}

TEST_F(Listen, DeadSocketIsReplaced) {
  const std::string path = m_dir.path() + "/dead.sock";
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): the sockets API
  ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
  ::close(fd); // bound, never listening: what a killed server leaves behind
  ServerProcess server({}, "unix:" + path, m_dir.path() + "/store");
  EXPECT_TRUE(server.ok()) << server.error();
}

TEST_F(Listen, LiveSocketOfAnotherServerIsNotStolen) {
  const std::string path = m_dir.path() + "/live.sock";
  ServerProcess first({}, "unix:" + path, m_dir.path() + "/store-1");
  ASSERT_TRUE(first.ok()) << first.error();
  const auto r =
      run_server_to_exit({"--listen", "unix:" + path, "--cache-dir", m_dir.path() + "/store-2"});
  EXPECT_FALSE(r.timed_out) << "the second server started";
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.stderr_data.find("another process is listening"), std::string::npos) << r.stderr_data;
  // The first server is still reachable at its path.
  Caller c(plain_channel("unix:" + path), "");
  v2::ServerCapabilities caps;
  const auto st = c.capabilities("", &caps);
  EXPECT_TRUE(st.ok()) << st.error_message();
}

} // namespace
} // namespace ccrex::test
