#include "toolchain/compiler_family.h"
#include "util/file.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>

namespace ccrex::toolchain {
namespace {

struct NameCase {
  const char* name;
  CompilerFamily family;
  bool cxx;
  bool ambiguous;
};

TEST(CompilerFamily, ClassifiesNames) {
  const NameCase cases[] = {
      {"gcc", CompilerFamily::gcc, false, false},
      {"/usr/bin/gcc", CompilerFamily::gcc, false, false},
      {"g++", CompilerFamily::gcc, true, false},
      {"gcc-12", CompilerFamily::gcc, false, false},
      {"g++-12", CompilerFamily::gcc, true, false},
      {"gcc-12.2", CompilerFamily::gcc, false, false},
      {"/usr/bin/x86_64-linux-gnu-gcc-12", CompilerFamily::gcc, false, false},
      {"x86_64-linux-gnu-g++", CompilerFamily::gcc, true, false},
      {"arm-none-eabi-gcc", CompilerFamily::gcc, false, false},
      {"clang", CompilerFamily::clang, false, false},
      {"clang++", CompilerFamily::clang, true, false},
      {"clang-14", CompilerFamily::clang, false, false},
      {"/usr/lib/llvm-14/bin/clang++-14", CompilerFamily::clang, true, false},
      {"aarch64-linux-gnu-clang", CompilerFamily::clang, false, false},
      {"cc", CompilerFamily::unknown, false, true},
      {"/usr/bin/c++", CompilerFamily::unknown, true, true},
      {"x86_64-linux-gnu-cc", CompilerFamily::unknown, false, true},
      {"icc", CompilerFamily::unknown, false, false},
      {"nvcc", CompilerFamily::unknown, false, false},
      {"tcc", CompilerFamily::unknown, false, false},
      {"clang-tidy", CompilerFamily::unknown, false, false},
      {"clang-cl", CompilerFamily::unknown, false, false},
      {"ccache", CompilerFamily::unknown, false, false},
      {"xgcc", CompilerFamily::unknown, false, false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    const auto r = classify_compiler_name(c.name);
    EXPECT_EQ(r.info.family, c.family);
    EXPECT_EQ(r.ambiguous, c.ambiguous);
    if (c.family != CompilerFamily::unknown || c.ambiguous) {
      EXPECT_EQ(r.info.cxx_driver, c.cxx);
    }
  }
}

TEST(CompilerFamily, FromVersionOutput) {
  EXPECT_EQ(family_from_version_output("Debian clang version 14.0.6\nTarget: x86_64"),
            CompilerFamily::clang);
  EXPECT_EQ(family_from_version_output("cc (Debian 12.2.0-14) 12.2.0\nCopyright (C) 2022 Free "
                                       "Software Foundation, Inc.\n"),
            CompilerFamily::gcc);
  EXPECT_EQ(family_from_version_output("Intel(R) C Compiler"), CompilerFamily::unknown);
}

// A runner that counts probes and forwards them to the real one.
struct CountingRunner {
  std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);
  ProbeRunner runner() {
    auto counter = calls;
    auto real = default_probe_runner();
    return [counter, real](const std::vector<std::string>& argv) {
      ++*counter;
      return real(argv);
    };
  }
};

TEST(CompilerDetector, FollowsSymlinkChainsWithoutProbing) {
  if (!util::path_exists("/usr/bin/cc") || !util::path_exists("/usr/bin/clang")) {
    GTEST_SKIP() << "needs /usr/bin/cc and /usr/bin/clang";
  }
  CountingRunner counting;
  CompilerDetector detector(counting.runner());
  // /usr/bin/cc -> /etc/alternatives/cc -> /usr/bin/gcc (on Debian 12).
  EXPECT_EQ(detector.detect("/usr/bin/cc"), (CompilerInfo{CompilerFamily::gcc, false}));
  EXPECT_EQ(detector.detect("/usr/bin/c++"), (CompilerInfo{CompilerFamily::gcc, true}));
  EXPECT_EQ(detector.detect("/usr/bin/clang++"), (CompilerInfo{CompilerFamily::clang, true}));

  util::TempDir dir;
  ASSERT_EQ(::symlink("/usr/bin/clang", (dir.path() + "/cc").c_str()), 0);
  EXPECT_EQ(detector.detect(dir.path() + "/cc"), (CompilerInfo{CompilerFamily::clang, false}));
  EXPECT_EQ(counting.calls->load(), 0);
}

TEST(CompilerDetector, ProbesAmbiguousNamesOnceAndNoticesChanges) {
  if (!util::path_exists("/usr/bin/clang") || !util::path_exists("/usr/bin/gcc")) {
    GTEST_SKIP() << "needs /usr/bin/gcc and /usr/bin/clang";
  }
  util::TempDir dir;
  const std::string wrapper = dir.path() + "/c++";
  ASSERT_TRUE(util::write_file_atomic(wrapper, "#!/bin/sh\nexec /usr/bin/clang \"$@\"\n", 0755));
  CountingRunner counting;
  CompilerDetector detector(counting.runner());
  EXPECT_EQ(detector.detect(wrapper), (CompilerInfo{CompilerFamily::clang, true}));
  EXPECT_EQ(detector.detect(wrapper), (CompilerInfo{CompilerFamily::clang, true}));
  EXPECT_EQ(counting.calls->load(), 1);

  // Replacing the file (new inode) invalidates the cached answer.
  ASSERT_TRUE(util::write_file_atomic(wrapper, "#!/bin/sh\nexec /usr/bin/gcc \"$@\"\n", 0755));
  EXPECT_EQ(detector.detect(wrapper), (CompilerInfo{CompilerFamily::gcc, true}));
  EXPECT_EQ(counting.calls->load(), 2);
}

TEST(CompilerDetector, UnknownAndMissing) {
  util::TempDir dir;
  const std::string other = dir.path() + "/mycc";
  ASSERT_TRUE(util::write_file_atomic(other, "#!/bin/sh\necho clang version 1\n", 0755));
  CountingRunner counting;
  CompilerDetector detector(counting.runner());
  // Not an ambiguous driver name: never probed, whatever it would print.
  EXPECT_EQ(detector.detect(other).family, CompilerFamily::unknown);
  EXPECT_EQ(detector.detect(dir.path() + "/missing-gcc").family, CompilerFamily::unknown);
  EXPECT_EQ(counting.calls->load(), 0);
}

} // namespace
} // namespace ccrex::toolchain
