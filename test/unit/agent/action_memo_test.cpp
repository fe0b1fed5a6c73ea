#include "agent/action_memo.h"
#include "util/file.h"

#include <gtest/gtest.h>

#include <thread>

namespace ccrex::agent {
namespace {

// A checkout with src/a.c including include/h.h, compiled from build/. Its files were all
// just written (and ctime cannot be set back), so tests that store use a zero racy window.
class ActionMemoTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_TRUE(util::make_dirs(root() + "/.git"));
    ASSERT_TRUE(util::make_dirs(root() + "/src"));
    ASSERT_TRUE(util::make_dirs(root() + "/include"));
    ASSERT_TRUE(util::make_dirs(root() + "/build"));
    write("src/a.c", "#include \"h.h\"\nint x;\n");
    write("include/h.h", "#define H 1\n");
    write("include/f.h", "#define F 1\n");
    auto c = load_config({"HOME=/nonexistent"});
    ASSERT_TRUE(c);
    config = *c;
    id.key = std::string(64, '1');
    paths = std::make_unique<PathMapper>(find_project_root(build(), ""), build());
  }

  std::string root() const { return m_dir.path(); }
  std::string build() const { return root() + "/build"; }
  void write(const std::string& rel, const std::string& text) {
    ASSERT_TRUE(util::write_file_atomic(root() + "/" + rel, text));
  }

  // The context of compiling `argv` with the scanner's answer for a.c and h.h.
  ActionContext context(const std::vector<std::string>& argv) {
    cmd = toolchain::parse_command(argv, {toolchain::CompilerFamily::gcc, false}, {build(), {}});
    EXPECT_TRUE(cmd.supported());
    deps.files = {"../src/a.c", "../include/h.h"};
    deps.stats.clear();
    for (const auto& f : deps.files) {
      deps.stats.push_back(depscan::RealFileSystem().stat(build() + "/" + f).value());
    }
    return ActionContext{cmd, compiler, id, deps, *paths, config, env, false};
  }

  // Build the action of `argv` and store it in `memo`; return its key.
  MemoKey build_and_store(ActionMemo& memo, const std::vector<std::string>& argv) {
    const auto ctx = context(argv);
    auto key = ActionMemo::key_of(ctx);
    EXPECT_TRUE(key.has_value());
    auto built = build_action(ctx, digests);
    EXPECT_TRUE(built) << built.error().message();
    EXPECT_TRUE(memo.store(*key, *built));
    stored_digest = built->action_digest.hash();
    return *key;
  }

  std::optional<MemoKey> key_of(const std::vector<std::string>& argv) {
    return ActionMemo::key_of(context(argv));
  }

  util::TempDir m_dir;
  Config config;
  toolchain::ToolchainId id;
  toolchain::ParsedCommand cmd;
  Dependencies deps;
  std::unique_ptr<PathMapper> paths;
  FileDigests digests{0};
  std::string compiler = "/usr/bin/gcc";
  std::vector<std::string> env = {"PATH=/usr/bin", "LANG=C.UTF-8"};
  std::string stored_digest;
};

const std::vector<std::string> k_argv = {"gcc", "-I../include", "-c", "../src/a.c", "-o", "a.o"};

TEST_F(ActionMemoTest, TheSameCompileFindsTheActionItBuilt) {
  ActionMemo memo(16, 0);
  build_and_store(memo, k_argv);
  const auto again = key_of(k_argv);
  ASSERT_TRUE(again);
  const auto found = memo.find(*again);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->action_digest.hash(), stored_digest);
  ASSERT_EQ(found->outputs.size(), 1U);
  EXPECT_EQ(found->outputs[0].remote_path, "a.o");
  EXPECT_EQ(found->outputs[0].local_path, build() + "/a.o");
}

TEST_F(ActionMemoTest, AnEditedHeaderIsNotFound) {
  ActionMemo memo(16, 0);
  build_and_store(memo, k_argv);
  write("include/h.h", "#define H 2\n"); // same size: only the stat tells
  const auto key = key_of(k_argv);
  ASSERT_TRUE(key);
  EXPECT_EQ(memo.find(*key), nullptr);
  // Building it anew gives another action; storing it replaces the old one.
  build_and_store(memo, k_argv);
  EXPECT_EQ(memo.size(), 1U);
}

TEST_F(ActionMemoTest, AChmodOfAnInputIsNotFound) {
  ActionMemo memo(16, 0);
  build_and_store(memo, k_argv);
  ASSERT_EQ(::chmod((root() + "/include/h.h").c_str(), 0755), 0);
  EXPECT_EQ(memo.find(*key_of(k_argv)), nullptr);
}

TEST_F(ActionMemoTest, ArgumentsEnvironmentAndPlatformArePartOfTheKey) {
  ActionMemo memo(16, 0);
  build_and_store(memo, k_argv);
  auto argv = k_argv;
  argv.insert(argv.begin() + 1, "-O2");
  EXPECT_EQ(memo.find(*key_of(argv)), nullptr) << "another argument";
  env.emplace_back("CPATH=/elsewhere");
  EXPECT_EQ(memo.find(*key_of(k_argv)), nullptr) << "another environment";
  env.pop_back();
  ASSERT_NE(memo.find(*key_of(k_argv)), nullptr);
  config.platform["test-property"] = "x";
  EXPECT_EQ(memo.find(*key_of(k_argv)), nullptr) << "another platform";
  config.platform.erase("test-property");
  id.key = std::string(64, '2');
  EXPECT_EQ(memo.find(*key_of(k_argv)), nullptr) << "another compiler identity";
}

TEST_F(ActionMemoTest, AnOptionInputIsStatedForTheKey) {
  ActionMemo memo(16, 0);
  auto argv = k_argv;
  argv.insert(argv.begin() + 1, {"-include", "../include/f.h"});
  build_and_store(memo, argv);
  ASSERT_NE(memo.find(*key_of(argv)), nullptr);
  write("include/f.h", "#define F 2\n");
  EXPECT_EQ(memo.find(*key_of(argv)), nullptr);
}

TEST_F(ActionMemoTest, AResponseFileIsStatedForTheKey) {
  ActionMemo memo(16, 0);
  write("build/args.rsp", "-I../include\n");
  const std::vector<std::string> argv = {"gcc", "@args.rsp", "-c", "../src/a.c", "-o", "a.o"};
  build_and_store(memo, argv);
  ASSERT_NE(memo.find(*key_of(argv)), nullptr);
  // The same arguments written anew: the expanded command is equal, the file is not.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  write("build/args.rsp", "-I../include\n");
  EXPECT_EQ(memo.find(*key_of(argv)), nullptr);
}

TEST_F(ActionMemoTest, DependenciesWithoutStatsAreNotMemoised) {
  auto ctx = context(k_argv);
  deps.stats.clear(); // the compiler's -M gives none
  EXPECT_FALSE(ActionMemo::key_of(ctx).has_value());
}

TEST_F(ActionMemoTest, InputsChangedWithinTheRacyWindowAreNotStored) {
  ActionMemo memo(16, 60'000'000'000); // every file here changed within the last minute
  const auto ctx = context(k_argv);
  const auto key = ActionMemo::key_of(ctx);
  ASSERT_TRUE(key);
  auto built = build_action(ctx, digests);
  ASSERT_TRUE(built);
  EXPECT_FALSE(memo.store(*key, *built));
  EXPECT_EQ(memo.find(*key), nullptr);
}

TEST_F(ActionMemoTest, TheMemoStaysWithinItsCapacity) {
  ActionMemo memo(4, 0);
  for (int i = 0; i < 10; ++i) {
    auto argv = k_argv;
    argv.insert(argv.begin() + 1, "-DN=" + std::to_string(i));
    build_and_store(memo, argv);
    EXPECT_LE(memo.size(), 4U);
  }
}

// The scanner's answer, cold and warm (from its scan record), carries a stat per file, so
// a repeated compile gets the same key; a scanner that stopped reporting stats would
// silently turn the memo off.
TEST_F(ActionMemoTest, ScannedDependenciesGiveTheSameKeyTwice) {
  DependencyFinder finder;
  std::vector<MemoKey> keys;
  for (int i = 0; i < 2; ++i) {
    const auto ctx = context(k_argv);
    auto found = finder.find(cmd, "/usr/bin/gcc", build(), env, true);
    ASSERT_TRUE(found) << found.error().message();
    ASSERT_FALSE(found->from_compiler) << found->scanner_gave_up;
    ASSERT_EQ(found->stats.size(), found->files.size());
    deps = std::move(*found);
    auto key = ActionMemo::key_of(ctx);
    ASSERT_TRUE(key);
    keys.push_back(*key);
  }
  EXPECT_EQ(keys[0].inputs, keys[1].inputs);
  EXPECT_EQ(keys[0].request, keys[1].request);
}

} // namespace
} // namespace ccrex::agent
