#include "protocol/agent_dir.h"
#include "protocol/socket_io.h"
#include "util/file.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <string>
#include <thread>

namespace ccrex::protocol {
namespace {

struct SocketPair {
  UniqueFd a;
  UniqueFd b;
  SocketPair() {
    std::array<int, 2> fds{};
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds.data()), 0);
    a.reset(fds[0]);
    b.reset(fds[1]);
  }
};

std::string read_fd(int fd) {
  std::string out;
  std::array<char, 256> buf{};
  ssize_t n = 0;
  while ((n = ::read(fd, buf.data(), buf.size())) > 0) {
    out.append(buf.data(), static_cast<size_t>(n));
  }
  return out;
}

TEST(SocketIo, FrameWithDescriptorsArrives) {
  SocketPair s;
  std::array<int, 2> pipe_fds{};
  ASSERT_EQ(::pipe(pipe_fds.data()), 0);
  Request request;
  request.argv = {"gcc", "-c", "x.c"};
  ASSERT_TRUE(send_frame(s.a.get(), encode_request(request), {pipe_fds[1], pipe_fds[1]}));
  ::close(pipe_fds[1]);

  auto frame = receive_frame(s.b.get(), 2);
  ASSERT_TRUE(frame) << frame.error().to_string();
  ASSERT_EQ(frame->fds.size(), 2U);
  EXPECT_EQ(frame->header.version, k_protocol_version);
  auto decoded = decode_request_payload(frame->payload);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, request);
  // The received descriptor is the pipe: writing to it reaches the read end.
  EXPECT_NE(::fcntl(frame->fds[0].get(), F_GETFD) & FD_CLOEXEC, 0);
  ASSERT_EQ(::write(frame->fds[0].get(), "hi", 2), 2);
  frame->fds.clear();
  EXPECT_EQ(read_fd(pipe_fds[0]), "hi");
  ::close(pipe_fds[0]);
}

TEST(SocketIo, TooManyDescriptorsAreRefusedAndClosed) {
  SocketPair s;
  Reply reply;
  ASSERT_TRUE(send_frame(s.a.get(), encode_reply(reply), {STDERR_FILENO}));
  auto frame = receive_frame(s.b.get(), 0);
  EXPECT_FALSE(frame);
}

TEST(SocketIo, LargeFrameRoundTrip) {
  SocketPair s;
  Reply reply;
  reply.kind = ReplyKind::text;
  reply.out.assign(3 * 1024 * 1024, 'x');
  std::thread writer([&] { ASSERT_TRUE(send_frame(s.a.get(), encode_reply(reply))); });
  auto frame = receive_frame(s.b.get(), 0);
  writer.join();
  ASSERT_TRUE(frame);
  auto decoded = decode_reply_payload(frame->payload);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, reply);
}

TEST(SocketIo, EndOfFileInsideFrameFails) {
  const std::string full = encode_reply(Reply{ReplyKind::run_locally, 0, "because", "", ""});
  for (size_t n : {size_t{0}, size_t{5}, k_header_size, full.size() - 1}) {
    SocketPair s;
    ASSERT_TRUE(send_frame(s.a.get(), std::string_view(full).substr(0, n)));
    s.a.reset();
    EXPECT_FALSE(receive_frame(s.b.get(), 0)) << "length " << n;
  }
}

TEST(SocketIo, OtherVersionHeaderIsReportedWithoutPayload) {
  SocketPair s;
  std::string frame = encode_reply(Reply{ReplyKind::done, 0, "", "", ""});
  frame[4] = static_cast<char>(k_protocol_version + 1);
  ASSERT_TRUE(send_frame(s.a.get(), frame));
  auto got = receive_frame(s.b.get(), 0);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->header.version, k_protocol_version + 1);
  EXPECT_TRUE(got->payload.empty());
}

TEST(SocketIo, ConnectAndListenWithLongPath) {
  util::TempDir tmp;
  std::string dir = tmp.path();
  while (dir.size() < 150) {
    dir = util::join_path(dir, "deeper-directory-name");
  }
  ASSERT_TRUE(util::make_dirs(dir));
  const std::string path = util::join_path(dir, "agent.sock");
  auto listener = listen_unix(path, 4);
  ASSERT_TRUE(listener) << listener.error().to_string();
  EXPECT_TRUE(util::path_exists(path));
  auto client = connect_unix(path);
  ASSERT_TRUE(client) << client.error().to_string();
}

TEST(SocketIo, ConnectToMissingSocketFails) {
  util::TempDir tmp;
  auto client = connect_unix(util::join_path(tmp.path(), "none.sock"));
  ASSERT_FALSE(client);
}

TEST(AgentDir, ChoiceOrder) {
  EXPECT_EQ(choose_agent_dir("/x/agent", "/run/user/5", 5), "/x/agent");
  EXPECT_EQ(choose_agent_dir("", "/run/user/5", 5), "/run/user/5/ccrex");
  EXPECT_EQ(choose_agent_dir(nullptr, nullptr, 5), "/tmp/ccrex-5");
  EXPECT_EQ(choose_agent_dir(nullptr, "", 42), "/tmp/ccrex-42");
  const AgentPaths p = agent_paths("/d");
  EXPECT_EQ(p.socket, "/d/agent.sock");
  EXPECT_EQ(p.pid_file, "/d/agent.pid");
}

TEST(AgentDir, CreatesPrivateDirectory) {
  util::TempDir tmp;
  const std::string dir = util::join_path(tmp.path(), "a/b/agent");
  ASSERT_TRUE(ensure_private_dir(dir, ::getuid()));
  struct stat st {};
  ASSERT_EQ(::lstat(dir.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 077, 0U);
  EXPECT_TRUE(ensure_private_dir(dir, ::getuid())); // existing is fine
}

TEST(AgentDir, RefusesOpenForeignOrSymlinkedDirectory) {
  util::TempDir tmp;
  const std::string open_dir = util::join_path(tmp.path(), "open");
  ASSERT_EQ(::mkdir(open_dir.c_str(), 0700), 0);
  ASSERT_EQ(::chmod(open_dir.c_str(), 0755), 0);
  auto s = ensure_private_dir(open_dir, ::getuid());
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code(), util::ErrorCode::permission_denied);

  const std::string mine = util::join_path(tmp.path(), "mine");
  ASSERT_EQ(::mkdir(mine.c_str(), 0700), 0);
  EXPECT_FALSE(ensure_private_dir(mine, ::getuid() + 1));

  const std::string link = util::join_path(tmp.path(), "link");
  ASSERT_EQ(::symlink(mine.c_str(), link.c_str()), 0);
  EXPECT_FALSE(ensure_private_dir(link, ::getuid()));

  const std::string file = util::join_path(tmp.path(), "file");
  ASSERT_TRUE(util::write_file_atomic(file, "x", 0600));
  EXPECT_FALSE(ensure_private_dir(file, ::getuid()));
}

} // namespace
} // namespace ccrex::protocol
