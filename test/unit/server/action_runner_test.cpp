#include "reapi/digest.h"
#include "server/action_runner.h"
#include "server/output_collector.h"
#include "server/tree_validation.h"
#include "util/file.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

namespace ccrex::server {
namespace {

namespace v2 = reapi::v2;
using namespace std::chrono_literals;

class ActionRunnerTest : public ::testing::Test {
protected:
  void SetUp() override {
    auto s = BlobStore::open(m_dir.path() + "/store", int64_t{1} << 30);
    ASSERT_TRUE(s) << s.error().message();
    m_store = std::move(s).value();
    m_config.platform = {{"OSFamily", {"linux"}}};
    m_config.default_timeout = 30s;
  }

  v2::Digest put(const std::string& data) {
    EXPECT_TRUE(m_store->put_computed(data));
    return reapi::digest_of(data);
  }

  v2::FileNode file(const std::string& name, const std::string& content, bool exec = false) {
    v2::FileNode f;
    f.set_name(name);
    *f.mutable_digest() = content.empty() ? reapi::digest_of("") : put(content);
    f.set_is_executable(exec);
    return f;
  }

  static v2::Command command(const std::string& script) {
    v2::Command c;
    c.add_arguments("sh");
    c.add_arguments("-c");
    c.add_arguments(script);
    auto* env = c.add_environment_variables();
    env->set_name("PATH");
    env->set_value("/usr/bin:/bin");
    return c;
  }

  // Store `root` and `cmd`, then validate the action like Execute does.
  PreparedAction
  prepare(const v2::Directory& root, const v2::Command& cmd, std::chrono::seconds timeout = 0s) {
    v2::Action a;
    *a.mutable_input_root_digest() = put(root.SerializeAsString());
    *a.mutable_command_digest() = put(cmd.SerializeAsString());
    if (timeout.count() > 0) {
      a.mutable_timeout()->set_seconds(timeout.count());
    }
    auto p = prepare_action(*m_store, put(a.SerializeAsString()), m_config);
    EXPECT_TRUE(p) << (p ? "" : p.error().message);
    return p ? std::move(p).value() : PreparedAction{};
  }

  ActionRunner runner(bool hard_links = true) {
    return ActionRunner(*m_store,
                        {work_root(), "test-worker", hard_links, m_dir.path() + "/store"});
  }
  std::string work_root() const { return m_dir.path() + "/work"; }

  std::string blob(const v2::Digest& d) {
    auto data = m_store->read(reapi::from_proto(d));
    EXPECT_TRUE(data) << reapi::to_string(d);
    return data ? *data : std::string();
  }

  bool work_root_is_empty() const {
    return std::filesystem::is_empty(std::filesystem::path(work_root()));
  }

  util::TempDir m_dir{"ccrex-runner-test-"};
  std::unique_ptr<BlobStore> m_store;
  Config m_config;
};

TEST_F(ActionRunnerTest, StagesRunsAndCollects) {
  v2::Directory root;
  *root.add_files() = file("in.txt", "input\n");
  *root.add_files() = file("tool.sh", "#!/bin/sh\necho tool\n", true);
  auto cmd = command("./tool.sh; cat in.txt; stat -c %a tool.sh in.txt; stat -c %h in.txt; "
                     "cp tool.sh out/tool2; cat in.txt > out/copy.txt; echo err >&2");
  cmd.add_output_paths("out/copy.txt");
  cmd.add_output_paths("out/tool2");
  const auto run = runner();
  const auto resp = run.run(prepare(root, cmd));
  ASSERT_EQ(resp.status().code(), 0) << resp.status().message();
  const auto& r = resp.result();
  EXPECT_EQ(r.exit_code(), 0);
  // Executables are private 0555 copies; plain inputs are 0444 hard links to the store
  // where the command runs as a user of its own (a root server's sandbox), else copies.
  const char* links = run.sandbox().command_user() ? "2" : "1";
  EXPECT_EQ(blob(r.stdout_digest()), "tool\ninput\n555\n444\n" + std::string(links) + "\n");
  EXPECT_EQ(blob(r.stderr_digest()), "err\n");
  ASSERT_EQ(r.output_files_size(), 2);
  EXPECT_EQ(r.output_files(0).path(), "out/copy.txt");
  EXPECT_EQ(blob(r.output_files(0).digest()), "input\n");
  EXPECT_FALSE(r.output_files(0).is_executable());
  EXPECT_EQ(r.output_files(1).path(), "out/tool2");
  EXPECT_TRUE(r.output_files(1).is_executable());
  const auto& meta = r.execution_metadata();
  EXPECT_EQ(meta.worker(), "test-worker");
  EXPECT_LE(meta.execution_start_timestamp().seconds(),
            meta.execution_completed_timestamp().seconds());
  EXPECT_TRUE(meta.has_output_upload_completed_timestamp());
  EXPECT_TRUE(work_root_is_empty());
}

TEST_F(ActionRunnerTest, CopiesInsteadOfLinkingWhenAsked) {
  v2::Directory root;
  *root.add_files() = file("in.txt", "input\n");
  const auto resp = runner(false).run(prepare(root, command("stat -c '%a %h' in.txt")));
  EXPECT_EQ(blob(resp.result().stdout_digest()), "444 1\n");
}

TEST_F(ActionRunnerTest, InputsThatAreOutputsAreWritableCopies) {
  v2::Directory root;
  *root.add_files() = file("data.txt", "orig\n");
  auto cmd = command("stat -c '%a %h' data.txt; echo more >> data.txt");
  cmd.add_output_paths("data.txt");
  const auto resp = runner().run(prepare(root, cmd));
  ASSERT_EQ(resp.result().exit_code(), 0) << blob(resp.result().stderr_digest());
  EXPECT_EQ(blob(resp.result().stdout_digest()), "644 1\n");
  EXPECT_EQ(blob(resp.result().output_files(0).digest()), "orig\nmore\n");
  EXPECT_EQ(blob(reapi::digest_of("orig\n")), "orig\n");
}

TEST_F(ActionRunnerTest, EmptyFilesDirectoriesAndSymlinksAreCreated) {
  v2::Directory root;
  *root.add_files() = file("empty", "");
  auto* d = root.add_directories();
  d->set_name("dir");
  *d->mutable_digest() = reapi::digest_of("");
  auto* s = root.add_symlinks();
  s->set_name("link");
  s->set_target("dir");
  const auto resp =
      runner().run(prepare(root, command("test -f empty && test -d dir && readlink link")));
  EXPECT_EQ(resp.result().exit_code(), 0);
  EXPECT_EQ(blob(resp.result().stdout_digest()), "dir\n");
}

TEST_F(ActionRunnerTest, VanishedInputBlobIsReportedMissing) {
  v2::Directory root;
  *root.add_files() = file("gone.txt", "soon gone\n");
  const auto prepared = prepare(root, command("true"));
  const auto d = reapi::from_proto(reapi::digest_of("soon gone\n"));
  const auto path = m_store->path_of(d);
  ASSERT_TRUE(path);
  ASSERT_EQ(::unlink(path->c_str()), 0); // what an eviction does behind the runner's back
  const auto resp = runner().run(prepared);
  EXPECT_EQ(resp.status().code(), grpc::StatusCode::FAILED_PRECONDITION);
  ASSERT_EQ(resp.status().details_size(), 1);
  google::rpc::PreconditionFailure failure;
  ASSERT_TRUE(resp.status().details(0).UnpackTo(&failure));
  ASSERT_EQ(failure.violations_size(), 1);
  EXPECT_EQ(failure.violations(0).type(), "MISSING");
  EXPECT_EQ(failure.violations(0).subject(), "blobs/" + d.hash + "/" + std::to_string(d.size));
  EXPECT_TRUE(work_root_is_empty());
}

TEST_F(ActionRunnerTest, TimeoutKeepsPartialOutput) {
  const auto start = std::chrono::steady_clock::now();
  const auto resp = runner().run(prepare({}, command("echo partial; sleep 20"), 1s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  EXPECT_EQ(resp.status().code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(blob(resp.result().stdout_digest()), "partial\n");
}

TEST_F(ActionRunnerTest, CancelKillsTheCommand) {
  std::atomic<bool> cancel{false};
  std::thread canceller([&] {
    std::this_thread::sleep_for(300ms);
    cancel = true;
  });
  const auto start = std::chrono::steady_clock::now();
  const auto resp = runner().run(prepare({}, command("sleep 20")), &cancel);
  canceller.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
  EXPECT_EQ(resp.status().code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(ActionRunnerTest, ReadOnlyLeftoversAreRemoved) {
  const auto resp = runner().run(prepare({}, command("mkdir -p d/e; touch d/e/f; chmod 0 d/e d")));
  EXPECT_EQ(resp.result().exit_code(), 0);
  EXPECT_TRUE(work_root_is_empty());
}

TEST_F(ActionRunnerTest, LegacyOutputTypeMismatchIsFailedPrecondition) {
  auto cmd = command("mkdir d; echo x > f");
  cmd.add_output_files("d");
  auto resp = runner().run(prepare({}, cmd));
  EXPECT_EQ(resp.status().code(), grpc::StatusCode::FAILED_PRECONDITION);
  auto cmd2 = command("mkdir d; echo x > f");
  cmd2.add_output_directories("f");
  resp = runner().run(prepare({}, cmd2));
  EXPECT_EQ(resp.status().code(), grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(ActionRunnerTest, AbsoluteOutputSymlinkIsRefused) {
  auto cmd = command("ln -s /etc/passwd link");
  cmd.add_output_paths("link");
  const auto resp = runner().run(prepare({}, cmd));
  EXPECT_EQ(resp.status().code(), grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(ActionRunnerTest, TreeIsDeterministicAndIncludesEmptyDirectories) {
  const std::string a = m_dir.path() + "/a";
  const std::string b = m_dir.path() + "/b";
  ASSERT_TRUE(util::make_dirs(a + "/x/empty"));
  ASSERT_TRUE(util::write_file_atomic(a + "/x/f", "1"));
  ASSERT_TRUE(util::write_file_atomic(a + "/top", "2", 0755));
  ASSERT_TRUE(util::make_dirs(b + "/x"));
  ASSERT_TRUE(util::write_file_atomic(b + "/top", "2", 0755));
  ASSERT_TRUE(util::write_file_atomic(b + "/x/f", "1"));
  ASSERT_TRUE(util::make_dirs(b + "/x/empty"));
  const auto ta = build_tree(*m_store, a);
  const auto tb = build_tree(*m_store, b);
  ASSERT_TRUE(ta && tb);
  EXPECT_EQ(ta->SerializeAsString(), tb->SerializeAsString());
  ASSERT_EQ(ta->root().files_size(), 1);
  EXPECT_TRUE(ta->root().files(0).is_executable());
  ASSERT_EQ(ta->children_size(), 2); // x, then x/empty
  EXPECT_EQ(ta->children(0).directories(0).name(), "empty");
  EXPECT_EQ(ta->children(1).ByteSizeLong(), 0U);
}

// Without a sandbox an action shares the host's /tmp: the runner gives it a directory of its
// own below the server's temporary root instead, and removes it with whatever is left there.
TEST_F(ActionRunnerTest, UnconfinedActionsGetAPrivateTmpdirRemovedAfterwards) {
  const std::string tmp_root = m_dir.path() + "/tmp";
  ASSERT_TRUE(util::make_dirs(tmp_root));
  SandboxSettings unconfined;
  unconfined.enabled = false;
  const auto make_runner = [&](const std::string& root) {
    return ActionRunner(*m_store,
                        {.work_root = work_root(),
                         .worker_name = "test-worker",
                         .store_dir = m_dir.path() + "/store",
                         .sandbox = unconfined,
                         .tmp_root = root});
  };
  const auto run = [&](const ActionRunner& r, const v2::Command& cmd) {
    const auto resp = r.run(prepare(v2::Directory(), cmd));
    EXPECT_EQ(resp.status().code(), 0) << resp.status().message();
    EXPECT_EQ(resp.result().exit_code(), 0) << blob(resp.result().stderr_digest());
    return blob(resp.result().stdout_digest());
  };
  // A read-only directory left behind does not keep the directory from going.
  const std::string out = run(make_runner(tmp_root),
                              command("echo \"$TMPDIR\"; stat -c %a \"$TMPDIR\"; "
                                      "mkdir \"$TMPDIR/sub\" && touch \"$TMPDIR/sub/f\" && "
                                      "chmod 500 \"$TMPDIR/sub\" && echo written"));
  EXPECT_EQ(out.rfind(tmp_root + "/ccrex-action-", 0), 0U) << out;
  EXPECT_NE(out.find("\n700\nwritten\n"), std::string::npos) << out;
  EXPECT_TRUE(std::filesystem::is_empty(std::filesystem::path(tmp_root)));

  // A Command that sets TMPDIR keeps it, and nothing is made.
  auto own = command("echo \"$TMPDIR\"");
  auto* var = own.add_environment_variables();
  var->set_name("TMPDIR");
  var->set_value("/var/tmp");
  EXPECT_EQ(run(make_runner(tmp_root), own), "/var/tmp\n");
  EXPECT_TRUE(std::filesystem::is_empty(std::filesystem::path(tmp_root)));

  // A temporary root that cannot be used leaves the action as it would be without one.
  EXPECT_EQ(run(make_runner(tmp_root + "/missing"), command("echo \"${TMPDIR-unset}\"")),
            "unset\n");
  EXPECT_TRUE(work_root_is_empty());
}

TEST(ResolveProgram, FollowsRemoteApi23Rules) {
  util::TempDir dir;
  ASSERT_TRUE(util::make_dirs(dir.path() + "/bin"));
  ASSERT_TRUE(util::write_file_atomic(dir.path() + "/bin/tool", "#!/bin/sh\n", 0755));
  EXPECT_EQ(*resolve_program("./x/y", dir.path(), {}), "./x/y");
  EXPECT_EQ(*resolve_program("/bin/sh", dir.path(), {}), "/bin/sh");
  EXPECT_EQ(*resolve_program("sh", dir.path(), {"PATH=/usr/bin:/bin"}), "sh");
  EXPECT_EQ(*resolve_program("tool", dir.path(), {"PATH=bin:/usr/bin"}), dir.path() + "/bin/tool");
  const auto missing = resolve_program("tool", dir.path(), {"PATH=/usr/bin"});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), util::ErrorCode::not_found);
}

TEST(MakeRpcStatus, AddsOneMissingViolationPerDigest) {
  const auto st = make_rpc_status(9, "gone", {reapi::digest_of("a"), reapi::digest_of("bc")});
  EXPECT_EQ(st.code(), 9);
  EXPECT_EQ(st.message(), "gone");
  ASSERT_EQ(st.details_size(), 1);
  google::rpc::PreconditionFailure f;
  ASSERT_TRUE(st.details(0).UnpackTo(&f));
  ASSERT_EQ(f.violations_size(), 2);
  EXPECT_EQ(f.violations(1).subject(), "blobs/" + reapi::digest_of("bc").hash() + "/2");
  EXPECT_EQ(make_rpc_status(3, "bad").details_size(), 0);
}

} // namespace
} // namespace ccrex::server
