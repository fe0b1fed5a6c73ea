// The sandbox against the real ccrex-server (label `hostile`): an action runs as another
// user, sees neither the store nor the host's network, writes nowhere but its own input
// root, leaves no process behind and meets its limits; with ccrex-root=input it sees only
// its input root as `/` (a tiny root file system made of busybox-static).

#include "conformance/execution_support.h"
#include "hostile/hostile_support.h"
#include "util/file.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>

namespace ccrex::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* k_uid = "64123";

bool have_bwrap() {
  return ::access("/usr/bin/bwrap", X_OK) == 0;
}

std::string unique_word() {
  std::random_device rd;
  return std::to_string(rd()) + std::to_string(rd());
}

// Set the Action's platform to `props` (sorted by the caller).
std::function<void(v2::Action&)>
with_platform(std::vector<std::pair<std::string, std::string>> props, int timeout_s = 0) {
  return [props = std::move(props), timeout_s](v2::Action& a) {
    for (const auto& [name, value] : props) {
      auto* p = a.mutable_platform()->add_properties();
      p->set_name(name);
      p->set_value(value);
    }
    if (timeout_s > 0) {
      a.mutable_timeout()->set_seconds(timeout_s);
    }
  };
}

// A sleep length that names this test process: `seconds` followed by its pid in seven
// digits, so that two runs of these tests at once (the native and the bwrap suites under
// ctest -j) never find, or kill, each other's processes.
std::string own_sleep(const std::string& seconds) {
  std::array<char, 16> pid{};
  std::snprintf(pid.data(), pid.size(), "%07d", static_cast<int>(::getpid()));
  return seconds + pid.data();
}

// A TCP socket listening on a free loopback port.
class Listener {
public:
  Listener() {
    m_fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (m_fd >= 0 && ::bind(m_fd, reinterpret_cast<sockaddr*>(&addr), len) == 0
        && ::listen(m_fd, 16) == 0
        && ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      m_port = ntohs(addr.sin_port);
    }
  }
  ~Listener() { ::close(m_fd); }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  int port() const { return m_port; }

private:
  int m_fd = -1;
  int m_port = 0;
};

class Sandbox : public ExecutionFixture {
protected:
  std::vector<std::string> server_args() const override {
    return {"--workers",
            "2",
            "--sandbox-uid",
            k_uid,
            "--sandbox-gid",
            k_uid,
            "--sandbox-max-file-size",
            "1M",
            "--sandbox-max-memory",
            "1G",
            "--sandbox-max-processes",
            "40"};
  }
  bool accepts_client_results() const override { return false; }

  void SetUp() override {
    if (!have_bwrap()) {
      GTEST_SKIP() << "bubblewrap is not installed";
    }
    ExecutionFixture::SetUp();
  }

  // Run `script` with /bin/sh in the host root; return the response.
  v2::ExecuteResponse sh(const std::string& script,
                         std::vector<std::string> outputs = {},
                         const InputTree& tree = {},
                         const std::function<void(v2::Action&)>& tweak = {}) {
    return run_ok(action(command({"/bin/sh", "-c", script}, std::move(outputs)), tree, tweak));
  }

  std::string out(const v2::ExecuteResponse& r) { return blob(r.result().stdout_digest()); }
  std::string err(const v2::ExecuteResponse& r) { return blob(r.result().stderr_digest()); }

  util::TempDir m_dir{"ccrex-sandbox-"};
};

TEST_F(Sandbox, ActionsRunAsTheSandboxUserNotAsTheServers) {
  const auto r = sh("id -u; id -g; cat /proc/self/status | grep ^CapEff");
  ASSERT_EQ(r.status().code(), 0) << r.status().message();
  EXPECT_EQ(out(r), std::string(k_uid) + "\n" + k_uid + "\nCapEff:\t0000000000000000\n") << err(r);
}

TEST_F(Sandbox, TheStoreIsNotVisible) {
  const std::string secret = "sandbox-secret-" + unique_word();
  put(secret);
  const std::string store = server().cache_dir();
  // The word is split in the script, so only the stored blob could match.
  const std::string half = secret.substr(0, 10);
  const std::string rest = secret.substr(10);
  const auto r = sh("grep -rl \"" + half + "\"\"" + rest + "\" /tmp 2>/dev/null; ls -A " + store
                    + " 2>&1; test -e " + store + "/cas && echo cas-visible; exit 0");
  ASSERT_EQ(r.status().code(), 0) << r.status().message();
  const std::string listing = out(r);
  EXPECT_EQ(listing.find(secret), std::string::npos) << listing;
  EXPECT_EQ(listing.find("cas"), std::string::npos) << listing;
  EXPECT_EQ(listing.find("lock"), std::string::npos) << listing;
}

TEST_F(Sandbox, TheHostNetworkIsNotReachableUnlessAskedForAndAllowed) {
  Listener listener;
  ASSERT_GT(listener.port(), 0);
  const std::string connect =
      "exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(listener.port()) + " && echo connected";
  auto r = run_ok(action(command({"/bin/bash", "-c", connect})));
  ASSERT_EQ(r.status().code(), 0) << r.status().message();
  EXPECT_NE(r.result().exit_code(), 0);
  EXPECT_EQ(out(r), "");
  // Asking for the network on a server that does not allow it is refused.
  const auto refused = execute(action(command({"/bin/bash", "-c", connect + " # asked"}),
                                      {},
                                      with_platform({{"ccrex-network", "on"}})));
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << refused.status.error_message();
}

// A server that allows the network gives it to the actions that ask, so the check above
// can see a connection.
class SandboxWithNetwork : public Sandbox {
protected:
  std::vector<std::string> server_args() const override {
    return {"--sandbox-allow-network", "--sandbox-uid", k_uid, "--sandbox-gid", k_uid};
  }
};

TEST_F(SandboxWithNetwork, ActionsThatAskKeepTheNetwork) {
  Listener listener;
  ASSERT_GT(listener.port(), 0);
  const std::string connect =
      "exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(listener.port()) + " && echo connected";
  auto r = run_ok(
      action(command({"/bin/bash", "-c", connect}), {}, with_platform({{"ccrex-network", "on"}})));
  ASSERT_EQ(r.status().code(), 0) << r.status().message();
  EXPECT_EQ(out(r), "connected\n") << err(r);
  // Without asking, still none.
  r = run_ok(action(command({"/bin/bash", "-c", connect + " # not asked"})));
  EXPECT_EQ(out(r), "");
}

TEST_F(Sandbox, WritesLandOnlyInTheInputRoot) {
  ASSERT_EQ(::chmod(m_dir.path().c_str(), 0777), 0);
  const std::string word = unique_word();
  const std::string host_file = m_dir.path() + "/written-" + word;
  const std::string tmp_file = "/tmp/ccrex-sandbox-" + word;
  const std::string usr_file = "/usr/ccrex-sandbox-" + word;
  const std::string etc_file = "/etc/ccrex-sandbox-" + word;
  const auto r =
      sh("echo x > " + host_file + "; echo x > " + usr_file + "; echo x > " + etc_file
             + "; echo x > " + tmp_file + " && echo tmp-ok; echo x > out/file && echo out-ok",
         {"out/file"});
  const bool leaked = util::path_exists(host_file) || util::path_exists(tmp_file)
                      || util::path_exists(usr_file) || util::path_exists(etc_file);
  ::unlink(usr_file.c_str());
  ::unlink(etc_file.c_str());
  ::unlink(tmp_file.c_str());
  ASSERT_EQ(r.status().code(), 0) << r.status().message();
  EXPECT_FALSE(leaked) << "an action wrote outside its input root";
  // Its own /tmp and its outputs are writable.
  EXPECT_EQ(out(r), "tmp-ok\nout-ok\n") << err(r);
  ASSERT_EQ(r.result().output_files_size(), 1);
}

// A root server hard-links inputs its own user owns from the store: the action, another
// user, can neither write nor chmod them, so later actions read the uploaded bytes.
TEST_F(Sandbox, LinkedInputsCannotBeChangedByTheAction) {
  const std::string genuine = "genuine " + unique_word() + "\n";
  InputTree tree;
  tree.file("in.txt", genuine);
  const auto first = sh("stat -c %h in.txt; chmod u+w in.txt 2>/dev/null && echo chmod-ok; "
                        "(echo tampered > in.txt) 2>/dev/null && echo write-ok; cat in.txt",
                        {},
                        tree);
  ASSERT_EQ(first.status().code(), 0) << first.status().message();
  // Two names (the store's and the action's): a hard link, and it held.
  EXPECT_EQ(out(first), "2\n" + genuine) << err(first);
  const auto second = sh("cat in.txt; echo again", {}, tree);
  EXPECT_EQ(out(second), genuine + "again\n") << err(second);
}

// An output enters the store as the sandbox user's file (put_file links it), so a later
// action, that user again, could chmod it: as an input it is always a private copy.
TEST_F(Sandbox, AnOutputTheSandboxUserOwnsIsCopiedWhenItBecomesAnInput) {
  const std::string made = "made " + unique_word() + "\n";
  const auto producer =
      sh("printf '" + made.substr(0, made.size() - 1) + "\\n' > out.txt", {"out.txt"});
  ASSERT_EQ(producer.result().output_files_size(), 1) << err(producer);
  ASSERT_EQ(blob(producer.result().output_files(0).digest()), made);
  InputTree tree;
  tree.file("in.txt", made);
  const auto tamper =
      sh("stat -c %h in.txt; chmod u+w in.txt && echo tampered > in.txt; cat in.txt", {}, tree);
  EXPECT_EQ(out(tamper), "1\ntampered\n") << err(tamper);
  const auto reader = sh("cat in.txt; echo again", {}, tree);
  EXPECT_EQ(out(reader), made + "again\n") << err(reader);
}

TEST_F(Sandbox, NoProcessOutlivesItsAction) {
  const std::string a = own_sleep("987.25"), b = own_sleep("987.5"), c = own_sleep("987.75");
  const auto r = sh("setsid sleep " + a + " & sleep " + b + " & (trap '' HUP TERM; sleep " + c
                    + ") & echo started");
  ASSERT_EQ(r.status().code(), 0) << r.status().message();
  EXPECT_EQ(out(r), "started\n");
  std::this_thread::sleep_for(500ms);
  EXPECT_FALSE(process_with_word(a, true));
  EXPECT_FALSE(process_with_word(b, true));
  EXPECT_FALSE(process_with_word(c, true));
}

TEST_F(Sandbox, ATimedOutActionLeavesNothingRunning) {
  const std::string stray = own_sleep("986.5");
  const auto out =
      execute(action(command({"/bin/sh", "-c", "setsid sleep " + stray + " & sleep 30"}),
                     {},
                     with_platform({}, 1)));
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  EXPECT_EQ(out.response.status().code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  std::this_thread::sleep_for(500ms);
  EXPECT_FALSE(process_with_word(stray, true));
}

// The server dies (kill -9, an out-of-memory kill) while an action runs: the action's
// processes die with it instead of running on unowned.
TEST_F(Sandbox, NoProcessOutlivesAKilledServer) {
  const std::string sleeper = own_sleep("985.5");
  std::thread running([&] {
    (void)execute(action(command({"/bin/sh", "-c", "sleep " + sleeper + "; echo late"})));
  });
  for (int i = 0; i < 200 && !process_with_word(sleeper); ++i) {
    std::this_thread::sleep_for(50ms);
  }
  const bool started = process_with_word(sleeper);
  server().kill_and_wait(SIGKILL);
  running.join();
  ASSERT_TRUE(started) << "the action never started";
  bool gone = false;
  for (int i = 0; i < 40 && !gone; ++i) {
    std::this_thread::sleep_for(50ms);
    gone = !process_with_word(sleeper);
  }
  EXPECT_TRUE(gone) << "the action outlived its server";
  if (!gone) {
    process_with_word(sleeper, true);
  }
}

TEST_F(Sandbox, FileSizeMemoryAndProcessLimitsApply) {
  // 1M per file.
  auto r = sh("head -c 2000000 /dev/zero > out; echo $?", {"out"});
  ASSERT_EQ(r.status().code(), 0) << r.status().message();
  ASSERT_EQ(r.result().output_files_size(), 1);
  EXPECT_LE(r.result().output_files(0).digest().size_bytes(), 1 << 20);
  // 1G of address space.
  r = run_ok(
      action(command({"/usr/bin/perl", "-e", "my $x = 'a' x (1536 * 1024 * 1024); print 1"})));
  ASSERT_EQ(r.status().code(), 0) << r.status().message();
  EXPECT_NE(r.result().exit_code(), 0);
  EXPECT_EQ(out(r), "");
  // 40 processes of the sandbox user.
  r = sh("for i in $(seq 60); do sleep 3 & done; wait; echo done");
  ASSERT_EQ(r.status().code(), 0) << r.status().message();
  EXPECT_NE(err(r).find("fork"), std::string::npos) << err(r);
}

// A server started with a descriptor it did not open (one its parent left without
// close-on-exec, as a service manager or a shell may).
class SandboxOfAServerWithAStrayDescriptor : public Sandbox {
protected:
  void SetUp() override {
    const int fd = ::open(m_dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    m_stray = ::fcntl(fd, F_DUPFD, 77); // above what the server opens; inherited on purpose
    ::close(fd);
    ASSERT_GE(m_stray, 77);
    Sandbox::SetUp();
  }
  void TearDown() override {
    Sandbox::TearDown();
    ::close(m_stray);
  }
  int m_stray = -1;
};

// What a hostile command would try from inside to widen its sandbox (asked without doing
// harm where the sandbox is missing): a user namespace of its own (the way to every other
// namespace and to mounts), the kernel's settings, descriptors the server handed to the
// sandbox's builder or got from its own parent (an open directory outside the root is a
// way out through ".."), capabilities or privileges that could come back on exec.
TEST_F(SandboxOfAServerWithAStrayDescriptor, NoWayOutIsLeftOpenInside) {
  const auto r = sh("unshare -U true 2>/dev/null && echo new-user-namespace;"
                    "unshare -m true 2>/dev/null && echo new-mount-namespace;"
                    "test -w /proc/sys/kernel/hostname && echo kernel-settings-writable;"
                    "ls /proc/self/fd | tr '\n' ' '; echo;"
                    "grep -E '^(CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs)' /proc/self/status;"
                    "cat /proc/sys/kernel/hostname");
  ASSERT_EQ(r.status().code(), 0) << r.status().message();
  EXPECT_EQ(out(r),
            "0 1 2 3 \n" // ls's own and the directory it lists
            "CapPrm:\t0000000000000000\n"
            "CapEff:\t0000000000000000\n"
            "CapBnd:\t0000000000000000\n"
            "CapAmb:\t0000000000000000\n"
            "NoNewPrivs:\t1\n"
            "ccrex\n")
      << err(r);
}

// The server builds the sandbox itself unless told to use bubblewrap (the whole sandbox
// label runs a second time that way, as hostile_sandbox_bwrap): the first process of the
// action's PID namespace shows which.
TEST_F(Sandbox, TheSandboxIsBuiltByTheBackendAskedFor) {
  const auto r = sh("tr '\\0' ' ' < /proc/1/cmdline");
  ASSERT_EQ(r.status().code(), 0) << r.status().message();
  const char* args = std::getenv("CCREX_TEST_SERVER_ARGS"); // NOLINT(concurrency-mt-unsafe)
  const bool bwrap = args != nullptr && std::string(args).find("bwrap") != std::string::npos;
  if (bwrap) {
    EXPECT_EQ(out(r).find("--sandbox"), std::string::npos) << out(r);
    EXPECT_NE(out(r).find("--status-fd"), std::string::npos) << out(r);
  } else {
    EXPECT_NE(out(r).find("ccrex-action-init --sandbox "), std::string::npos) << out(r);
  }
}

TEST_F(Sandbox, ASignalIsReportedAsSuch) {
  const auto r = sh("kill -9 $$");
  EXPECT_EQ(r.status().code(), 0);
  EXPECT_EQ(r.result().exit_code(), 137);
  EXPECT_NE(r.message().find("signal 9"), std::string::npos) << r.message();
}

// --- The input root as / ---

// A root file system of busybox-static: bin/busybox and the applets as symlinks to it.
InputTree busybox_root() {
  InputTree tree;
  auto data = util::read_file("/bin/busybox");
  tree.file("bin/busybox", data ? *data : std::string(), true);
  for (const char* applet : {"sh", "echo", "cat", "ls", "mkdir", "id", "test", "touch"}) {
    tree.symlink(std::string("bin/") + applet, "busybox");
  }
  tree.file("data/in.txt", "input data\n");
  return tree;
}

class InputRoot : public Sandbox {
protected:
  void SetUp() override {
    if (::access("/bin/busybox", X_OK) != 0) {
      GTEST_SKIP() << "busybox-static is not installed";
    }
    Sandbox::SetUp();
  }
  v2::ExecuteResponse in_root(std::vector<std::string> args,
                              std::vector<std::string> outputs = {},
                              const std::string& working_directory = "") {
    InputTree tree = busybox_root();
    if (!working_directory.empty()) {
      tree.dir(working_directory);
    }
    auto cmd = command(std::move(args), std::move(outputs));
    cmd.set_working_directory(working_directory);
    return run_ok(action(cmd, tree, with_platform({{"ccrex-root", "input"}})));
  }
};

TEST_F(InputRoot, CommandsSeeOnlyTheInputRootAndReadTheirInputs) {
  const auto r =
      in_root({"/bin/sh", "-c", "ls /; cat /data/in.txt; id -u; test -e /usr && echo usr"});
  ASSERT_EQ(r.status().code(), 0) << r.status().message();
  EXPECT_EQ(out(r), "bin\ndata\ndev\nproc\ntmp\ninput data\n" + std::string(k_uid) + "\n")
      << err(r);
}

TEST_F(InputRoot, AbsolutePathsAndOutputDirectoriesAreCapturedFromInside) {
  const auto r = in_root({"sh",
                          "-c",
                          "test -d /deep/nested || exit 9; mkdir /deep/nested/dir; "
                          "echo inside > /deep/nested/dir/f; mkdir -p /buildstream-install/a; "
                          "echo installed > /buildstream-install/a/b; echo top > /top.txt"},
                         {"buildstream-install", "deep/nested/dir", "top.txt"});
  ASSERT_EQ(r.status().code(), 0) << r.status().message();
  ASSERT_EQ(r.result().exit_code(), 0) << err(r);
  ASSERT_EQ(r.result().output_files_size(), 1);
  EXPECT_EQ(r.result().output_files(0).path(), "top.txt");
  EXPECT_EQ(blob(r.result().output_files(0).digest()), "top\n");
  ASSERT_EQ(r.result().output_directories_size(), 2);
  EXPECT_EQ(r.result().output_directories(0).path(), "buildstream-install");
  EXPECT_EQ(r.result().output_directories(1).path(), "deep/nested/dir");
}

TEST_F(InputRoot, AnInputRootsOwnTmpIsKept) {
  // A project below /tmp sent with its toolchain: its files stay visible, /tmp writable.
  const auto r = in_root({"sh",
                          "-c",
                          "pwd; cat /data/in.txt; echo t > /tmp/scratch && echo tmp-ok; "
                          "echo o > out.txt"},
                         {"out.txt"},
                         "tmp/project");
  ASSERT_EQ(r.status().code(), 0) << r.status().message();
  EXPECT_EQ(out(r), "/tmp/project\ninput data\ntmp-ok\n") << err(r);
  ASSERT_EQ(r.result().output_files_size(), 1);
}

TEST_F(InputRoot, TheWorkingDirectoryIsInsideTheRoot) {
  const auto r =
      in_root({"sh", "-c", "pwd; echo rel > rel.txt; cat ../data/in.txt"}, {"rel.txt"}, "work");
  ASSERT_EQ(r.status().code(), 0) << r.status().message();
  EXPECT_EQ(out(r), "/work\ninput data\n") << err(r);
  ASSERT_EQ(r.result().output_files_size(), 1);
}

TEST_F(InputRoot, AFailingCommandReportsItsStatus) {
  const auto r = in_root({"/bin/sh", "-c", "echo failing >&2; exit 3"});
  ASSERT_EQ(r.status().code(), 0) << r.status().message();
  EXPECT_EQ(r.result().exit_code(), 3);
  EXPECT_EQ(err(r), "failing\n");
}

TEST_F(InputRoot, AProgramMissingFromTheRootIsAPreconditionFailure) {
  // /usr/bin/env exists on the host, not in the input root.
  const auto r = in_root({"/usr/bin/env"});
  EXPECT_EQ(r.status().code(), grpc::StatusCode::FAILED_PRECONDITION) << r.status().message();
}

// --- Cached input subtrees (tree_cache.h) ---

// The busybox root plus `lib/`, a subtree of 80 files (above the cache's file threshold):
// the second action that carries it builds it into the tree cache, every later one gets it
// mounted read-only.
InputTree root_with_library() {
  InputTree tree = busybox_root();
  for (int i = 0; i < 80; ++i) {
    tree.file("lib/f" + std::to_string(i), "library file " + std::to_string(i) + "\n");
  }
  tree.file("lib/sub/deep", "deep\n");
  tree.symlink("bin/rm", "busybox");
  tree.symlink("bin/mv", "busybox");
  tree.symlink("bin/chmod", "busybox");
  tree.symlink("bin/grep", "busybox");
  return tree;
}

class CachedSubtree : public InputRoot {
protected:
  v2::ExecuteResponse in_library_root(const std::string& script,
                                      std::vector<std::string> outputs = {},
                                      const std::string& working_directory = "") {
    InputTree tree = root_with_library();
    if (!working_directory.empty()) {
      tree.dir(working_directory);
    }
    auto cmd = command({"/bin/sh", "-c", script}, std::move(outputs));
    cmd.set_working_directory(working_directory);
    return run_ok(action(cmd, tree, with_platform({{"ccrex-root", "input"}})), true);
  }
  // Run actions until `lib` is mounted read-only (seen, then built): at most three.
  void warm() {
    for (int i = 0; i < 3; ++i) {
      const auto r = in_library_root("grep -q ' /lib ro,' /proc/self/mountinfo && echo mounted; "
                                     ": "
                                     + unique_word());
      ASSERT_EQ(r.status().code(), 0) << r.status().message();
      if (out(r) == "mounted\n") {
        return;
      }
    }
    FAIL() << "the repeated subtree lib/ was never mounted from the tree cache";
  }
};

TEST_F(CachedSubtree, AnActionCannotChangeACachedSubtree) {
  warm();
  const auto r = in_library_root(
      "echo tampered > /lib/f0 && echo wrote; chmod 777 /lib/f1 && echo chmod; "
      "mv /lib/f2 /lib/moved && echo renamed; rm -f /lib/f3 && echo deleted; "
      "mkdir /lib/new && echo created; rm -rf /lib/sub 2>/dev/null; test -e /lib/sub/deep || "
      "echo removed; mv /lib /elsewhere && echo moved; rm -rf /lib; test -e /lib/f4 || echo gone; "
      "cat /lib/f0 /lib/f1 /lib/f2 /lib/f3");
  ASSERT_EQ(r.status().code(), 0) << r.status().message();
  EXPECT_EQ(out(r), "library file 0\nlibrary file 1\nlibrary file 2\nlibrary file 3\n") << err(r);
  // A later action reads the original bytes and modes.
  const auto later = in_library_root("cat /lib/f0 /lib/f3 /lib/sub/deep; ls -l /lib/f1");
  ASSERT_EQ(later.status().code(), 0) << later.status().message();
  EXPECT_EQ(out(later).rfind("library file 0\nlibrary file 3\ndeep\n-r--r--r--", 0), 0U)
      << out(later) << err(later);
}

TEST_F(CachedSubtree, OutputsNextToACachedSubtreeWork) {
  warm();
  const auto r = in_library_root("grep -q ' /lib ro,' /proc/self/mountinfo || exit 9; "
                                 "cat /lib/f5 > /out.txt; echo object > /build/obj/a.o",
                                 {"build/obj/a.o", "out.txt"});
  ASSERT_EQ(r.status().code(), 0) << r.status().message();
  ASSERT_EQ(r.result().exit_code(), 0) << err(r);
  EXPECT_EQ(r.result().output_files_size(), 2);
  for (const auto& f : r.result().output_files()) {
    if (f.path() == "out.txt") {
      EXPECT_EQ(blob(f.digest()), "library file 5\n");
    }
  }
}

TEST_F(CachedSubtree, AnOutputInsideARepeatedSubtreeKeepsItWritable) {
  warm();
  // lib/ is cached, but this action writes into it: it gets a private copy.
  const auto r = in_library_root("grep -q ' /lib ro,' /proc/self/mountinfo && echo mounted; "
                                 "echo new > /lib/f0 && cat /lib/f0",
                                 {"lib/f0"});
  ASSERT_EQ(r.status().code(), 0) << r.status().message();
  EXPECT_EQ(out(r), "new\n") << err(r);
  ASSERT_EQ(r.result().output_files_size(), 1);
  EXPECT_EQ(blob(r.result().output_files(0).digest()), "new\n");
  const auto later = in_library_root("cat /lib/f0");
  EXPECT_EQ(out(later), "library file 0\n") << err(later);
}

TEST_F(Sandbox, ARepeatedSubtreeIsMountedReadOnlyInTheHostRootToo) {
  InputTree tree;
  for (int i = 0; i < 80; ++i) {
    tree.file("lib/f" + std::to_string(i), "library file " + std::to_string(i) + "\n");
  }
  std::string seen;
  for (int i = 0; i < 3; ++i) {
    const auto r = sh("grep -q \" $PWD/lib ro,\" /proc/self/mountinfo && echo mounted; "
                      "echo tampered > lib/f0; chmod 666 lib/f1; rm -f lib/f2; cat lib/f0 lib/f2; "
                      ": " + unique_word(),
                      {"out.txt"},
                      tree);
    ASSERT_EQ(r.status().code(), 0) << r.status().message();
    seen = out(r);
  }
  EXPECT_EQ(seen, "mounted\nlibrary file 0\nlibrary file 2\n") << "third action";
}

// A server whose sandbox does not work (here: bubblewrap chosen, and missing) never runs an
// input-root action; host-root actions still run, as the server's user. (Root never gets this
// fallback, see below: as root the server runs here as the unprivileged sandbox user.)
class NoSandbox : public ExecutionFixture {
protected:
  std::vector<std::string> server_args() const override {
    return {"--sandbox-backend",
            "bwrap",
            "--sandbox-bwrap",
            "/nonexistent/bwrap",
            "--sandbox-root",
            "input"};
  }
  bool accepts_client_results() const override { return false; }
  std::string server_cache_dir() const override {
    return ::geteuid() == 0 ? m_home.path() + "/store" : std::string();
  }
  std::vector<std::string> server_wrapper() const override {
    if (::geteuid() != 0) {
      return {};
    }
    return {"/usr/bin/setpriv",
            std::string("--reuid=") + k_uid,
            std::string("--regid=") + k_uid,
            "--clear-groups",
            "--"};
  }
  void SetUp() override {
    if (::geteuid() == 0) {
      const auto uid = static_cast<uid_t>(std::stoul(k_uid));
      ASSERT_EQ(::chown(m_home.path().c_str(), uid, uid), 0);
    }
    ExecutionFixture::SetUp();
  }

  util::TempDir m_home{"ccrex-nosandbox-home-"};
};

TEST_F(NoSandbox, InputRootActionsAreRefusedNeverRunOnTheRealRoot) {
  const std::string marker = "/tmp/ccrex-nosandbox-" + unique_word();
  auto r = run_ok(action(command({"/bin/sh", "-c", "echo x > " + marker})));
  const bool ran = util::path_exists(marker);
  ::unlink(marker.c_str());
  EXPECT_EQ(r.status().code(), grpc::StatusCode::FAILED_PRECONDITION) << r.status().message();
  EXPECT_NE(r.status().message().find("ccrex-root=input"), std::string::npos)
      << r.status().message();
  EXPECT_FALSE(ran);
  // Asked for explicitly: not offered.
  const auto refused = execute(
      action(command({"/bin/sh", "-c", "echo y"}), {}, with_platform({{"ccrex-root", "input"}})));
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << refused.status.error_message();
  r = run_ok(
      action(command({"/bin/sh", "-c", "echo host"}), {}, with_platform({{"ccrex-root", "host"}})));
  EXPECT_EQ(r.status().code(), 0) << r.status().message();
  EXPECT_EQ(blob(r.result().stdout_digest()), "host\n");
}

// A server run as root never runs a network client's command unconfined as root: when the
// sandbox does not work it does not start, with one line that says why and what to do,
// unless --no-sandbox says the operator wants exactly that.
TEST(RootServer, DoesNotStartWhenItsActionsCannotBeConfined) {
  if (::geteuid() != 0) {
    GTEST_SKIP() << "needs root";
  }
  util::TempDir dir{"ccrex-rootserver-"};
  const std::string store = dir.path() + "/store";
  ASSERT_EQ(::chmod(dir.path().c_str(), 0700), 0); // the sandbox user cannot reach the store
  const auto r = run_server_to_exit({"--listen", "127.0.0.1:0", "--cache-dir", store});
  EXPECT_FALSE(r.timed_out) << "the server started";
  EXPECT_EQ(r.exit_code, 1);
  const auto lines = lines_of(r.stderr_data);
  ASSERT_FALSE(lines.empty());
  const std::string& error = lines.back();
  EXPECT_NE(error.find("runs as root"), std::string::npos) << r.stderr_data;
  EXPECT_NE(error.find("searchable"), std::string::npos) << r.stderr_data;
  EXPECT_NE(error.find("--no-sandbox"), std::string::npos) << r.stderr_data;

  const auto missing = run_server_to_exit({"--listen",
                                           "127.0.0.1:0",
                                           "--cache-dir",
                                           store,
                                           "--sandbox-backend",
                                           "bwrap",
                                           "--sandbox-bwrap",
                                           "/nonexistent/bwrap"});
  EXPECT_EQ(missing.exit_code, 1) << missing.stderr_data;
  EXPECT_NE(missing.stderr_data.find("/nonexistent/bwrap not found"), std::string::npos)
      << missing.stderr_data;

  // Said explicitly, it runs (until the time limit), and says loudly what that means.
  const auto unconfined = run_server_to_exit(
      {"--listen", "127.0.0.1:0", "--cache-dir", store, "--no-sandbox"}, std::chrono::seconds(3));
  EXPECT_TRUE(unconfined.timed_out) << unconfined.stderr_data;
  EXPECT_NE(unconfined.stderr_data.find("unconfined AS ROOT"), std::string::npos)
      << unconfined.stderr_data;
}

} // namespace
} // namespace ccrex::test
