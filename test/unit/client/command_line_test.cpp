#include "client/command_line.h"
#include "util/file.h"

#include <gtest/gtest.h>

#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace ccrex::client {
namespace {

using Kind = ClientCommand::Kind;
using Args = std::vector<std::string>;

TEST(ClassifyCommandLine, CompilerAsFirstArgument) {
  const auto c = classify_command_line({"/usr/local/bin/ccrex", "gcc", "-c", "a.c"});
  EXPECT_EQ(c.kind, Kind::compile);
  EXPECT_FALSE(c.masquerade);
  EXPECT_EQ(c.args, (Args{"gcc", "-c", "a.c"}));
}

TEST(ClassifyCommandLine, Masquerade) {
  const auto c = classify_command_line({"/opt/wrap/g++", "-O2", "-c", "a.cc"});
  EXPECT_EQ(c.kind, Kind::compile);
  EXPECT_TRUE(c.masquerade);
  EXPECT_EQ(c.args, (Args{"/opt/wrap/g++", "-O2", "-c", "a.cc"}));
  // Options of the compiler are never taken as ccrex options in masquerade mode.
  EXPECT_EQ(classify_command_line({"gcc", "--version"}).kind, Kind::compile);
}

TEST(ClassifyCommandLine, OwnOptions) {
  EXPECT_EQ(classify_command_line({"ccrex", "--version"}).kind, Kind::version);
  EXPECT_EQ(classify_command_line({"ccrex", "-V"}).kind, Kind::version);
  EXPECT_EQ(classify_command_line({"ccrex", "--help"}).kind, Kind::help);
  for (const char* opt : {"-s",
                          "--show-stats",
                          "-z",
                          "--zero-stats",
                          "-C",
                          "--clear",
                          "--show-config",
                          "--stop-agent",
                          "--print-stats",
                          "--cleanup"}) {
    const auto c = classify_command_line({"ccrex", opt});
    EXPECT_EQ(c.kind, Kind::admin) << opt;
    EXPECT_EQ(c.admin.size(), 1U) << opt;
  }
  // --explain and --doctor take what follows.
  const auto e = classify_command_line({"ccrex", "--explain", "gcc", "-c", "a.c"});
  EXPECT_EQ(e.admin, (std::vector<Args>{{"--explain", "gcc", "-c", "a.c"}}));
}

TEST(ClassifyCommandLine, CcacheSpellings) {
  const auto parse = [](Args argv) {
    argv.insert(argv.begin(), "ccrex");
    return classify_command_line(argv).admin;
  };
  EXPECT_EQ(parse({"-zs"}), (std::vector<Args>{{"-z"}, {"-s"}}));
  EXPECT_EQ(parse({"-z", "-s"}), (std::vector<Args>{{"-z"}, {"-s"}}));
  EXPECT_EQ(parse({"-p"}), (std::vector<Args>{{"--show-config"}}));
  EXPECT_EQ(parse({"-M", "5G"}), (std::vector<Args>{{"--set-config", "max_size=5G"}}));
  EXPECT_EQ(parse({"-M5G"}), (std::vector<Args>{{"--set-config", "max_size=5G"}}));
  EXPECT_EQ(parse({"--max-size=5G"}), (std::vector<Args>{{"--set-config", "max_size=5G"}}));
  EXPECT_EQ(parse({"-zM", "1G", "-s"}),
            (std::vector<Args>{{"-z"}, {"--set-config", "max_size=1G"}, {"-s"}}));
  EXPECT_EQ(parse({"-o", "a=b", "-k", "a"}),
            (std::vector<Args>{{"--set-config", "a=b"}, {"--get-config", "a"}}));
  EXPECT_EQ(parse({"--evict-older-than", "2d", "-c"}),
            (std::vector<Args>{{"--evict-older-than", "2d"}, {"--cleanup"}}));
  // A link named ccache takes the same command line.
  const auto c = classify_command_line({"/usr/local/bin/ccache", "-s"});
  EXPECT_EQ(c.kind, Kind::admin);
  EXPECT_EQ(classify_command_line({"ccache", "gcc", "-c", "a.c"}).kind, Kind::compile);
}

TEST(ClassifyCommandLine, SettingsBeforeTheCompiler) {
  const auto c =
      classify_command_line({"ccrex", "max_size=1G", "depend_mode=compiler", "gcc", "-c", "a.c"});
  EXPECT_EQ(c.kind, Kind::compile);
  EXPECT_EQ(c.settings, (Args{"max_size=1G", "depend_mode=compiler"}));
  EXPECT_EQ(c.args, (Args{"gcc", "-c", "a.c"}));
  // Not a setting: a compiler whose name has '=' after other characters, or a path.
  EXPECT_EQ(classify_command_line({"ccrex", "./x=y", "-c"}).args, (Args{"./x=y", "-c"}));
  EXPECT_EQ(classify_command_line({"ccrex", "max_size=1G"}).kind, Kind::usage_error);
  EXPECT_EQ(classify_command_line({"ccrex", "max_size=1G", "-s"}).kind, Kind::usage_error);
}

TEST(ClassifyCommandLine, AdminErrors) {
  for (const Args& bad : std::vector<Args>{{"ccrex", "-q"},
                                           {"ccrex", "-zq"},
                                           {"ccrex", "-M"},
                                           {"ccrex", "--max-size"},
                                           {"ccrex", "--show-stats=1"},
                                           {"ccrex", "-s", "extra"},
                                           {"ccrex", "-s", "--version"}}) {
    const auto c = classify_command_line(bad);
    EXPECT_EQ(c.kind, Kind::usage_error) << bad.back();
    EXPECT_FALSE(c.message.empty());
  }
  EXPECT_EQ(classify_command_line({"ccrex", "-zq"}).message, "unknown option: -q (in -zq)");
}

TEST(ClassifyCommandLine, UsageErrors) {
  EXPECT_EQ(classify_command_line({"ccrex"}).kind, Kind::usage_error);
  EXPECT_EQ(classify_command_line({}).kind, Kind::usage_error);
  const auto c = classify_command_line({"ccrex", "--bogus"});
  EXPECT_EQ(c.kind, Kind::usage_error);
  EXPECT_NE(c.message.find("--bogus"), std::string::npos);
}

class ResolveCompiler : public ::testing::Test {
protected:
  void SetUp() override {
    // bin1/gcc -> self (a masquerade link), bin2/gcc the real one, self is "ccrex".
    m_bin1 = util::join_path(m_tmp.path(), "bin1");
    m_bin2 = util::join_path(m_tmp.path(), "bin2");
    ASSERT_TRUE(util::make_dirs(m_bin1));
    ASSERT_TRUE(util::make_dirs(m_bin2));
    m_self = make_exe(util::join_path(m_tmp.path(), "ccrex"));
    m_real = make_exe(util::join_path(m_bin2, "gcc"));
    ASSERT_EQ(::symlink(m_self.c_str(), util::join_path(m_bin1, "gcc").c_str()), 0);
  }

  static std::string make_exe(const std::string& path) {
    EXPECT_TRUE(util::write_file_atomic(path, "#!/bin/sh\n", 0755));
    char buf[PATH_MAX];
    EXPECT_NE(::realpath(path.c_str(), buf), nullptr);
    return buf;
  }

  util::TempDir m_tmp;
  std::string m_bin1;
  std::string m_bin2;
  std::string m_self;
  std::string m_real;
};

TEST_F(ResolveCompiler, SkipsEntriesThatAreSelf) {
  auto found = resolve_compiler("gcc", m_bin1 + ":" + m_bin2, m_self);
  ASSERT_TRUE(found);
  EXPECT_EQ(*found, util::join_path(m_bin2, "gcc"));
}

TEST_F(ResolveCompiler, WithoutSelfStillSkipsLinksToAnyCcrex) {
  auto found = resolve_compiler("gcc", m_bin1 + ":" + m_bin2, "");
  ASSERT_TRUE(found);
  EXPECT_EQ(*found, util::join_path(m_bin2, "gcc"));
}

TEST_F(ResolveCompiler, SkipsOtherWrappersMasqueradeLinks) {
  // ccache's link directory in front of ccrex's: taking its gcc would call ccrex again.
  const std::string wrappers = util::join_path(m_tmp.path(), "wrappers");
  const std::string links = util::join_path(m_tmp.path(), "ccache-links");
  ASSERT_TRUE(util::make_dirs(wrappers));
  ASSERT_TRUE(util::make_dirs(links));
  for (const char* name : {"ccache", "sccache", "distcc", "icecc", "buildcache"}) {
    const std::string exe = make_exe(util::join_path(wrappers, name));
    const std::string link = util::join_path(links, "gcc");
    (void)::unlink(link.c_str());
    ASSERT_EQ(::symlink(exe.c_str(), link.c_str()), 0);
    auto found = resolve_compiler("gcc", links + ":" + m_bin1 + ":" + m_bin2, m_self);
    ASSERT_TRUE(found) << name;
    EXPECT_EQ(*found, util::join_path(m_bin2, "gcc")) << name;
  }
  // A compiler that merely has a wrapper's name as a prefix is a compiler.
  const std::string odd = make_exe(util::join_path(wrappers, "ccache-gcc"));
  (void)::unlink(util::join_path(links, "gcc").c_str());
  ASSERT_EQ(::symlink(odd.c_str(), util::join_path(links, "gcc").c_str()), 0);
  auto found = resolve_compiler("gcc", links + ":" + m_bin2, m_self);
  ASSERT_TRUE(found);
  EXPECT_EQ(*found, util::join_path(links, "gcc"));
}

TEST_F(ResolveCompiler, SkipsDirectoriesAnEarlierCcrexPassed) {
  // An unknown wrapper in bin3 led back to ccrex: look past it.
  const std::string bin3 = util::join_path(m_tmp.path(), "bin3");
  ASSERT_TRUE(util::make_dirs(bin3));
  make_exe(util::join_path(bin3, "gcc"));
  const std::string path = bin3 + ":" + m_bin1 + ":" + m_bin2;
  EXPECT_EQ(*resolve_compiler("gcc", path, m_self), util::join_path(bin3, "gcc"));
  EXPECT_EQ(*resolve_compiler("gcc", path, m_self, bin3), util::join_path(m_bin2, "gcc"));
  EXPECT_EQ(*resolve_compiler("gcc", path, m_self, "/x:" + bin3 + ":/y"),
            util::join_path(m_bin2, "gcc"));
  EXPECT_FALSE(resolve_compiler("gcc", path, m_self, bin3 + ":" + m_bin2));
}

TEST_F(ResolveCompiler, PathIsUsedAsIsUnlessItIsSelf) {
  auto direct = resolve_compiler(m_real, m_bin1, m_self);
  ASSERT_TRUE(direct);
  EXPECT_EQ(*direct, m_real);
  // bin1/gcc leads back to ccrex: look "gcc" up in PATH instead.
  auto via_link = resolve_compiler(util::join_path(m_bin1, "gcc"), m_bin1 + ":" + m_bin2, m_self);
  ASSERT_TRUE(via_link);
  EXPECT_EQ(*via_link, util::join_path(m_bin2, "gcc"));
}

TEST_F(ResolveCompiler, NotFound) {
  EXPECT_FALSE(resolve_compiler("gcc", m_bin1, m_self));
  EXPECT_FALSE(resolve_compiler("no-such-cc", m_bin1 + ":" + m_bin2, m_self));
  EXPECT_FALSE(resolve_compiler(m_self, m_bin2, m_self)); // "ccrex ccrex"
}

TEST(SelfPath, IsThisExecutable) {
  const std::string self = self_path();
  ASSERT_FALSE(self.empty());
  EXPECT_EQ(self[0], '/');
  EXPECT_EQ(util::basename(self), "client_tests");
}

} // namespace
} // namespace ccrex::client
