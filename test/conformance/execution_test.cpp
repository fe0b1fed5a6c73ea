// Conformance checks for the Execution service of ccrex-server: actions run end to end
// through the real binary over a real socket. Names refer to the E-checks of the REAPI
// notes (§12.4). Request validation lives in execution_validation_test.cpp.

#include "execution_support.h"
#include "util/file.h"

#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

namespace ccrex::test {
namespace {

using Execution = ExecutionFixture;

v2::ExecuteOperationMetadata metadata_of(const google::longrunning::Operation& op) {
  v2::ExecuteOperationMetadata meta;
  EXPECT_TRUE(op.metadata().UnpackTo(&meta));
  return meta;
}

const v2::OutputFile* find_file(const v2::ActionResult& r, const std::string& path) {
  for (const auto& f : r.output_files()) {
    if (f.path() == path) {
      return &f;
    }
  }
  return nullptr;
}

TEST_F(Execution, E1_EchoWithOutputFile) {
  const auto digest = action(command({"sh", "-c", "echo hi; echo data > out.txt"}, {"out.txt"}));
  const auto out = execute(digest);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  ASSERT_GE(out.operations.size(), 2U);
  EXPECT_FALSE(out.operations.front().done());
  EXPECT_FALSE(out.operations.front().name().empty());
  const auto first = metadata_of(out.operations.front());
  EXPECT_TRUE(first.stage() == v2::ExecutionStage::CACHE_CHECK
              || first.stage() == v2::ExecutionStage::QUEUED);
  EXPECT_EQ(first.action_digest().hash(), digest.hash());
  for (const auto& op : out.operations) {
    EXPECT_EQ(op.name(), out.operations.front().name());
  }
  ASSERT_TRUE(out.done);
  EXPECT_EQ(metadata_of(out.operations.back()).stage(), v2::ExecutionStage::COMPLETED);
  const auto& resp = out.response;
  EXPECT_EQ(resp.status().code(), 0);
  EXPECT_FALSE(resp.cached_result());
  EXPECT_EQ(resp.result().exit_code(), 0);
  EXPECT_EQ(blob(resp.result().stdout_digest()), "hi\n");
  EXPECT_EQ(blob(resp.result().stderr_digest()), "");
  const auto* file = find_file(resp.result(), "out.txt");
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(blob(file->digest()), "data\n");
  EXPECT_FALSE(file->is_executable());
  EXPECT_FALSE(resp.result().execution_metadata().worker().empty());
  EXPECT_EQ(ac_lookup(digest), grpc::StatusCode::OK);
}

TEST_F(Execution, E2_SecondRunIsCached) {
  const auto digest = action(command({"sh", "-c", "echo hi > out.txt"}, {"out.txt"}));
  const auto first = run_ok(digest);
  EXPECT_FALSE(first.cached_result());
  const auto second = run_ok(digest);
  EXPECT_TRUE(second.cached_result());
  EXPECT_EQ(second.result().output_files(0).digest().hash(),
            first.result().output_files(0).digest().hash());
}

TEST_F(Execution, E3_SkipCacheLookupRunsAgainAndReplacesTheEntry) {
  const auto digest = action(command({"sh", "-c", "od -An -N16 -tx1 /dev/urandom"}));
  const auto first = run_ok(digest);
  const auto second = run_ok(digest, true);
  EXPECT_FALSE(second.cached_result());
  EXPECT_NE(first.result().stdout_digest().hash(), second.result().stdout_digest().hash());
  v2::ActionResult stored;
  ASSERT_EQ(ac_lookup(digest, &stored), grpc::StatusCode::OK);
  EXPECT_EQ(stored.stdout_digest().hash(), second.result().stdout_digest().hash());
}

TEST_F(Execution, E4_DoNotCacheLeavesNoEntry) {
  const auto digest =
      action(command({"sh", "-c", "echo x"}), {}, [](v2::Action& a) { a.set_do_not_cache(true); });
  EXPECT_FALSE(run_ok(digest).cached_result());
  EXPECT_EQ(ac_lookup(digest), grpc::StatusCode::NOT_FOUND);
  EXPECT_FALSE(run_ok(digest).cached_result());
}

TEST_F(Execution, E5_NonZeroExitIsAResultButNotCached) {
  const auto digest = action(command({"sh", "-c", "echo oops >&2; exit 3"}));
  const auto resp = run_ok(digest);
  EXPECT_EQ(resp.status().code(), 0);
  EXPECT_EQ(resp.result().exit_code(), 3);
  EXPECT_EQ(blob(resp.result().stderr_digest()), "oops\n");
  EXPECT_EQ(ac_lookup(digest), grpc::StatusCode::NOT_FOUND);
  EXPECT_FALSE(run_ok(digest).cached_result());
}

TEST_F(Execution, E7_OutputsAreRelativeToTheWorkingDirectory) {
  InputTree tree;
  tree.file("src/sub/in.txt", "input\n");
  auto cmd = command({"sh", "-c", "cat in.txt > gen/out.txt; pwd > ../where.txt"},
                     {"../where.txt", "gen/out.txt"});
  cmd.set_working_directory("src/sub");
  const auto resp = run_ok(action(cmd, tree));
  ASSERT_EQ(resp.result().exit_code(), 0) << blob(resp.result().stderr_digest());
  const auto* out = find_file(resp.result(), "gen/out.txt");
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(blob(out->digest()), "input\n");
  const auto* where = find_file(resp.result(), "../where.txt");
  ASSERT_NE(where, nullptr);
  const std::string pwd = blob(where->digest());
  EXPECT_GE(pwd.size(), 9U);
  EXPECT_EQ(pwd.substr(pwd.size() - 9), "/src/sub\n");
}

TEST_F(Execution, E8_OutputPathsWithFileDirectoryAndSymlink) {
  const auto digest = action(
      command({"sh",
               "-c",
               "echo f > file; mkdir -p dir/empty dir/sub; echo g > dir/sub/g; ln -s file link"},
              {"dir", "file", "link", "missing"}));
  const auto r = run_ok(digest).result();
  ASSERT_EQ(r.exit_code(), 0);
  ASSERT_EQ(r.output_files_size(), 1);
  EXPECT_EQ(r.output_files(0).path(), "file");
  ASSERT_EQ(r.output_symlinks_size(), 1);
  EXPECT_EQ(r.output_symlinks(0).path(), "link");
  EXPECT_EQ(r.output_symlinks(0).target(), "file");
  ASSERT_EQ(r.output_directories_size(), 1);
  EXPECT_EQ(r.output_directories(0).path(), "dir");
  v2::Tree tree;
  ASSERT_TRUE(tree.ParseFromString(blob(r.output_directories(0).tree_digest())));
  ASSERT_EQ(tree.root().directories_size(), 2);
  EXPECT_EQ(tree.root().directories(0).name(), "empty");
  EXPECT_TRUE(reapi::is_empty_blob(tree.root().directories(0).digest()));
  EXPECT_EQ(tree.root().directories(1).name(), "sub");
  // Both children are in the Tree: the empty directory and sub (with file g).
  ASSERT_EQ(tree.children_size(), 2);
  bool found_g = false;
  for (const auto& child : tree.children()) {
    for (const auto& f : child.files()) {
      found_g = found_g || (f.name() == "g" && blob(f.digest()) == "g\n");
    }
  }
  EXPECT_TRUE(found_g);
  EXPECT_EQ(r.output_file_symlinks_size(), 0);
}

TEST_F(Execution, E9_LegacyFieldsReportSymlinksByKind) {
  auto cmd = command({"sh", "-c", "echo a > a; mkdir d; ln -s a alink; ln -s d dlink"});
  cmd.add_output_files("a");
  cmd.add_output_files("alink");
  cmd.add_output_directories("d");
  cmd.add_output_directories("dlink");
  const auto r = run_ok(action(cmd)).result();
  ASSERT_EQ(r.exit_code(), 0);
  ASSERT_EQ(r.output_files_size(), 1);
  ASSERT_EQ(r.output_file_symlinks_size(), 1);
  EXPECT_EQ(r.output_file_symlinks(0).path(), "alink");
  EXPECT_EQ(r.output_file_symlinks(0).target(), "a");
  ASSERT_EQ(r.output_directory_symlinks_size(), 1);
  EXPECT_EQ(r.output_directory_symlinks(0).path(), "dlink");
  EXPECT_EQ(r.output_directory_symlinks(0).target(), "d");
  ASSERT_EQ(r.output_directories_size(), 1);
  EXPECT_EQ(r.output_symlinks_size(), 0);
}

TEST_F(Execution, E10_OutputFileThatIsADirectoryFails) {
  auto cmd = command({"sh", "-c", "mkdir out"});
  cmd.add_output_files("out");
  const auto digest = action(cmd);
  const auto resp = run_ok(digest);
  EXPECT_EQ(resp.status().code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ac_lookup(digest), grpc::StatusCode::NOT_FOUND);
}

TEST_F(Execution, E11_ExecutableInputsAndOutputs) {
  InputTree tree;
  tree.file("tool.sh", "#!/bin/sh\necho tool ran\n", true);
  tree.file("data.txt", "plain\n");
  const auto r =
      run_ok(action(command({"sh",
                             "-c",
                             "./tool.sh; stat -c %a tool.sh data.txt; cp tool.sh out.sh; "
                             "chmod 755 out.sh; echo x > plain.txt"},
                            {"out.sh", "plain.txt"}),
                    tree))
          .result();
  ASSERT_EQ(r.exit_code(), 0) << blob(r.stderr_digest());
  EXPECT_EQ(blob(r.stdout_digest()), "tool ran\n555\n444\n");
  const auto* exe = find_file(r, "out.sh");
  ASSERT_NE(exe, nullptr);
  EXPECT_TRUE(exe->is_executable());
  const auto* plain = find_file(r, "plain.txt");
  ASSERT_NE(plain, nullptr);
  EXPECT_FALSE(plain->is_executable());
}

TEST_F(Execution, E12_TimeoutGivesDeadlineExceededAndIsNotCached) {
  const auto digest = action(command({"sh", "-c", "echo before; sleep 10"}), {}, [](v2::Action& a) {
    a.mutable_timeout()->set_seconds(1);
  });
  const auto start = std::chrono::steady_clock::now();
  const auto resp = run_ok(digest);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(8));
  EXPECT_EQ(resp.status().code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(blob(resp.result().stdout_digest()), "before\n");
  EXPECT_EQ(ac_lookup(digest), grpc::StatusCode::NOT_FOUND);
}

TEST_F(Execution, E16_WaitExecutionResumesAfterTheClientCancelled) {
  const auto digest = action(command({"sh", "-c", "sleep 2; echo finished"}));
  std::string name;
  {
    v2::ExecuteRequest req;
    *req.mutable_action_digest() = digest;
    grpc::ClientContext ctx;
    auto reader = exec->Execute(&ctx, req);
    google::longrunning::Operation op;
    ASSERT_TRUE(reader->Read(&op));
    EXPECT_FALSE(op.done());
    name = op.name();
    ctx.TryCancel();
    while (reader->Read(&op)) {
    }
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  v2::WaitExecutionRequest wait;
  wait.set_name(name);
  grpc::ClientContext ctx;
  auto reader = exec->WaitExecution(&ctx, wait);
  const auto out = read_stream(*reader);
  ASSERT_TRUE(out.status.ok()) << out.status.error_message();
  ASSERT_TRUE(out.done);
  EXPECT_EQ(out.operations.back().name(), name);
  EXPECT_EQ(out.response.result().exit_code(), 0);
  EXPECT_EQ(blob(out.response.result().stdout_digest()), "finished\n");
  // A finished operation can still be waited for.
  grpc::ClientContext again_ctx;
  auto again = exec->WaitExecution(&again_ctx, wait);
  const auto replay = read_stream(*again);
  EXPECT_TRUE(replay.status.ok());
  ASSERT_EQ(replay.operations.size(), 1U);
  EXPECT_TRUE(replay.done);
}

TEST_F(Execution, E17_WaitExecutionOnUnknownNameIsNotFound) {
  v2::WaitExecutionRequest wait;
  wait.set_name("operations/does-not-exist");
  grpc::ClientContext ctx;
  auto reader = exec->WaitExecution(&ctx, wait);
  const auto out = read_stream(*reader);
  EXPECT_EQ(out.status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(out.operations.empty());
}

TEST_F(Execution, E18_BareProgramNameIsFoundThroughTheCommandPath) {
  InputTree tree;
  tree.file("tools/mytool", "#!/bin/sh\necho from mytool\n", true);
  auto cmd = command({"mytool"});
  cmd.mutable_environment_variables(0)->set_value("tools:/usr/bin:/bin");
  const auto r = run_ok(action(cmd, tree)).result();
  EXPECT_EQ(r.exit_code(), 0);
  EXPECT_EQ(blob(r.stdout_digest()), "from mytool\n");
  // A name found nowhere is an infrastructure failure, not an exit code.
  const auto missing = run_ok(action(command({"no-such-tool-ccrex"})));
  EXPECT_EQ(missing.status().code(), grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(Execution, E19_EmptyFileAndEmptyDirectoryAreStaged) {
  InputTree tree;
  tree.file("empty.txt", "");
  tree.dir("emptydir");
  tree.symlink("link", "empty.txt");
  const auto r =
      run_ok(action(command({"sh",
                             "-c",
                             "test -f empty.txt && test ! -s empty.txt && test -d emptydir "
                             "&& test -L link && echo staged"}),
                    tree))
          .result();
  EXPECT_EQ(r.exit_code(), 0) << blob(r.stderr_digest());
  EXPECT_EQ(blob(r.stdout_digest()), "staged\n");
}

TEST_F(Execution, InputThatIsAlsoAnOutputIsAPrivateCopy) {
  InputTree tree;
  tree.file("data.txt", "orig\n");
  const auto r =
      run_ok(action(command({"sh", "-c", "echo more >> data.txt"}, {"data.txt"}), tree)).result();
  ASSERT_EQ(r.exit_code(), 0) << blob(r.stderr_digest());
  ASSERT_EQ(r.output_files_size(), 1);
  EXPECT_EQ(blob(r.output_files(0).digest()), "orig\nmore\n");
  // The stored input blob is untouched.
  EXPECT_EQ(blob(reapi::digest_of("orig\n")), "orig\n");
}

TEST_F(Execution, SignalGivesExitCode128PlusSignal) {
  const auto resp = run_ok(action(command({"sh", "-c", "kill -9 $$"})));
  EXPECT_EQ(resp.status().code(), 0);
  EXPECT_EQ(resp.result().exit_code(), 137);
  EXPECT_NE(resp.message().find("signal 9"), std::string::npos) << resp.message();
}

// Without the sandbox the action's PID namespace is ccrex-action-init's plain mode, which
// reports a death by signal through a file rather than a descriptor.
class UnconfinedExecution : public ExecutionFixture {
protected:
  std::vector<std::string> server_args() const override { return {"--no-sandbox"}; }
};

TEST_F(UnconfinedExecution, SignalGivesExitCode128PlusSignal) {
  const auto resp = run_ok(action(command({"sh", "-c", "kill -9 $$"})));
  EXPECT_EQ(resp.status().code(), 0);
  EXPECT_EQ(resp.result().exit_code(), 137);
  EXPECT_NE(resp.message().find("signal 9"), std::string::npos) << resp.message();
  const auto plain = run_ok(action(command({"sh", "-c", "exit 3"})));
  EXPECT_EQ(plain.result().exit_code(), 3);
  EXPECT_EQ(plain.message().find("signal"), std::string::npos) << plain.message();
}

TEST_F(Execution, EnvironmentIsExactlyTheCommands) {
  auto cmd = command({"sh", "-c", "env | sort | grep -v '^PWD=\\|^SHLVL=\\|^_='"});
  auto* var = cmd.add_environment_variables();
  var->set_name("ZZ_FLAG");
  var->set_value("on");
  const auto r = run_ok(action(cmd)).result();
  EXPECT_EQ(blob(r.stdout_digest()), "PATH=/usr/bin:/bin\nZZ_FLAG=on\n");
}

TEST_F(Execution, ConcurrentExecutionsAllComplete) {
  std::vector<v2::Digest> digests;
  for (int i = 0; i < 6; ++i) {
    digests.push_back(action(command({"sh", "-c", "echo " + std::to_string(i)})));
  }
  std::vector<v2::ExecuteResponse> responses(digests.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < digests.size(); ++i) {
    threads.emplace_back([&, i] { responses[i] = run_ok(digests[i]); });
  }
  for (auto& t : threads) {
    t.join();
  }
  for (size_t i = 0; i < digests.size(); ++i) {
    EXPECT_EQ(blob(responses[i].result().stdout_digest()), std::to_string(i) + "\n");
    // The server runs two workers (the fixture's --workers 2), and names them so.
    const std::string& worker = responses[i].result().execution_metadata().worker();
    const auto slash = worker.rfind('/');
    ASSERT_NE(slash, std::string::npos) << worker;
    EXPECT_TRUE(worker.substr(slash) == "/worker-0" || worker.substr(slash) == "/worker-1")
        << worker;
  }
}

TEST_F(Execution, OperationNamesCarryTheInstanceAndAreUnique) {
  const auto digest = action(command({"true"}));
  std::set<std::string> names;
  for (int i = 0; i < 3; ++i) {
    v2::ExecuteRequest req;
    req.set_instance_name("main/linux");
    *req.mutable_action_digest() = digest;
    req.set_skip_cache_lookup(true);
    grpc::ClientContext ctx;
    auto reader = exec->Execute(&ctx, req);
    const auto out = read_stream(*reader);
    ASSERT_TRUE(out.status.ok()) << out.status.error_message();
    ASSERT_FALSE(out.operations.empty());
    const std::string& name = out.operations.front().name();
    EXPECT_EQ(name.rfind("main/linux/operations/", 0), 0U) << name;
    names.insert(name);
  }
  EXPECT_EQ(names.size(), 3U);
}

TEST_F(Execution, IdenticalConcurrentRequestsShareOneExecution) {
  const auto digest = action(command({"sh", "-c", "sleep 1; od -An -N16 -tx1 /dev/urandom"}));
  std::array<ExecOutcome, 2> outs;
  std::thread other([&] { outs[1] = execute(digest); });
  outs[0] = execute(digest);
  other.join();
  for (const auto& out : outs) {
    ASSERT_TRUE(out.status.ok()) << out.status.error_message();
    ASSERT_TRUE(out.done);
    EXPECT_FALSE(out.response.cached_result());
  }
  EXPECT_EQ(outs[0].operations.back().name(), outs[1].operations.back().name());
  EXPECT_EQ(outs[0].response.result().stdout_digest().hash(),
            outs[1].response.result().stdout_digest().hash());
  // skip_cache_lookup never joins: it runs again and gets fresh random bytes.
  const auto fresh = run_ok(digest, true);
  EXPECT_NE(fresh.result().stdout_digest().hash(),
            outs[0].response.result().stdout_digest().hash());
}

// The action cannot write where this test reads (it runs sandboxed), so the test finds its
// process by a command line no other process has.
TEST_F(Execution, ShutdownKillsRunningActionsAndEndsStreams) {
  const std::string seconds = "60." + std::to_string(::getpid() % 1000 + 1000);
  const auto digest = action(command({"sh", "-c", "exec sleep " + seconds}));
  v2::ExecuteRequest req;
  *req.mutable_action_digest() = digest;
  grpc::ClientContext ctx;
  auto reader = exec->Execute(&ctx, req);
  google::longrunning::Operation op;
  ASSERT_TRUE(reader->Read(&op));
  const std::string wanted = std::string("sleep") + '\0' + seconds + '\0';
  std::string pid_text;
  for (int i = 0; i < 100 && pid_text.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
      const std::string name = entry.path().filename().string();
      if (name.find_first_not_of("0123456789") == std::string::npos
          && util::read_file(entry.path().string() + "/cmdline").value_or("") == wanted) {
        pid_text = name;
      }
    }
  }
  ASSERT_FALSE(pid_text.empty()) << "the action did not start";
  const pid_t pid = std::stoi(pid_text);
  const auto start = std::chrono::steady_clock::now();
  server().kill_and_wait(SIGTERM);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  while (reader->Read(&op)) {
    EXPECT_FALSE(op.done());
  }
  EXPECT_FALSE(reader->Finish().ok());
  EXPECT_NE(::kill(pid, 0), 0) << "action process " << pid << " survived the shutdown";
}

} // namespace
} // namespace ccrex::test
