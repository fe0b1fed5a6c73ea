#include "toolchain/toolchain_id.h"
#include "util/file.h"
#include "util/sha256.h"
#include "util/strings.h"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace ccrex::toolchain {
namespace {

using Strings = std::vector<std::string>;

TEST(IncludeSearchList, ParsesVerboseOutput) {
  const std::string output = "ignoring nonexistent directory \"/usr/local/include/x86_64\"\n"
                             "#include \"...\" search starts here:\n"
                             " /quote/dir\n"
                             "#include <...> search starts here:\n"
                             " /usr/lib/gcc/x86_64-linux-gnu/12/include\n"
                             " /usr/local/include\n"
                             " /System/Library/Frameworks (framework directory)\n"
                             " /usr/include\n"
                             "End of search list.\n"
                             " /not/a/dir\n";
  EXPECT_EQ(parse_include_search_list(output),
            (Strings{"/usr/lib/gcc/x86_64-linux-gnu/12/include",
                     "/usr/local/include",
                     "/System/Library/Frameworks",
                     "/usr/include"}));
  EXPECT_TRUE(parse_include_search_list("garbage").empty());
}

struct IdCountingRunner {
  std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);
  ProbeRunner runner() {
    auto counter = calls;
    auto real = default_probe_runner();
    return [counter, real](const Strings& argv) {
      ++*counter;
      return real(argv);
    };
  }
};

bool have(const char* path) {
  return util::path_exists(path);
}

// The real compiler, except that `-E -v` output loses its version and "Target:" lines, as a
// compiler whose verbose output ccrex cannot read would.
ProbeRunner hiding_verbose_header(ProbeRunner real) {
  return [real](const Strings& argv) -> util::Result<ProbeOutput> {
    auto out = real(argv);
    if (!out || std::find(argv.begin(), argv.end(), "-v") == argv.end()) {
      return out;
    }
    std::string kept;
    for (const auto line : util::split(out->stderr_data, '\n')) {
      if (!line.starts_with("Target:") && line.find("version") == std::string_view::npos) {
        kept.append(line).append("\n");
      }
    }
    out->stderr_data = kept;
    return out;
  };
}

std::string first_stdout_line(const std::string& compiler, const std::string& option) {
  auto out = default_probe_runner()({compiler, option});
  return out ? std::string(util::trim(out->stdout_data.substr(0, out->stdout_data.find('\n'))))
             : std::string("(failed)");
}

void expect_existing_dirs(const Strings& dirs) {
  EXPECT_FALSE(dirs.empty());
  for (const auto& d : dirs) {
    struct stat st {};
    EXPECT_EQ(::stat(d.c_str(), &st), 0) << d;
    EXPECT_TRUE(S_ISDIR(st.st_mode)) << d;
  }
}

TEST(ToolchainId, RealGcc) {
  if (!have("/usr/bin/gcc")) {
    GTEST_SKIP() << "needs /usr/bin/gcc";
  }
  IdCountingRunner counting;
  ToolchainIdCache cache(counting.runner());
  const auto id = cache.get("/usr/bin/gcc", Language::c);
  ASSERT_TRUE(id) << id.error().to_string();
  const auto& gcc = **id;
  EXPECT_EQ(gcc.family, CompilerFamily::gcc);
  EXPECT_EQ(gcc.resolved_path.find("/usr/bin/"), 0U);
  EXPECT_NE(gcc.resolved_path, "/usr/bin/gcc"); // a symlink on Debian
  EXPECT_TRUE(util::is_valid_sha256_hex(gcc.binary_sha256));
  EXPECT_TRUE(util::is_valid_sha256_hex(gcc.key));
  EXPECT_EQ(gcc.version.find("gcc version "), 0U) << gcc.version;
  EXPECT_NE(gcc.version.find("(Debian"), std::string::npos) << gcc.version;
  EXPECT_NE(gcc.target.find("linux"), std::string::npos) << gcc.target;
  EXPECT_EQ(gcc.language, Language::c);
  expect_existing_dirs(gcc.builtin_include_dirs);
  // One compiler run tells it all, and a C compile never starts the C++ front end.
  EXPECT_EQ(counting.calls->load(), 1);
}

// The target read from `-E -v` is what `-dumpmachine` says, for either family; a compiler
// whose verbose output lacks it is asked with `-dumpmachine` and `--version`, and gets the
// same target and family.
TEST(ToolchainId, TheVerboseProbeTellsWhatDumpmachineWould) {
  if (!have("/usr/bin/gcc") && !have("/usr/bin/clang")) {
    GTEST_SKIP() << "needs /usr/bin/gcc or /usr/bin/clang";
  }
  for (const std::string compiler : {"/usr/bin/gcc", "/usr/bin/clang"}) {
    if (!have(compiler.c_str())) {
      continue;
    }
    SCOPED_TRACE(compiler);
    ToolchainIdCache cache;
    const auto id = cache.get(compiler, Language::c);
    ASSERT_TRUE(id) << id.error().to_string();
    EXPECT_EQ((*id)->target, first_stdout_line(compiler, "-dumpmachine"));
    EXPECT_EQ((*id)->family,
              compiler.ends_with("clang") ? CompilerFamily::clang : CompilerFamily::gcc);

    IdCountingRunner counting;
    const auto counted = counting.runner();
    ToolchainIdCache fallback(hiding_verbose_header(counted));
    const auto asked = fallback.get(compiler, Language::c);
    ASSERT_TRUE(asked) << asked.error().to_string();
    EXPECT_EQ(counting.calls->load(), 3);
    EXPECT_EQ((*asked)->target, (*id)->target);
    EXPECT_EQ((*asked)->family, (*id)->family);
    EXPECT_EQ((*asked)->builtin_include_dirs, (*id)->builtin_include_dirs);
    EXPECT_FALSE((*asked)->version.empty());
  }
}

// C and C++ compiles of one compiler have their own identities: the same compiler, each
// with its own search list (the C++ one has the libstdc++ directories in front of the C
// ones), and each probed once. Objective-C++ and preprocessed C++ share the C++ one.
TEST(ToolchainId, CAndCxxCompilesHaveTheirOwnSearchListAndKey) {
  if (!have("/usr/bin/gcc")) {
    GTEST_SKIP() << "needs /usr/bin/gcc";
  }
  IdCountingRunner counting;
  ToolchainIdCache cache(counting.runner());
  const auto c = cache.get("/usr/bin/gcc", Language::c);
  const auto cxx = cache.get("/usr/bin/gcc", Language::cxx);
  ASSERT_TRUE(c && cxx);
  EXPECT_EQ((*cxx)->language, Language::cxx);
  EXPECT_EQ((*c)->binary_sha256, (*cxx)->binary_sha256);
  EXPECT_EQ((*c)->version, (*cxx)->version);
  EXPECT_NE((*c)->key, (*cxx)->key);
  expect_existing_dirs((*cxx)->builtin_include_dirs);
  EXPECT_GT((*cxx)->builtin_include_dirs.size(), (*c)->builtin_include_dirs.size());
  EXPECT_NE((*cxx)->description().find("c++ include dirs:"), std::string::npos);
  const int probes = counting.calls->load();
  EXPECT_EQ(probes, 2);
  for (const auto language : {Language::objcxx, Language::cxx_cpp_output, Language::cxx}) {
    const auto same = cache.get("/usr/bin/gcc", language);
    ASSERT_TRUE(same);
    EXPECT_EQ(same->get(), cxx->get());
  }
  for (const auto language : {Language::c_cpp_output, Language::assembler_with_cpp}) {
    const auto same = cache.get("/usr/bin/gcc", language);
    ASSERT_TRUE(same);
    EXPECT_EQ(same->get(), c->get());
  }
  EXPECT_EQ(counting.calls->load(), probes);
}

TEST(ToolchainId, StableAcrossCallsAndCachedPerStat) {
  if (!have("/usr/bin/gcc")) {
    GTEST_SKIP() << "needs /usr/bin/gcc";
  }
  IdCountingRunner counting;
  ToolchainIdCache cache(counting.runner());
  const auto first = cache.get("/usr/bin/gcc", Language::c);
  ASSERT_TRUE(first);
  const int probes = counting.calls->load();
  const auto second = cache.get("/usr/bin/gcc", Language::c);
  ASSERT_TRUE(second);
  EXPECT_EQ(counting.calls->load(), probes); // cache hit: no compiler run
  EXPECT_EQ(first->get(), second->get());

  // A fresh cache computes the same key.
  ToolchainIdCache other;
  const auto again = other.get("/usr/bin/gcc", Language::c);
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)->key, (*first)->key);
  EXPECT_EQ((*again)->description(), (*first)->description());
}

TEST(ToolchainId, GccGxxAndClangDiffer) {
  if (!have("/usr/bin/gcc") || !have("/usr/bin/g++") || !have("/usr/bin/clang")) {
    GTEST_SKIP() << "needs /usr/bin/gcc and /usr/bin/g++ and /usr/bin/clang";
  }
  ToolchainIdCache cache;
  const auto gcc = cache.get("/usr/bin/gcc", Language::c);
  const auto gxx = cache.get("/usr/bin/g++", Language::c);
  const auto clang = cache.get("/usr/bin/clang", Language::c);
  ASSERT_TRUE(gcc && gxx && clang);
  EXPECT_EQ((*clang)->family, CompilerFamily::clang);
  EXPECT_NE((*gcc)->key, (*clang)->key);
  EXPECT_NE((*gcc)->binary_sha256, (*clang)->binary_sha256);
  // g++ is a different driver binary than gcc.
  EXPECT_NE((*gcc)->key, (*gxx)->key);
  EXPECT_EQ((*gxx)->family, CompilerFamily::gcc);
  expect_existing_dirs((*clang)->builtin_include_dirs);
  EXPECT_FALSE((*clang)->target.empty());
}

TEST(ToolchainId, SameCompilerThroughSymlinkHasSameKey) {
  if (!have("/usr/bin/gcc")) {
    GTEST_SKIP() << "needs /usr/bin/gcc";
  }
  util::TempDir dir;
  const std::string link = dir.path() + "/my-gcc";
  ASSERT_EQ(::symlink("/usr/bin/gcc", link.c_str()), 0);
  ToolchainIdCache cache;
  const auto direct = cache.get("/usr/bin/gcc", Language::c);
  const auto via_link = cache.get(link, Language::c);
  ASSERT_TRUE(direct && via_link);
  EXPECT_EQ((*direct)->key, (*via_link)->key);
}

TEST(ToolchainId, ChangedBinaryIsProbedAgain) {
  if (!have("/usr/bin/gcc")) {
    GTEST_SKIP() << "needs /usr/bin/gcc";
  }
  util::TempDir dir;
  // A wrapper script stands in for a compiler binary we are allowed to touch.
  const std::string copy = dir.path() + "/gcc";
  ASSERT_TRUE(util::write_file_atomic(copy, "#!/bin/sh\nexec /usr/bin/gcc \"$@\"\n", 0755));
  IdCountingRunner counting;
  ToolchainIdCache cache(counting.runner());
  const auto first = cache.get(copy, Language::c);
  ASSERT_TRUE(first) << first.error().to_string();
  const int probes = counting.calls->load();
  ASSERT_TRUE(cache.get(copy, Language::c));
  EXPECT_EQ(counting.calls->load(), probes);

  // Same content, new mtime: the stamp differs, so the compiler is probed again.
  const struct timespec times[2] = {{1000, 0}, {1000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, copy.c_str(), times, 0), 0);
  const auto second = cache.get(copy, Language::c);
  ASSERT_TRUE(second);
  EXPECT_EQ(counting.calls->load(), 2 * probes);
  EXPECT_EQ((*first)->key, (*second)->key);
}

TEST(ToolchainId, ConcurrentLookupsProbeOnce) {
  if (!have("/usr/bin/clang")) {
    GTEST_SKIP() << "needs /usr/bin/clang";
  }
  IdCountingRunner counting;
  ToolchainIdCache cache(counting.runner());
  std::vector<std::string> keys(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < keys.size(); ++i) {
    threads.emplace_back([&cache, &keys, i] {
      const auto id = cache.get("/usr/bin/clang", Language::c);
      keys[i] = id ? (*id)->key : "error";
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  for (const auto& k : keys) {
    EXPECT_EQ(k, keys[0]);
  }
  EXPECT_NE(keys[0], "error");
  EXPECT_EQ(counting.calls->load(), 1);
}

TEST(ToolchainId, Failures) {
  ToolchainIdCache cache;
  EXPECT_FALSE(cache.get("/nonexistent/gcc", Language::c));
  util::TempDir dir;
  const std::string broken = dir.path() + "/gcc";
  ASSERT_TRUE(util::write_file_atomic(broken, "#!/bin/sh\nexit 3\n", 0755));
  const auto r = cache.get(broken, Language::c);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("exited with 3"), std::string::npos) << r.error().message();
}

// When the verbose output does not tell the version and target, the two probes that do run
// at once: each waits (up to five seconds) until both have started, so probes run one after
// another would find only themselves.
TEST(ToolchainId, ProbesRunAtOnce) {
  if (!have("/usr/bin/gcc")) {
    GTEST_SKIP() << "needs /usr/bin/gcc";
  }
  struct Meeting {
    std::mutex mutex;
    std::condition_variable all_in;
    int started = 0;
    int met = 0;
  };
  auto meeting = std::make_shared<Meeting>();
  auto real = hiding_verbose_header(default_probe_runner());
  ToolchainIdCache cache([meeting, real](const Strings& argv) {
    if (std::find(argv.begin(), argv.end(), "-v") != argv.end()) {
      return real(argv);
    }
    {
      std::unique_lock lock(meeting->mutex);
      ++meeting->started;
      meeting->all_in.notify_all();
      if (meeting->all_in.wait_for(
              lock, std::chrono::seconds(5), [&] { return meeting->started >= 2; })) {
        ++meeting->met;
      }
    }
    return real(argv);
  });
  const auto id = cache.get("/usr/bin/gcc", Language::cxx);
  ASSERT_TRUE(id) << id.error().to_string();
  EXPECT_EQ(meeting->started, 2);
  EXPECT_EQ(meeting->met, 2);
  EXPECT_FALSE((*id)->builtin_include_dirs.empty());
}

// A probe that fails fails the identity, whichever it is (the version and target probes as
// asked of a compiler whose verbose output lacks them), and the others are waited for (no
// thread outlives the call).
TEST(ToolchainId, OneFailedProbeFailsTheIdentity) {
  if (!have("/usr/bin/gcc")) {
    GTEST_SKIP() << "needs /usr/bin/gcc";
  }
  for (const auto& [failing, language] :
       std::vector<std::pair<std::string, Language>>{{"--version", Language::c},
                                                     {"-dumpmachine", Language::c},
                                                     {"c", Language::c},
                                                     {"c++", Language::cxx}}) {
    auto real = hiding_verbose_header(default_probe_runner());
    ToolchainIdCache cache([failing, real](const Strings& argv) -> util::Result<ProbeOutput> {
      if (argv.at(1) == failing || (argv.size() > 2 && argv.at(2) == failing)) {
        return ProbeOutput{1, "", "probe refused"};
      }
      return real(argv);
    });
    const auto id = cache.get("/usr/bin/gcc", language);
    ASSERT_FALSE(id) << failing;
    EXPECT_NE(id.error().message().find("probe refused"), std::string::npos)
        << failing << ": " << id.error().message();
  }
}

} // namespace
} // namespace ccrex::toolchain
