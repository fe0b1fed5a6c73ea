#include "agent/config.h"
#include "util/file.h"

#include <gtest/gtest.h>

namespace ccrex::agent {
namespace {

std::vector<std::string> base_env(const util::TempDir& home) {
  return {"HOME=" + home.path(), "XDG_CONFIG_HOME=" + home.path() + "/config"};
}

TEST(Config, DefaultsWithEmptyEnvironment) {
  util::TempDir home;
  auto c = load_config(base_env(home));
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->remote, "");
  EXPECT_FALSE(c->cache_only);
  EXPECT_EQ(c->cache_dir, home.path() + "/.cache/ccrex");
  EXPECT_EQ(c->platform.at("OSFamily"), "linux");
  EXPECT_GT(c->local_jobs, 0);
  EXPECT_EQ(c->origin.at("remote"), "default");
  EXPECT_FALSE(c->hermetic_toolchain);
}

TEST(Config, MaxRemoteCalls) {
  util::TempDir home;
  auto with = [&](std::vector<std::string> extra) {
    auto env = base_env(home);
    env.insert(env.end(), extra.begin(), extra.end());
    return load_config(env);
  };
  auto c = with({});
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->max_remote_calls, 64);
  c = with({"CCREX_MAX_REMOTE_CALLS=8"});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->max_remote_calls, 8);
  EXPECT_EQ(c->origin.at("max_remote_calls"), "CCREX_MAX_REMOTE_CALLS");
  c = with({"CCREX_MAX_REMOTE_CALLS=0"});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->max_remote_calls, 0); // no limit
  EXPECT_FALSE(with({"CCREX_MAX_REMOTE_CALLS=-1"}));
  EXPECT_FALSE(with({"CCREX_MAX_REMOTE_CALLS=many"}));
  EXPECT_FALSE(with({"CCREX_MAX_REMOTE_CALLS=100001"}));
}

TEST(Config, CompressionSettingsAndTheirCcacheNames) {
  util::TempDir home;
  auto c = load_config(base_env(home));
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_TRUE(c->compression); // on by default, as in ccache
  EXPECT_EQ(store_compression_level(*c), 1);
  auto with = [&](std::vector<std::string> extra) {
    auto env = base_env(home);
    env.insert(env.end(), extra.begin(), extra.end());
    return load_config(env);
  };
  c = with({"CCREX_COMPRESSION_LEVEL=7"});
  ASSERT_TRUE(c);
  EXPECT_EQ(store_compression_level(*c), 7);
  c = with({"CCREX_COMPRESSION_LEVEL=-3"});
  ASSERT_TRUE(c);
  EXPECT_EQ(store_compression_level(*c), -3);
  c = with({"CCREX_COMPRESSION=false", "CCREX_COMPRESSION_LEVEL=7"});
  ASSERT_TRUE(c);
  EXPECT_EQ(store_compression_level(*c), 0);
  EXPECT_FALSE(with({"CCREX_COMPRESSION_LEVEL=20"}));
  EXPECT_FALSE(with({"CCREX_COMPRESSION_LEVEL=-6"}));
  EXPECT_FALSE(with({"CCREX_COMPRESSION=maybe"}));
  // ccache's variables: CCACHE_NOCOMPRESS turns it off whatever its value, CCACHE_COMPRESS
  // on, CCACHE_COMPRESSLEVEL passes its value; CCREX_* wins over them.
  c = with({"CCACHE_NOCOMPRESS=1"});
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->compression);
  EXPECT_EQ(c->origin.at("compression"), "CCACHE_NOCOMPRESS");
  c = with({"CCACHE_NOCOMPRESS=", "CCREX_COMPRESSION=true"});
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->compression);
  c = with({"CCACHE_COMPRESSLEVEL=5"});
  ASSERT_TRUE(c);
  EXPECT_EQ(store_compression_level(*c), 5);
  EXPECT_EQ(c->origin.at("compression_level"), "CCACHE_COMPRESSLEVEL");
  c = with({"CCACHE_COMPRESS=0"});
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->compression);
  EXPECT_EQ(*config_value(*c, "compression_level"), "0");
}

TEST(Config, HermeticToolchainFromTheEnvironment) {
  util::TempDir home;
  auto env = base_env(home);
  env.emplace_back("CCREX_HERMETIC_TOOLCHAIN=true");
  auto c = load_config(env);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_TRUE(c->hermetic_toolchain);
  EXPECT_EQ(c->origin.at("hermetic_toolchain"), "CCREX_HERMETIC_TOOLCHAIN");
}

TEST(Config, FileThenReccThenCcrexVariables) {
  util::TempDir home;
  ASSERT_TRUE(util::make_dirs(home.path() + "/config/ccrex"));
  ASSERT_TRUE(util::write_file_atomic(home.path() + "/config/ccrex/ccrex.conf",
                                      "# comment\nremote = grpc://file:1\ninstance = from-file\n"
                                      "cache_only = yes\n"));
  auto env = base_env(home);
  env.emplace_back("RECC_SERVER=grpc://recc:2");
  auto c = load_config(env);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->remote, "grpc://recc:2");
  EXPECT_EQ(c->origin.at("remote"), "RECC_SERVER");
  EXPECT_EQ(c->instance, "from-file");
  EXPECT_EQ(c->origin.at("instance"), home.path() + "/config/ccrex/ccrex.conf:3");
  EXPECT_TRUE(c->cache_only);

  env.emplace_back("CCREX_REMOTE=unix:/run/x.sock");
  env.emplace_back("RECC_REMOTE_PLATFORM_ISA=arm-a64");
  c = load_config(env);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->remote, "unix:/run/x.sock");
  EXPECT_EQ(c->platform.at("ISA"), "arm-a64");
  const std::string text = describe(*c);
  EXPECT_NE(text.find("(CCREX_REMOTE) remote = unix:/run/x.sock"), std::string::npos) << text;
}

TEST(Config, BooleansAreStrict) {
  util::TempDir home;
  for (const char* ok : {"1", "0", "true", "FALSE", "yes", "no", "on", "off"}) {
    auto env = base_env(home);
    env.push_back(std::string("CCREX_CACHE_ONLY=") + ok);
    EXPECT_TRUE(load_config(env)) << ok;
  }
  for (const char* bad : {"", "2", "y", "maybe", "enabled"}) {
    auto env = base_env(home);
    env.push_back(std::string("CCREX_READ_ONLY=") + bad);
    const auto c = load_config(env);
    ASSERT_FALSE(c) << bad;
    EXPECT_NE(c.error().message().find("CCREX_READ_ONLY"), std::string::npos);
  }
}

TEST(Config, FileErrorsNameTheLine) {
  util::TempDir home;
  ASSERT_TRUE(util::make_dirs(home.path() + "/config/ccrex"));
  ASSERT_TRUE(util::write_file_atomic(home.path() + "/config/ccrex/ccrex.conf",
                                      "remote = grpc://x:1\nno_such_key = 3\n"));
  const auto c = load_config(base_env(home));
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message().find("ccrex.conf:2"), std::string::npos) << c.error().message();
  EXPECT_NE(c.error().message().find("no_such_key"), std::string::npos);
}

TEST(Config, TypedValues) {
  util::TempDir home;
  auto env = base_env(home);
  env.insert(env.end(),
             {"CCREX_MAX_SIZE=2G",
              "CCREX_PLATFORM=OSFamily=linux,ISA=x86-64",
              "CCREX_DEPEND_MODE=compiler",
              "CCREX_RETRIES=5",
              "CCREX_HEADERS=x-api-key=abc"});
  const auto c = load_config(env);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_EQ(c->max_size, int64_t{2} << 30);
  EXPECT_EQ(c->platform.size(), 2U);
  EXPECT_EQ(c->depend_mode, "compiler");
  EXPECT_EQ(c->retries, 5);
  EXPECT_EQ(c->headers, std::vector<std::string>{"x-api-key=abc"});
  for (const char* bad :
       {"CCREX_MAX_SIZE=lots", "CCREX_DEPEND_MODE=magic", "CCREX_PLATFORM=x", "CCREX_RETRIES=-1"}) {
    auto e = base_env(home);
    e.emplace_back(bad);
    EXPECT_FALSE(load_config(e)) << bad;
  }
}

} // namespace
} // namespace ccrex::agent
