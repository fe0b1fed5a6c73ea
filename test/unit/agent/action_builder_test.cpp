#include "agent/action_builder.h"
#include "util/file.h"
#include "util/strings.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>

namespace ccrex::agent {
namespace {

namespace v2 = reapi::v2;

// A checkout with src/a.c including include/h.h, compiled from build/.
struct Checkout {
  util::TempDir dir;
  std::string root() const { return dir.path(); }
  std::string build() const { return dir.path() + "/build"; }
  Checkout() {
    EXPECT_TRUE(util::make_dirs(dir.path() + "/.git"));
    EXPECT_TRUE(util::make_dirs(dir.path() + "/src"));
    EXPECT_TRUE(util::make_dirs(dir.path() + "/include"));
    EXPECT_TRUE(util::make_dirs(dir.path() + "/build"));
    EXPECT_TRUE(util::write_file_atomic(dir.path() + "/src/a.c", "#include \"h.h\"\nint x;\n"));
    EXPECT_TRUE(util::write_file_atomic(dir.path() + "/include/h.h", "#define H 1\n"));
  }
};

class ActionBuilder : public ::testing::Test {
protected:
  void SetUp() override {
    auto c = load_config({"HOME=/nonexistent"});
    ASSERT_TRUE(c);
    config = *c;
    id.key = std::string(64, '1');
  }

  util::Result<BuiltAction> build(const Checkout& co,
                                  std::vector<std::string> argv,
                                  bool same_path = false,
                                  std::vector<std::string> deps = {"../src/a.c",
                                                                   "../include/h.h"}) {
    cmd = toolchain::parse_command(argv, {family, false}, {co.build(), {}});
    EXPECT_TRUE(cmd.supported());
    dependencies.files = std::move(deps);
    paths = std::make_unique<PathMapper>(find_project_root(co.build(), ""), co.build());
    const ActionContext ctx{
        cmd, compiler, id, dependencies, *paths, config, env, same_path, hermetic};
    return build_action(ctx, digests);
  }

  Config config;
  toolchain::CompilerFamily family = toolchain::CompilerFamily::gcc;
  toolchain::ToolchainId id;
  toolchain::ParsedCommand cmd;
  Dependencies dependencies;
  std::unique_ptr<PathMapper> paths;
  FileDigests digests;
  std::string compiler = "/usr/bin/gcc";
  std::vector<std::string> env = {"PATH=/home/me/bin:/usr/bin", "LANG=C.UTF-8"};
  const HermeticToolchain* hermetic = nullptr;
};

std::string env_of(const v2::Command& c, const std::string& name) {
  for (const auto& v : c.environment_variables()) {
    if (v.name() == name) {
      return v.value();
    }
  }
  return "<unset>";
}

// The stat the scanner would hand over for `path`.
depscan::FileStat identity_of(const std::string& path) {
  const auto st = depscan::RealFileSystem().stat(path);
  EXPECT_TRUE(st.has_value()) << path;
  return st.value_or(depscan::FileStat{});
}

TEST(ActionBuilderDigests, TheScannersStatsSpareTheDigestCacheItsOwn) {
  Checkout co;
  auto config = load_config({"HOME=/nonexistent"});
  ASSERT_TRUE(config);
  toolchain::ToolchainId id;
  id.key = std::string(64, '1');
  const std::vector<std::string> argv = {"gcc", "-I../include", "-c", "../src/a.c", "-o", "a.o"};
  const auto cmd =
      toolchain::parse_command(argv, {toolchain::CompilerFamily::gcc, false}, {co.build(), {}});
  const PathMapper paths(find_project_root(co.build(), ""), co.build());
  FileDigests digests(0);
  Dependencies deps;
  deps.files = {"../src/a.c", "../include/h.h"};
  const std::vector<std::string> env = {"PATH=/usr/bin"};
  const ActionContext ctx{cmd, "/usr/bin/gcc", id, deps, paths, *config, env, false};
  auto first = build_action(ctx, digests); // no stats: hashes both, keeps them
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_EQ(digests.known_hits(), 0);
  deps.stats = {identity_of(co.root() + "/src/a.c"), identity_of(co.root() + "/include/h.h")};
  auto second = build_action(ctx, digests);
  ASSERT_TRUE(second);
  EXPECT_EQ(digests.known_hits(), 2);
  EXPECT_EQ(second->action_digest.hash(), first->action_digest.hash());
  // A header edited after the scan took its stat: the identity no longer matches the
  // cache, so the file is stat'ed and hashed again and the key moves.
  ASSERT_TRUE(util::write_file_atomic(co.root() + "/include/h.h", "#define H 2\n"));
  deps.stats[1] = identity_of(co.root() + "/include/h.h");
  auto third = build_action(ctx, digests);
  ASSERT_TRUE(third);
  EXPECT_EQ(digests.known_hits(), 3);
  EXPECT_NE(third->action_digest.hash(), first->action_digest.hash());
}

TEST_F(ActionBuilder, TwoCheckoutsShareTheActionDigest) {
  Checkout one;
  Checkout two;
  const std::vector<std::string> argv = {"gcc", "-I../include", "-c", "../src/a.c", "-o", "a.o"};
  auto a = build(one, argv);
  auto b = build(two, argv);
  ASSERT_TRUE(a) << a.error().message();
  ASSERT_TRUE(b) << b.error().message();
  EXPECT_EQ(a->action_digest.hash(), b->action_digest.hash());
  EXPECT_FALSE(a->location_dependent);
  EXPECT_EQ(a->command.working_directory(), "build");
  EXPECT_EQ(a->command.output_files(0), "a.o");
  EXPECT_EQ(env_of(a->command, "PATH"), "/usr/local/bin:/usr/bin:/bin"); // user PATH not keyed
  EXPECT_EQ(env_of(a->command, "LANG"), "C.UTF-8");
  EXPECT_EQ(env_of(a->command, "CCREX_STAGE_ROOT"), "<unset>");
  // Only the files the compile reads are in the input root.
  EXPECT_EQ(a->input_root.directories.size(), 4U); // root, src, include, build
}

TEST_F(ActionBuilder, KeyChangesWithContentCompilerAndFlags) {
  Checkout co;
  const std::vector<std::string> argv = {"gcc", "-I../include", "-c", "../src/a.c", "-o", "a.o"};
  const auto base = build(co, argv)->action_digest.hash();
  id.key = std::string(64, '2');
  EXPECT_NE(build(co, argv)->action_digest.hash(), base);
  id.key = std::string(64, '1');
  auto flags = argv;
  flags.insert(flags.begin() + 1, "-O2");
  EXPECT_NE(build(co, flags)->action_digest.hash(), base);
  ASSERT_TRUE(util::write_file_atomic(co.root() + "/include/h.h", "#define H 2\n"));
  // Files written within the last seconds are never trusted from the stat cache.
  EXPECT_NE(build(co, argv)->action_digest.hash(), base);
}

TEST_F(ActionBuilder, DebugInfoMakesTheActionLocationDependent) {
  Checkout one;
  Checkout two;
  const std::vector<std::string> argv = {"gcc", "-g", "-I../include", "-c", "../src/a.c"};
  auto a = build(one, argv, true);
  auto b = build(two, argv, true);
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(a->location_dependent);
  EXPECT_FALSE(a->remaps_root);
  EXPECT_EQ(env_of(a->command, "CCREX_STAGE_ROOT"), one.root());
  EXPECT_EQ(a->command.arguments(0), "/usr/bin/gcc");
  EXPECT_NE(a->action_digest.hash(), b->action_digest.hash());
  // An engine that stages elsewhere runs it through the wrapper, which maps its own root
  // to the local one and reports it in an extra output.
  auto elsewhere = build(one, argv);
  auto elsewhere_two = build(two, argv);
  ASSERT_TRUE(elsewhere && elsewhere_two);
  EXPECT_TRUE(elsewhere->remaps_root);
  EXPECT_EQ(elsewhere->command.arguments(0), "/bin/sh");
  EXPECT_EQ(elsewhere->command.arguments(4), "/usr/bin/gcc");
  EXPECT_EQ(env_of(elsewhere->command, "CCREX_LOCAL_ROOT"), one.root());
  EXPECT_EQ(env_of(elsewhere->command, "CCREX_WORKING_DIR"), "build");
  EXPECT_EQ(env_of(elsewhere->command, "CCREX_STAGE_ROOT"), "<unset>");
  EXPECT_NE(std::find(elsewhere->command.output_files().begin(),
                      elsewhere->command.output_files().end(),
                      ".ccrex-engine-root"),
            elsewhere->command.output_files().end());
  EXPECT_NE(elsewhere->action_digest.hash(), elsewhere_two->action_digest.hash());
  // Absolute paths of the project become the root token.
  auto absolute = argv;
  absolute.insert(absolute.begin() + 1, "-I" + one.root() + "/include");
  auto abs_built = build(one, absolute);
  ASSERT_TRUE(abs_built);
  EXPECT_TRUE(abs_built->remaps_root);
  EXPECT_EQ(abs_built->command.arguments(5), "-I@@CCREX_ROOT@@/include");
  // Records a prefix map cannot cover stay location-dependent, with no wrapper.
  for (const char* extra : {"-gsplit-dwarf", "--coverage"}) {
    auto other = argv;
    other.insert(other.begin() + 1, extra);
    auto built = build(one, other);
    ASSERT_TRUE(built) << extra;
    EXPECT_TRUE(built->location_dependent) << extra;
    EXPECT_FALSE(built->remaps_root) << extra;
  }
  // A prefix map of the user's rewrites the directory it names; staged anywhere else the
  // compile would record that other directory, so the compile stays at its place. A map of
  // a directory above the root as well.
  for (const std::string& from : {one.root(), util::dirname(one.root())}) {
    auto mapped = argv;
    mapped.insert(mapped.begin() + 1, "-fdebug-prefix-map=" + from + "=.");
    auto c = build(one, mapped, true);
    ASSERT_TRUE(c);
    EXPECT_TRUE(c->location_dependent) << from;
    EXPECT_EQ(env_of(c->command, "CCREX_STAGE_ROOT"), one.root());
  }
  // gcc's LTO bytecode records the directory too, whatever the prefix maps say.
  auto lto = std::vector<std::string>{"gcc", "-flto", "-c", "../src/a.c", "-o", "a.o"};
  auto l = build(one, lto, true);
  ASSERT_TRUE(l);
  EXPECT_TRUE(l->location_dependent);
}

// A working directory entered through a symlink: gcc and clang record $PWD, so a
// location-dependent compile carries it (in its key) and says so; others ignore it.
TEST_F(ActionBuilder, LogicalWorkingDirectoryIsRecorded) {
  Checkout co;
  util::TempDir links;
  const std::string link = links.path() + "/link";
  ASSERT_EQ(::symlink(co.build().c_str(), link.c_str()), 0);
  const std::vector<std::string> g = {"gcc", "-g", "-c", "../src/a.c", "-o", "a.o"};
  env.push_back("PWD=" + link);
  auto logical = build(co, g, true);
  ASSERT_TRUE(logical);
  EXPECT_EQ(logical->logical_cwd, link);
  EXPECT_EQ(env_of(logical->command, "PWD"), link);
  EXPECT_FALSE(logical->remaps_root);
  auto without_g = build(co, {"gcc", "-c", "../src/a.c", "-o", "a.o"}, true);
  ASSERT_TRUE(without_g);
  EXPECT_EQ(without_g->logical_cwd, "");
  EXPECT_EQ(env_of(without_g->command, "PWD"), "<unset>");
  // $PWD naming the physical directory, or another directory, is no logical directory.
  for (const std::string& pwd : {co.build(), co.root()}) {
    env.back() = "PWD=" + pwd;
    auto physical = build(co, g, true);
    ASSERT_TRUE(physical);
    EXPECT_EQ(physical->logical_cwd, "") << pwd;
    EXPECT_NE(physical->action_digest.hash(), logical->action_digest.hash());
  }
}

// An argument that names the project root itself (not only a path below it) ties the
// compile to its place: -I<root>, a prefix map of the root.
TEST_F(ActionBuilder, ArgumentNamingTheRootIsLocationDependent) {
  Checkout co;
  for (const std::string& arg : {"-I" + co.root(), "-fmacro-prefix-map=" + co.root() + "=."}) {
    auto built = build(co, {"gcc", arg, "-c", "../src/a.c", "-o", "a.o"}, true);
    ASSERT_TRUE(built) << arg;
    EXPECT_TRUE(built->location_dependent) << arg;
  }
  // A sibling whose name starts with the root's does not.
  auto sibling = build(co, {"gcc", "-I" + co.root() + "2/include", "-c", "../src/a.c"}, true);
  ASSERT_TRUE(sibling);
  EXPECT_FALSE(sibling->location_dependent);
}

// clang's coverage mapping records the compile directory like debug information does; a
// prefix map does not make it movable.
TEST_F(ActionBuilder, CoverageMappingIsLocationDependent) {
  Checkout co;
  family = toolchain::CompilerFamily::clang;
  const std::vector<std::string> argv = {
      "clang", "-fprofile-instr-generate", "-fcoverage-mapping", "-c", "../src/a.c"};
  auto plain = build(co, argv, true);
  ASSERT_TRUE(plain);
  EXPECT_TRUE(plain->location_dependent);
  auto elsewhere = build(co, argv);
  ASSERT_TRUE(elsewhere);
  EXPECT_TRUE(elsewhere->location_dependent);
  EXPECT_FALSE(elsewhere->remaps_root); // clang 14's file prefix map leaves coverage alone
  for (const std::string map : {"-fdebug-prefix-map=", "-fcoverage-prefix-map="}) {
    auto mapped = argv;
    mapped.insert(mapped.begin() + 1, map + co.root() + "=.");
    auto built = build(co, mapped, true);
    ASSERT_TRUE(built) << map;
    EXPECT_TRUE(built->location_dependent) << map;
  }
}

TEST_F(ActionBuilder, AbsolutePathsAreTokensUnlessStagedAtTheSamePath) {
  Checkout co;
  const std::vector<std::string> argv = {
      "gcc", "-I" + co.root() + "/include", "-c", co.root() + "/src/a.c", "-o", "a.o"};
  auto elsewhere = build(co, argv, false, {co.root() + "/src/a.c", co.root() + "/include/h.h"});
  ASSERT_TRUE(elsewhere) << elsewhere.error().message();
  EXPECT_EQ(elsewhere->command.arguments(5), "-I@@CCREX_ROOT@@/include");
  EXPECT_EQ(elsewhere->command.arguments(7), "@@CCREX_ROOT@@/src/a.c");
  EXPECT_TRUE(elsewhere->location_dependent);
  EXPECT_TRUE(elsewhere->remaps_root);
  auto same = build(co, argv, true, {co.root() + "/src/a.c", co.root() + "/include/h.h"});
  ASSERT_TRUE(same);
  EXPECT_EQ(same->command.arguments(3), co.root() + "/src/a.c");
  EXPECT_TRUE(same->location_dependent);
  EXPECT_FALSE(same->remaps_root);
}

TEST_F(ActionBuilder, OutputOutsideWorkingDirectoryIsRefused) {
  Checkout co;
  auto r = build(co, {"gcc", "-c", "../src/a.c", "-o", "../elsewhere/a.o"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), util::ErrorCode::unsupported);
  // ccrex's own servers accept outputs above the working directory inside the root.
  auto ok = build(co, {"gcc", "-c", "../src/a.c", "-o", "../elsewhere/a.o"}, true);
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(ok->command.output_files(0), "../elsewhere/a.o");
  EXPECT_FALSE(build(co, {"gcc", "-c", "../src/a.c", "-o", "/tmp/a.o"}, true));
}

TEST_F(ActionBuilder, InputsEscapingTheRootNeedTheSamePath) {
  Checkout co;
  util::TempDir outside;
  ASSERT_TRUE(util::write_file_atomic(outside.path() + "/o.h", "int o;\n"));
  std::string up;
  for (size_t i = 0; i < util::split(co.build(), '/', true).size(); ++i) {
    up += "../";
  }
  const std::string escape = up + outside.path().substr(1) + "/o.h";
  const std::vector<std::string> argv = {"gcc", "-c", "../src/a.c"};
  EXPECT_FALSE(build(co, argv, false, {"../src/a.c", escape}));
  auto staged = build(co, argv, true, {"../src/a.c", escape});
  ASSERT_TRUE(staged) << staged.error().message();
  EXPECT_TRUE(staged->location_dependent) << escape << " foreign=" << staged->foreign_inputs.size();
}

TEST_F(ActionBuilder, SystemHeadersAreKeyedNotUploaded) {
  Checkout co;
  const std::vector<std::string> argv = {"gcc", "-c", "../src/a.c"};
  auto without = build(co, argv, false, {"../src/a.c"});
  auto with = build(co, argv, false, {"../src/a.c", "/usr/include/stdio.h"});
  ASSERT_TRUE(without && with);
  EXPECT_NE(without->action.salt(), with->action.salt());
  EXPECT_EQ(without->action.input_root_digest().hash(), with->action.input_root_digest().hash());
}

// Every path of the tree `root` below `prefix`: files, "link -> target" and "dir/".
void list_paths(const reapi::InputRoot& root,
                const v2::Digest& dir,
                const std::string& prefix,
                std::vector<std::string>& out) {
  const auto it = root.directories.find(reapi::to_string(dir));
  if (it == root.directories.end()) {
    return;
  }
  for (const auto& f : it->second.files()) {
    out.push_back(util::join_path(prefix, f.name()) + (f.is_executable() ? " x" : ""));
  }
  for (const auto& l : it->second.symlinks()) {
    out.push_back(util::join_path(prefix, l.name()) + " -> " + l.target());
  }
  for (const auto& d : it->second.directories()) {
    out.push_back(util::join_path(prefix, d.name()) + "/");
    list_paths(root, d.digest(), util::join_path(prefix, d.name()), out);
  }
}

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

TEST_F(ActionBuilder, HermeticActionsHaveTheToolchainAndAbsolutePaths) {
  Checkout co;
  util::TempDir tools;
  const std::string driver = tools.path() + "/gcc-12";
  ASSERT_TRUE(util::write_file_atomic(driver, "not really a compiler", 0755));
  auto hashed =
      hash_closure({{{"/usr", toolchain::ClosureEntry::Kind::directory, "", "", false},
                     {"/usr/bin/gcc", toolchain::ClosureEntry::Kind::symlink, "", "gcc-12", false},
                     {"/usr/bin/gcc-12", toolchain::ClosureEntry::Kind::file, driver, "", true}}},
                   digests);
  ASSERT_TRUE(hashed) << hashed.error().message();
  const std::vector<std::string> argv = {"gcc", "-g", "-I../include", "-c", "../src/a.c"};
  const std::vector<std::string> deps = {"../src/a.c", "../include/h.h", "/usr/include/stdio.h"};
  auto plain = build(co, argv, false, deps);
  hermetic = &*hashed;
  auto a = build(co, argv, false, deps);
  auto again = build(co, argv, true, deps);
  ASSERT_TRUE(plain && a && again);
  EXPECT_TRUE(a->hermetic);
  EXPECT_FALSE(a->remaps_root);
  EXPECT_EQ(a->command.arguments(0), "/usr/bin/gcc");
  EXPECT_EQ(a->command.working_directory(), co.build().substr(1));
  EXPECT_EQ(env_of(a->command, "CCREX_STAGE_ROOT"), "<unset>");
  ASSERT_EQ(a->action.platform().properties_size(), a->command.platform().properties_size());
  bool input_root = false;
  for (const auto& p : a->action.platform().properties()) {
    input_root = input_root || (p.name() == "ccrex-root" && p.value() == "input");
  }
  EXPECT_TRUE(input_root);
  EXPECT_TRUE(a->foreign_inputs.empty());
  std::vector<std::string> listed;
  list_paths(a->input_root, a->action.input_root_digest(), "", listed);
  const std::string root = co.root().substr(1);
  EXPECT_TRUE(contains(listed, root + "/src/a.c")) << util::join(listed, "\n");
  EXPECT_TRUE(contains(listed, root + "/include/h.h"));
  EXPECT_TRUE(contains(listed, root + "/build/"));
  EXPECT_TRUE(contains(listed, "usr/include/stdio.h"));
  EXPECT_TRUE(contains(listed, "usr/bin/gcc-12 x"));
  EXPECT_TRUE(contains(listed, "usr/bin/gcc -> gcc-12"));
  // A hermetic action is its own key: same for a repeat, never a plain action's.
  EXPECT_EQ(a->action_digest.hash(), again->action_digest.hash());
  EXPECT_NE(a->action_digest.hash(), plain->action_digest.hash());
  EXPECT_NE(a->action.salt(), plain->action.salt());
}

} // namespace
} // namespace ccrex::agent
