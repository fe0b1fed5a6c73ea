#include "depscan/builtin_probe.h"
#include "depscan/search_config.h"
#include "util/file.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace ccrex::depscan {
namespace {

using Strings = std::vector<std::string>;

SearchConfig extract(const Strings& args, const Strings& env = {}) {
  auto r = extract_search_config(args, "/w", env);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().to_string());
  return r ? *r : SearchConfig{};
}

TEST(SearchConfig, JoinedAndSeparateDirectories) {
  const auto c = extract({"-Ia",
                          "-I",
                          "b/",
                          "-iquote",
                          "q",
                          "-iquoteq2",
                          "-isystem",
                          "s",
                          "-isystems2",
                          "-idirafter",
                          "d",
                          "-c",
                          "x.c"});
  EXPECT_EQ(c.bracket_dirs, (Strings{"a", "b"}));
  EXPECT_EQ(c.quote_dirs, (Strings{"q", "q2"}));
  EXPECT_EQ(c.system_dirs, (Strings{"s", "s2"}));
  EXPECT_EQ(c.after_dirs, Strings{"d"});
  EXPECT_EQ(c.source, "x.c");
  EXPECT_EQ(c.language, Language::c);
}

TEST(SearchConfig, SourceByExtension) {
  for (const auto& [file, lang] :
       std::vector<std::pair<std::string, Language>>{{"a.c", Language::c},
                                                     {"a.cc", Language::cxx},
                                                     {"a.cpp", Language::cxx},
                                                     {"a.cxx", Language::cxx},
                                                     {"a.C", Language::cxx},
                                                     {"a.ii", Language::cxx},
                                                     {"a.i", Language::c},
                                                     {"a.m", Language::objc},
                                                     {"a.mm", Language::objcxx}}) {
    EXPECT_EQ(extract({"-c", file, "-o", "x.o"}).language, lang) << file;
  }
}

TEST(SearchConfig, ArgumentsOfSkippedOptionsAreNotSources) {
  const auto c = extract(
      {"foo.o", "-MF", "dep.c", "-o", "out.c", "-D", "X=a.c", "-MT", "t.c", "-x", "c++", "real.c"});
  EXPECT_EQ(c.source, "real.c");
  EXPECT_EQ(c.language, Language::cxx);
  EXPECT_EQ(c.output, "out.c");
  EXPECT_EQ(c.dep_targets, Strings{"t.c"});
}

TEST(SearchConfig, ForcedIncludesInOrder) {
  const auto c = extract({"-include", "a.h", "-imacrosm.h", "--include", "b.h", "x.c"});
  EXPECT_EQ(c.forced_includes, (Strings{"a.h", "m.h", "b.h"}));
}

TEST(SearchConfig, SysrootAndStd) {
  const auto c = extract({"--sysroot=/sr", "-std=c++20", "-I=/inc", "-nostdinc++", "x.cc"});
  EXPECT_EQ(c.sysroot, "/sr");
  EXPECT_EQ(c.std, "c++20");
  EXPECT_EQ(c.bracket_dirs, Strings{"/sr/inc"});
  EXPECT_TRUE(c.nostdincxx);
  EXPECT_FALSE(c.nostdinc);
  EXPECT_EQ(c.probe_args, (Strings{"--sysroot", "/sr"}));
  const auto d = extract({"-isysroot", "/sr2", "--sysroot", "/sr3", "x.c"});
  EXPECT_EQ(d.sysroot, "/sr3");
}

TEST(SearchConfig, EnvironmentPaths) {
  const auto c =
      extract({"-Ia", "x.cc"}, {"CPATH=/c1::/c2", "CPLUS_INCLUDE_PATH=/p", "C_INCLUDE_PATH=/no"});
  EXPECT_EQ(c.bracket_dirs, (Strings{"a", "/c1", ".", "/c2"}));
  EXPECT_EQ(c.system_dirs, Strings{"/p"});
}

TEST(SearchConfig, Failures) {
  EXPECT_EQ(extract_search_config({"-c"}, "/w", {}).error().reason, FailureReason::bad_arguments);
  EXPECT_EQ(extract_search_config({"a.c", "b.c"}, "/w", {}).error().reason,
            FailureReason::bad_arguments);
  EXPECT_EQ(extract_search_config({"a.c", "-I"}, "/w", {}).error().reason,
            FailureReason::bad_arguments);
  for (const char* opt :
       {"-fmodules", "-I-", "-traditional-cpp", "-iwithprefixbefore=x", "-Xpreprocessor"}) {
    auto r = extract_search_config({opt, "y", "a.c"}, "/w", {});
    ASSERT_FALSE(r) << opt;
    EXPECT_EQ(r.error().reason, FailureReason::unsupported_option) << opt;
  }
  EXPECT_EQ(extract_search_config({"-x", "cuda", "a.cu"}, "/w", {}).error().reason,
            FailureReason::unsupported_option);
}

TEST(SearchConfig, AssemblySources) {
  EXPECT_EQ(extract({"-c", "a.s"}).language, Language::assembler);
  EXPECT_EQ(extract({"-c", "a.S"}).language, Language::assembler_with_cpp);
  EXPECT_EQ(extract({"-c", "a.sx"}).language, Language::assembler_with_cpp);
  EXPECT_EQ(extract({"-x", "assembler", "-c", "a.asm"}).language, Language::assembler);
  EXPECT_EQ(extract({"-x", "assembler-with-cpp", "a.asm"}).language, Language::assembler_with_cpp);
  // An object or archive next to it is still for the linker.
  EXPECT_EQ(extract({"x.o", "dir.s/lib.a", "a.s"}).source, "a.s");
  // Preprocessed assembly searches the C variables.
  const auto c = extract({"a.S"}, {"C_INCLUDE_PATH=/ci", "CPLUS_INCLUDE_PATH=/cpi"});
  EXPECT_EQ(c.system_dirs, Strings{"/ci"});
}

TEST(SearchConfig, AssemblerIncludeDirectories) {
  const auto c = extract({"-Wa,-Ia,--noexecstack,-I,b/",
                          "-Xassembler",
                          "-Ic",
                          "-Xassembler",
                          "-I",
                          "-Xassembler",
                          "d",
                          "-Wa,-I",
                          "-Wa,e",
                          "-Ii",
                          "a.s"});
  EXPECT_EQ(c.asm_include_dirs, (Strings{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(c.bracket_dirs, Strings{"i"});
}

TEST(SearchConfig, TrigraphsFollowTheLastStandard) {
  // ISO C and C++ before C++17 convert trigraphs; GNU modes and C++17 on do not.
  for (const char* on : {"-std=c89",
                         "-std=c99",
                         "-std=c11",
                         "-std=c17",
                         "-std=c2x",
                         "-std=iso9899:1990",
                         "-std=c++98",
                         "-std=c++03",
                         "-std=c++11",
                         "-std=c++14",
                         "-ansi",
                         "-trigraphs",
                         "-ftrigraphs"}) {
    EXPECT_TRUE(extract({on, "a.c"}).trigraphs) << on;
  }
  for (const char* off :
       {"-std=gnu89", "-std=gnu11", "-std=gnu++14", "-std=c++17", "-std=c++20", "-O2"}) {
    EXPECT_FALSE(extract({off, "a.c"}).trigraphs) << off;
  }
  EXPECT_FALSE(extract({"-std=c99", "-std=gnu99", "a.c"}).trigraphs);
  EXPECT_TRUE(extract({"-std=gnu99", "-std=c99", "a.c"}).trigraphs);
  EXPECT_FALSE(extract({"-ansi", "-std=gnu99", "a.c"}).trigraphs);
  // An explicit option counts wherever it is (the safe side: the scan then defers to -M).
  EXPECT_TRUE(extract({"-trigraphs", "-std=gnu99", "a.c"}).trigraphs);
}

TEST(SearchConfig, ResponseFiles) {
  util::TempDir dir("depscan-rsp-");
  ASSERT_TRUE(util::write_file_atomic(dir.path() + "/args.rsp", "-Ia \"-I b c\"\n'x.c'\n"));
  auto r = extract_search_config({"@args.rsp", "-Id"}, dir.path(), {});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->bracket_dirs, (Strings{"a", " b c", "d"}));
  EXPECT_EQ(r->source, "x.c");
}

TEST(BuiltinProbe, ParsesVerboseOutput) {
  const std::string text = "ignoring nonexistent directory \"/x\"\n"
                           "#include \"...\" search starts here:\n"
                           "#include <...> search starts here:\n"
                           " /usr/include/c++/12\n"
                           " /usr/lib/gcc/x86_64-linux-gnu/12/include\n"
                           " /Library/Frameworks (framework directory)\n"
                           " /usr/include\n"
                           "End of search list.\n";
  auto dirs = parse_search_list(text);
  ASSERT_TRUE(dirs);
  EXPECT_EQ(
      *dirs,
      (Strings{"/usr/include/c++/12", "/usr/lib/gcc/x86_64-linux-gnu/12/include", "/usr/include"}));
  EXPECT_FALSE(parse_search_list("no list here\n"));
}

TEST(BuiltinProbe, RealCompilerIsProbedOnce) {
  CompilerProber prober;
  auto a = prober.builtin_dirs("g++", Language::cxx, {});
  ASSERT_TRUE(a) << a.error().to_string();
  EXPECT_FALSE(a->empty());
  auto b = prober.builtin_dirs("g++", Language::cxx, {});
  ASSERT_TRUE(b);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(prober.runs(), 1);
  auto bad = prober.builtin_dirs("/nonexistent/cc", Language::c, {});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().reason, FailureReason::probe_failed);
}

TEST(BuiltinProbe, DiskCacheSkipsTheCompilerInANewProber) {
  util::TempDir dir("depscan-probe-");
  CompilerProber first(dir.path());
  auto a = first.builtin_dirs("gcc", Language::c, {});
  ASSERT_TRUE(a) << a.error().to_string();
  EXPECT_EQ(first.runs(), 1);
  CompilerProber second(dir.path());
  auto b = second.builtin_dirs("gcc", Language::c, {});
  ASSERT_TRUE(b);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(second.runs(), 0);
  // Other probe arguments are another key.
  auto c = second.builtin_dirs("gcc", Language::c, {"-nostdlibinc"});
  EXPECT_EQ(second.runs(), c ? 1 : 0);
}

} // namespace
TEST(BuiltinProbe, DiskCacheFileForAnotherKeyIsAMiss) {
  util::TempDir dir("depscan-probe-");
  CompilerProber first(dir.path());
  auto a = first.builtin_dirs("gcc", Language::c, {});
  ASSERT_TRUE(a) << a.error().to_string();
  // Replace the cache file's recorded key, as a file name collision would look.
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    files.push_back(e.path().string());
  }
  ASSERT_EQ(files.size(), 1u);
  const std::string file = files.front();
  ASSERT_TRUE(util::write_file_atomic(file, "5\nother\n/bogus/dir\n"));
  CompilerProber second(dir.path());
  auto b = second.builtin_dirs("gcc", Language::c, {});
  ASSERT_TRUE(b);
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(second.runs(), 1);
  // The probe rewrote the file, so a third prober reads it.
  CompilerProber third(dir.path());
  auto c = third.builtin_dirs("gcc", Language::c, {});
  ASSERT_TRUE(c);
  EXPECT_EQ(*a, *c);
  EXPECT_EQ(third.runs(), 0);
}

// An include list the agent's compiler identity already printed answers the scanner: the
// compiler (here one that does not exist) is not run for it. Another language is another
// key, and output without a search list is refused.
TEST(BuiltinProbe, RememberedOutputAnswersWithoutRunningTheCompiler) {
  const std::string text = "ignored\n"
                           "#include <...> search starts here:\n"
                           " /opt/cc/include\n"
                           " /usr/include\n"
                           "End of search list.\n";
  CompilerProber prober;
  EXPECT_FALSE(prober.remember("/nonexistent/cc", Language::cxx, {}, "no list here\n"));
  ASSERT_TRUE(prober.remember("/nonexistent/cc", Language::c, {}, text));
  auto dirs = prober.builtin_dirs("/nonexistent/cc", Language::c, {});
  ASSERT_TRUE(dirs) << dirs.error().to_string();
  EXPECT_EQ(*dirs, (Strings{"/opt/cc/include", "/usr/include"}));
  EXPECT_EQ(prober.runs(), 0);
  auto cxx = prober.builtin_dirs("/nonexistent/cc", Language::cxx, {});
  ASSERT_FALSE(cxx);
  EXPECT_EQ(cxx.error().reason, FailureReason::probe_failed);
  auto other_args = prober.builtin_dirs("/nonexistent/cc", Language::c, {"-m32"});
  EXPECT_FALSE(other_args);
}

} // namespace ccrex::depscan
