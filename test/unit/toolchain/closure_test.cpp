#include "toolchain/closure.h"
#include "util/file.h"
#include "util/strings.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

namespace ccrex::toolchain {
namespace {

using Kind = ClosureEntry::Kind;

std::string self_path() {
  return std::filesystem::read_symlink("/proc/self/exe").string();
}

const ClosureEntry* find(const Closure& c, const std::string& path) {
  const auto it = std::find_if(
      c.entries.begin(), c.entries.end(), [&](const ClosureEntry& e) { return e.path == path; });
  return it == c.entries.end() ? nullptr : &*it;
}

bool has_file_named(const Closure& c, std::string_view name) {
  return std::any_of(c.entries.begin(), c.entries.end(), [&](const ClosureEntry& e) {
    return e.kind == Kind::file && util::basename(e.path) == name;
  });
}

std::string probe(const std::string& compiler, const std::string& option) {
  auto out = default_probe_runner()({compiler, option});
  return out ? std::string(util::trim(out->stdout_data)) : "";
}

// What every closure must hold: absolute normalised sorted paths, files that exist as
// regular files, relative links whose lexical targets are in the closure too.
void expect_well_formed(const Closure& c) {
  ASSERT_FALSE(c.entries.empty());
  for (size_t i = 0; i < c.entries.size(); ++i) {
    const auto& e = c.entries[i];
    EXPECT_TRUE(e.path.starts_with('/')) << e.path;
    EXPECT_EQ(util::normalize_path(e.path), e.path);
    if (i > 0) {
      EXPECT_LT(c.entries[i - 1].path, e.path);
    }
    if (e.kind == Kind::file) {
      struct stat st {};
      ASSERT_EQ(::lstat(e.source.c_str(), &st), 0) << e.source;
      EXPECT_TRUE(S_ISREG(st.st_mode)) << e.source;
    } else if (e.kind == Kind::symlink) {
      ASSERT_FALSE(e.target.empty());
      EXPECT_FALSE(e.target.starts_with('/')) << e.path << " -> " << e.target;
      const std::string lexical =
          util::normalize_path(util::join_path(util::dirname(e.path), e.target));
      EXPECT_NE(find(c, lexical), nullptr) << e.path << " -> " << lexical;
    }
  }
}

void expect_runs_alone(const Closure& c, const std::string& compiler) {
  // The loader and libc of the driver are there.
  auto interp = elf_interpreter(std::filesystem::canonical(compiler).string());
  ASSERT_TRUE(interp) << interp.error().message();
  EXPECT_NE(find(c, *interp), nullptr) << *interp;
  EXPECT_TRUE(has_file_named(c, "libc.so.6"));
  // The system-wide include directories stay out.
  EXPECT_EQ(find(c, "/usr/include/stdio.h"), nullptr);
}

// The closure for compiles in `language` (C++ by default: the larger one).
util::Result<Closure> closure_of(const std::string& compiler, Language language = Language::cxx) {
  ToolchainIdCache ids;
  auto id = ids.get(compiler, language);
  if (!id) {
    return id.error();
  }
  return compute_closure(**id, default_probe_runner());
}

TEST(Closure, SystemIncludeDirectories) {
  EXPECT_TRUE(is_system_include_dir("/usr/include"));
  EXPECT_TRUE(is_system_include_dir("/usr/include/"));
  EXPECT_TRUE(is_system_include_dir("/usr/include/x86_64-linux-gnu"));
  EXPECT_TRUE(is_system_include_dir("/usr/local/include"));
  EXPECT_FALSE(is_system_include_dir("/usr/include/c++/12"));
  EXPECT_FALSE(is_system_include_dir("/usr/include/x86_64-linux-gnu/c++/12"));
  EXPECT_FALSE(is_system_include_dir("/usr/lib/gcc/x86_64-linux-gnu/12/include"));
  EXPECT_FALSE(is_system_include_dir("/opt/include"));
}

TEST(Closure, ElfInterpreter) {
  auto self = elf_interpreter(self_path());
  ASSERT_TRUE(self) << self.error().message();
  EXPECT_TRUE(self->starts_with('/')) << *self;
  util::TempDir dir;
  const std::string text = dir.path() + "/script";
  ASSERT_TRUE(util::write_file_atomic(text, "#!/bin/sh\n", 0755));
  EXPECT_FALSE(elf_interpreter(text));
  EXPECT_FALSE(elf_interpreter(dir.path() + "/missing"));
}

TEST(Closure, MissingLibraryFails) {
  ToolchainId id;
  id.compiler_path = self_path();
  id.family = CompilerFamily::gcc;
  const ProbeRunner fake = [](const std::vector<std::string>& argv) -> util::Result<ProbeOutput> {
    if (argv.size() > 1 && argv[1] == "--list") {
      return ProbeOutput{0, "\tlibccrex-missing.so.1 => not found\n", ""};
    }
    return ProbeOutput{1, "", ""};
  };
  auto c = compute_closure(id, fake);
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().message().find("libccrex-missing.so.1"), std::string::npos)
      << c.error().message();
}

TEST(Closure, Gcc) {
  for (const std::string compiler : {"/usr/bin/gcc", "/usr/bin/g++"}) {
    if (!util::path_exists(compiler)) {
      GTEST_SKIP() << compiler << " is not installed";
    }
    SCOPED_TRACE(compiler);
    auto c = closure_of(compiler);
    ASSERT_TRUE(c) << c.error().message();
    expect_well_formed(*c);
    expect_runs_alone(*c, compiler);
    EXPECT_NE(find(*c, compiler), nullptr);
    const std::string cc1 = probe(compiler, "-print-prog-name=cc1");
    ASSERT_TRUE(cc1.starts_with('/')) << cc1;
    ASSERT_NE(find(*c, cc1), nullptr) << cc1;
    EXPECT_EQ(find(*c, cc1)->kind, Kind::file);
    EXPECT_TRUE(find(*c, cc1)->executable);
    const std::string cc1plus = probe(compiler, "-print-prog-name=cc1plus");
    if (cc1plus.starts_with('/')) {
      EXPECT_NE(find(*c, cc1plus), nullptr) << cc1plus;
    }
    EXPECT_NE(find(*c, "/usr/bin/as"), nullptr);
    // gcc's own headers (stddef.h lives in its private include directory).
    const std::string stddef = probe(compiler, "-print-file-name=include/stddef.h");
    ASSERT_TRUE(stddef.starts_with('/')) << stddef;
    EXPECT_NE(find(*c, util::normalize_path(stddef)), nullptr) << stddef;
    // Deterministic.
    auto again = closure_of(compiler);
    ASSERT_TRUE(again);
    EXPECT_TRUE(again->entries == c->entries);
  }
}

TEST(Closure, GxxHasTheCxxHeaders) {
  if (!util::path_exists("/usr/bin/g++")) {
    GTEST_SKIP() << "g++ is not installed";
  }
  auto c = closure_of("/usr/bin/g++");
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_TRUE(has_file_named(*c, "cc1plus"));
  EXPECT_TRUE(has_file_named(*c, "iostream"));
}

// A C compile's closure carries the C search list's directories, not libstdc++'s headers.
TEST(Closure, ACompileInCCarriesNoCxxHeaders) {
  if (!util::path_exists("/usr/bin/gcc")) {
    GTEST_SKIP() << "gcc is not installed";
  }
  auto c = closure_of("/usr/bin/gcc", Language::c);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_FALSE(has_file_named(*c, "iostream"));
  EXPECT_TRUE(has_file_named(*c, "stddef.h")); // gcc's own include directory
  auto cxx = closure_of("/usr/bin/gcc", Language::cxx);
  ASSERT_TRUE(cxx) << cxx.error().message();
  EXPECT_TRUE(has_file_named(*cxx, "iostream"));
}

TEST(Closure, Clang) {
  if (!util::path_exists("/usr/bin/clang")) {
    GTEST_SKIP() << "clang is not installed";
  }
  auto c = closure_of("/usr/bin/clang");
  ASSERT_TRUE(c) << c.error().message();
  expect_well_formed(*c);
  expect_runs_alone(*c, "/usr/bin/clang");
  // The driver runs at its real place (it finds its resource directory from there), reached
  // through the link it was called by.
  const std::string real = std::filesystem::canonical("/usr/bin/clang").string();
  ASSERT_NE(find(*c, real), nullptr) << real;
  EXPECT_EQ(find(*c, real)->kind, Kind::file);
  EXPECT_TRUE(find(*c, real)->executable);
  if (real != "/usr/bin/clang") {
    ASSERT_NE(find(*c, "/usr/bin/clang"), nullptr);
    EXPECT_EQ(find(*c, "/usr/bin/clang")->kind, Kind::symlink);
  }
  // Its resource directory's headers.
  const std::string resource = probe("/usr/bin/clang", "-print-resource-dir");
  ASSERT_TRUE(resource.starts_with('/')) << resource;
  EXPECT_NE(find(*c, util::normalize_path(resource + "/include/stddef.h")), nullptr);
  auto again = closure_of("/usr/bin/clang");
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->entries == c->entries);
}

} // namespace
} // namespace ccrex::toolchain
