#include "toolchain/command_parser.h"

#include <gtest/gtest.h>

#include <map>
#include <ostream>

namespace ccrex::toolchain {

// Readable failure messages for the result structs.
void PrintTo(const PreprocessorArg& a, std::ostream* os) {
  *os << a.option << ' ' << a.value;
}
void PrintTo(const OptionInput& a, std::ostream* os) {
  *os << a.option << ' ' << a.path;
}
void PrintTo(const PrefixMap& m, std::ostream* os) {
  *os << static_cast<int>(m.kind) << ':' << m.from << '=' << m.to;
}

namespace {

using Strings = std::vector<std::string>;
using Reason = UnsupportedReason;

constexpr CompilerInfo k_gcc{CompilerFamily::gcc, false};
constexpr CompilerInfo k_gxx{CompilerFamily::gcc, true};
constexpr CompilerInfo k_clang{CompilerFamily::clang, false};
constexpr CompilerInfo k_clangxx{CompilerFamily::clang, true};

// One command line and what the parser must make of it. Empty strings mean "no such
// output"; output names were checked against gcc 12 and clang 14 on Debian 12 (see also
// command_parser_real_test.cpp, which runs the compilers).
struct Case {
  CompilerInfo compiler;
  Strings argv;
  std::optional<Reason> reason;
  std::string object;
  std::string dep;
  std::string dwo;
  std::string gcno;
  std::optional<Language> language;
};

std::ostream& operator<<(std::ostream& os, const Case& c) {
  for (const auto& a : c.argv) {
    os << a << ' ';
  }
  return os;
}

const std::vector<Case>& cases() {
  static const std::vector<Case> k_cases = {
      // Plain compiles and object naming.
      {k_gcc, {"gcc", "-c", "x.c"}, {}, "x.o", "", "", "", Language::c},
      {k_gcc, {"gcc", "-c", "src/x.c", "-o", "out/x.o"}, {}, "out/x.o", "", "", "", Language::c},
      {k_gcc, {"gcc", "-c", "sub/z.c"}, {}, "z.o", "", "", "", Language::c},
      {k_gcc, {"gcc", "-c", "-ofoo.o", "x.c"}, {}, "foo.o", "", "", "", Language::c},
      {k_gcc, {"gcc", "x.c", "-c", "-O2", "-Wall", "-std=c11"}, {}, "x.o", "", "", "", Language::c},
      {k_gxx, {"g++", "-c", "x.c"}, {}, "x.o", "", "", "", Language::cxx},
      {k_clangxx, {"clang++", "-c", "x.c"}, {}, "x.o", "", "", "", Language::cxx},
      {k_gcc, {"gcc", "-c", "x.cpp"}, {}, "x.o", "", "", "", Language::cxx},
      {k_gcc, {"gcc", "-c", "a.b.cc", "-o", "o/a.b.o"}, {}, "o/a.b.o", "", "", "", Language::cxx},
      {k_gcc, {"gcc", "-c", "x.S"}, {}, "x.o", "", "", "", Language::assembler_with_cpp},
      {k_gcc, {"gcc", "-c", "x.s"}, {}, "x.o", "", "", "", Language::assembler},
      {k_gcc, {"gcc", "-c", "x.ii"}, {}, "x.o", "", "", "", Language::cxx_cpp_output},
      {k_gcc, {"gcc", "-c", "-x", "c++", "foo.inc"}, {}, "foo.o", "", "", "", Language::cxx},
      {k_gcc, {"gcc", "-c", "-xc++", "foo.inc"}, {}, "foo.o", "", "", "", Language::cxx},
      {k_gcc, {"gcc", "-c", "-x", "c++", "-x", "none", "x.c"}, {}, "x.o", "", "", "", Language::c},
      // Dependency files.
      {k_gcc,
       {"gcc", "-c", "-MD", "x.c", "-o", "out/y.o"},
       {},
       "out/y.o",
       "out/y.d",
       "",
       "",
       Language::c},
      {k_gcc, {"gcc", "-c", "-MD", "sub/z.c"}, {}, "z.o", "z.d", "", "", Language::c},
      {k_gcc,
       {"gcc", "-c", "-MD", "x.c", "-o", "out/noext"},
       {},
       "out/noext",
       "out/noext.d",
       "",
       "",
       Language::c},
      {k_gcc,
       {"gcc", "-c", "-MMD", "-MF", "deps/x.d", "-MT", "foo", "x.c"},
       {},
       "x.o",
       "deps/x.d",
       "",
       "",
       Language::c},
      {k_gcc,
       {"gcc", "-c", "-MMD", "-MFdeps/x.d", "x.c"},
       {},
       "x.o",
       "deps/x.d",
       "",
       "",
       Language::c},
      {k_gcc, {"gcc", "-c", "-MF", "x.d", "x.c"}, {}, "x.o", "", "", "", Language::c},
      {k_gcc,
       {"gcc", "-c", "-Wp,-MD,out/x.d", "x.c", "-o", "out/x.o"},
       {},
       "out/x.o",
       "out/x.d",
       "",
       "",
       Language::c},
      {k_gcc, {"gcc", "-c", "-Wp,-MMD,dep", "x.c"}, {}, "x.o", "dep", "", "", Language::c},
      {k_clang,
       {"clang", "-c", "-MD", "x.c", "-o", "out/w.obj"},
       {},
       "out/w.obj",
       "out/w.d",
       "",
       "",
       Language::c},
      // Split DWARF: gcc always writes the .dwo, clang only with debug info.
      {k_gcc,
       {"gcc", "-c", "-g", "-gsplit-dwarf", "x.c", "-o", "out/y.o"},
       {},
       "out/y.o",
       "",
       "out/y.dwo",
       "",
       Language::c},
      {k_gcc,
       {"gcc", "-c", "-gsplit-dwarf", "x.c", "-o", "out/w.obj"},
       {},
       "out/w.obj",
       "",
       "out/w.dwo",
       "",
       Language::c},
      {k_gcc,
       {"gcc", "-c", "-g", "-gsplit-dwarf", "sub/z.c"},
       {},
       "z.o",
       "",
       "z.dwo",
       "",
       Language::c},
      {k_clang,
       {"clang", "-c", "-gsplit-dwarf", "x.c", "-o", "out/w.obj"},
       {},
       "out/w.obj",
       "",
       "",
       "",
       Language::c},
      {k_clang,
       {"clang", "-c", "-g", "-gsplit-dwarf", "x.c", "-o", "out/a.b.o"},
       {},
       "out/a.b.o",
       "",
       "out/a.b.dwo",
       "",
       Language::c},
      {k_clang,
       {"clang", "-c", "-gsplit-dwarf", "-g3", "x.c"},
       {},
       "x.o",
       "",
       "x.dwo",
       "",
       Language::c},
      {k_clang,
       {"clang", "-c", "-g", "-gsplit-dwarf=single", "x.c"},
       {},
       "x.o",
       "",
       "",
       "",
       Language::c},
      {k_clang,
       {"clang", "-c", "-g", "-g0", "-gsplit-dwarf", "x.c"},
       {},
       "x.o",
       "",
       "",
       "",
       Language::c},
      // Coverage notes.
      {k_gcc,
       {"gcc", "-c", "--coverage", "x.c", "-o", "out/noext"},
       {},
       "out/noext",
       "",
       "",
       "out/noext.gcno",
       Language::c},
      {k_gcc,
       {"gcc", "-c", "--coverage", "x.c", "-o", "out/a.b.o"},
       {},
       "out/a.b.o",
       "",
       "",
       "out/a.b.gcno",
       Language::c},
      {k_clang,
       {"clang", "-c", "-ftest-coverage", "sub/z.c"},
       {},
       "z.o",
       "",
       "",
       "z.gcno",
       Language::c},
      {k_gcc, {"gcc", "-c", "-fprofile-arcs", "x.c"}, {}, "x.o", "", "", "", Language::c},
      // Everything at once.
      {k_gxx,
       {"g++",
        "-c",
        "-MMD",
        "-MP",
        "-g",
        "-gsplit-dwarf",
        "--coverage",
        "src/a.cc",
        "-o",
        "obj/a.o"},
       {},
       "obj/a.o",
       "obj/a.d",
       "obj/a.dwo",
       "obj/a.gcno",
       Language::cxx},
      // Commands that must run locally.
      {k_gcc, {"gcc", "x.c", "-o", "prog"}, Reason::no_compile, "prog", "", "", "", Language::c},
      {k_gcc, {"gcc", "-E", "x.c"}, Reason::preprocess_only, "x.o", "", "", "", Language::c},
      {k_gcc, {"gcc", "-E", "-c", "x.c"}, Reason::preprocess_only, "x.o", "", "", "", Language::c},
      {k_gcc, {"gcc", "-S", "x.c"}, Reason::assembly_only, "x.o", "", "", "", Language::c},
      {k_gcc, {"gcc", "-c", "-x", "c", "-"}, Reason::stdin_input, "", "", "", "", std::nullopt},
      {k_gcc, {"gcc", "-c", "a.c", "b.c"}, Reason::multiple_sources, "", "", "", "", std::nullopt},
      {k_gcc, {"gcc", "-c"}, Reason::no_source, "", "", "", "", std::nullopt},
      {k_gcc,
       {"gcc", "-c", "foo.inc"},
       Reason::unknown_language,
       "foo.o",
       "",
       "",
       "",
       std::nullopt},
      {k_gcc,
       {"gcc", "-c", "-x", "fortran", "x.f"},
       Reason::unknown_language,
       "x.o",
       "",
       "",
       "",
       std::nullopt},
      {k_gcc,
       {"gcc", "-c", "x.h"},
       Reason::unsupported_language,
       "x.o",
       "",
       "",
       "",
       Language::c_header},
      {k_gcc,
       {"gcc", "-c", "-x", "c++-header", "x.hh"},
       Reason::unsupported_language,
       "x.o",
       "",
       "",
       "",
       Language::cxx_header},
      {k_gcc,
       {"gcc", "-c", "x.c", "-o", "-"},
       Reason::output_to_stdout,
       "-",
       "",
       "",
       "",
       Language::c},
      {k_gcc, {"gcc", "-c", "x.c", "-o"}, Reason::missing_argument, "x.o", "", "", "", Language::c},
      {k_gcc,
       {"gcc", "-c", "-M", "x.c"},
       Reason::dependencies_only,
       "x.o",
       "",
       "",
       "",
       Language::c},
      {k_gcc,
       {"gcc", "-c", "-MM", "-MF", "x.d", "x.c"},
       Reason::dependencies_only,
       "x.o",
       "",
       "",
       "",
       Language::c},
      {k_gcc,
       {"gcc", "-c", "-march=native", "x.c"},
       Reason::native_cpu,
       "x.o",
       "",
       "",
       "",
       Language::c},
      {k_gcc,
       {"gcc", "-c", "-mtune=native", "x.c"},
       Reason::native_cpu,
       "x.o",
       "",
       "",
       "",
       Language::c},
      {k_clang,
       {"clang", "-c", "-mcpu=native", "x.c"},
       Reason::native_cpu,
       "x.o",
       "",
       "",
       "",
       Language::c},
      {k_gcc,
       {"gcc", "-c", "-fprofile-use", "x.c"},
       Reason::profile_use,
       "x.o",
       "",
       "",
       "",
       Language::c},
      {k_gcc,
       {"gcc", "-c", "-fprofile-use=prof", "x.c"},
       Reason::profile_use,
       "x.o",
       "",
       "",
       "",
       Language::c},
      {k_gcc,
       {"gcc", "-c", "-fauto-profile=x.afdo", "x.c"},
       Reason::profile_use,
       "x.o",
       "",
       "",
       "",
       Language::c},
      {k_gcc,
       {"gcc", "-c", "-save-temps", "x.c"},
       Reason::save_temps,
       "x.o",
       "",
       "",
       "",
       Language::c},
      {k_gcc,
       {"gcc", "-c", "-save-temps=obj", "x.c"},
       Reason::save_temps,
       "x.o",
       "",
       "",
       "",
       Language::c},
      {k_clangxx,
       {"clang++", "-c", "-fmodules", "x.cpp"},
       Reason::modules,
       "x.o",
       "",
       "",
       "",
       Language::cxx},
      {k_gxx,
       {"g++", "-c", "-fmodules-ts", "x.cpp"},
       Reason::modules,
       "x.o",
       "",
       "",
       "",
       Language::cxx},
      {k_clang,
       {"clang", "-c", "-Xclang", "-load", "-Xclang", "plugin.so", "x.c"},
       Reason::unknown_xclang,
       "x.o",
       "",
       "",
       "",
       Language::c},
      {k_clang,
       {"clang", "-c", "-Xclang", "-emit-pch", "x.c"},
       Reason::unknown_xclang,
       "x.o",
       "",
       "",
       "",
       Language::c},
      {k_clang,
       {"clang", "-c", "-arch", "x86_64", "-arch", "arm64", "x.c"},
       Reason::multiple_arch,
       "x.o",
       "",
       "",
       "",
       Language::c},
      {k_gcc,
       {"gcc", "-c", "-wrapper", "gdb,--args", "x.c"},
       Reason::too_hard_option,
       "x.o",
       "",
       "",
       "",
       Language::c},
      {k_gcc,
       {"gcc", "-c", "-fplugin=./p.so", "x.c"},
       Reason::too_hard_option,
       "x.o",
       "",
       "",
       "",
       Language::c},
      {k_gcc,
       {"gcc", "-c", "-B", "/opt/bin", "x.c"},
       Reason::too_hard_option,
       "x.o",
       "",
       "",
       "",
       Language::c},
      {k_gcc,
       {"gcc", "-c", "-B/opt/bin", "x.c"},
       Reason::too_hard_option,
       "x.o",
       "",
       "",
       "",
       Language::c},
      {k_gcc,
       {"gcc", "-c", "-specs=my.specs", "x.c"},
       Reason::too_hard_option,
       "x.o",
       "",
       "",
       "",
       Language::c},
      {k_gcc,
       {"gcc", "-c", "-Wa,-adhln=x.lst", "x.c"},
       Reason::too_hard_option,
       "x.o",
       "",
       "",
       "",
       Language::c},
      {k_gcc,
       {"gcc", "-c", "-Wp,-traditional", "x.c"},
       Reason::too_hard_option,
       "x.o",
       "",
       "",
       "",
       Language::c},
      {k_gcc,
       {"gcc", "-c", "-fdump-tree-all", "x.c"},
       Reason::too_hard_option,
       "x.o",
       "",
       "",
       "",
       Language::c},
      {k_clang,
       {"clang", "-c", "-MJ", "cdb.json", "x.c"},
       Reason::too_hard_option,
       "x.o",
       "",
       "",
       "",
       Language::c},
      {k_gcc,
       {"gcc", "-c", "-fsyntax-only", "x.c"},
       Reason::too_hard_option,
       "x.o",
       "",
       "",
       "",
       Language::c},
      {k_gcc, {"gcc", "-c", "-v", "x.c"}, Reason::too_hard_option, "x.o", "", "", "", Language::c},
      {k_gcc,
       {"gcc", "-c", "-dumpbase", "foo", "x.c"},
       Reason::too_hard_option,
       "x.o",
       "",
       "",
       "",
       Language::c},
      {{CompilerFamily::unknown, false},
       {"icc", "-c", "x.c"},
       Reason::unknown_compiler,
       "x.o",
       "",
       "",
       "",
       Language::c},
      // gcc does not know -target: it is an unknown flag and its value becomes an input.
      {k_gcc,
       {"gcc", "-c", "-target", "aarch64-linux-gnu", "x.c"},
       Reason::multiple_sources,
       "",
       "",
       "",
       "",
       std::nullopt},
      // Options with separate arguments must not leave those arguments as inputs.
      {k_gcc,
       {"gcc",      "-c",         "-Xlinker",
        "--foo",    "-L",         "lib",
        "-lm",      "--param",    "max-inline-insns=9",
        "-include", "cfg.h",      "-isystem",
        "sys",      "-idirafter", "after",
        "-D",       "A",          "-U",
        "B",        "-MT",        "t",
        "-MQ",      "q",          "-aux-info",
        "p.txt",    "x.c"},
       {},
       "x.o",
       "",
       "",
       "",
       Language::c},
      {k_clang,
       {"clang",
        "-c",
        "-target",
        "aarch64-linux-gnu",
        "-Xclang",
        "-fno-pch-timestamp",
        "-include-pch",
        "pre.pch",
        "-Xclang",
        "-mllvm",
        "-Xclang",
        "-inline-threshold=9",
        "x.c"},
       {},
       "x.o",
       "",
       "",
       "",
       Language::c},
  };
  return k_cases;
}

TEST(CommandParser, Table) {
  for (const auto& c : cases()) {
    SCOPED_TRACE(::testing::PrintToString(c));
    const auto p = parse_command(c.argv, c.compiler);
    if (c.reason) {
      ASSERT_FALSE(p.supported());
      EXPECT_EQ(unsupported_reason_name(p.unsupported->reason), unsupported_reason_name(*c.reason))
          << p.unsupported->detail;
      EXPECT_FALSE(p.unsupported->detail.empty());
    } else {
      ASSERT_TRUE(p.supported()) << unsupported_reason_name(p.unsupported->reason) << ": "
                                 << p.unsupported->detail;
      EXPECT_TRUE(p.is_compile);
    }
    EXPECT_EQ(p.output_object, c.object);
    EXPECT_EQ(p.dependency_file.value_or(""), c.dep);
    EXPECT_EQ(p.split_dwarf_output.value_or(""), c.dwo);
    EXPECT_EQ(p.coverage_notes_output.value_or(""), c.gcno);
    EXPECT_EQ(p.language, c.language);
  }
}

TEST(CommandParser, ReasonNamesAreDistinct) {
  std::map<std::string_view, int> seen;
  for (int r = 0; r <= static_cast<int>(Reason::too_hard_option); ++r) {
    ++seen[unsupported_reason_name(static_cast<Reason>(r))];
  }
  EXPECT_EQ(seen.size(), static_cast<size_t>(Reason::too_hard_option) + 1);
  EXPECT_EQ(seen.count("unknown"), 0U);
}

TEST(CommandParser, PreprocessorArgsAreNormalisedAndOrdered) {
  const auto p = parse_command({"gcc",
                                "-c",
                                "-Iinc",
                                "-I",
                                "inc2",
                                "-iquote",
                                "q",
                                "-isystemsys",
                                "-DFOO=1",
                                "-D",
                                "BAR",
                                "-UBAZ",
                                "-include",
                                "cfg.h",
                                "-imacros",
                                "m.h",
                                "--sysroot=/sr",
                                "-nostdinc",
                                "-Wp,-DWP,-Iwp",
                                "-O2",
                                "x.c"},
                               k_gcc);
  ASSERT_TRUE(p.supported());
  const std::vector<PreprocessorArg> expected = {
      {"-I", "inc"},
      {"-I", "inc2"},
      {"-iquote", "q"},
      {"-isystem", "sys"},
      {"-D", "FOO=1"},
      {"-D", "BAR"},
      {"-U", "BAZ"},
      {"-include", "cfg.h"},
      {"-imacros", "m.h"},
      {"--sysroot=", "/sr"},
      {"-nostdinc", ""},
      {"-D", "WP"},
      {"-I", "wp"},
  };
  EXPECT_EQ(p.preprocessor_args, expected);
  EXPECT_EQ(p.sysroot, "/sr");
  EXPECT_EQ(p.option_inputs,
            (std::vector<OptionInput>{{"-include", "cfg.h"}, {"-imacros", "m.h"}}));
  EXPECT_FALSE(p.scan_needs_compiler);
}

TEST(CommandParser, CompilerArgsExcludeInputsOutputsAndPreprocessorArgs) {
  const auto p = parse_command(
      {"gcc", "-O2", "-c", "-Iinc", "-MD", "-MF", "x.d", "x.c", "-o", "x.o", "-Wall", "-g"}, k_gcc);
  ASSERT_TRUE(p.supported());
  EXPECT_EQ(p.compiler_args, (Strings{"-O2", "-Wall", "-g"}));
  EXPECT_EQ(
      p.args,
      (Strings{
          "gcc", "-O2", "-c", "-Iinc", "-MD", "-MF", "x.d", "x.c", "-o", "x.o", "-Wall", "-g"}));
  EXPECT_EQ(p.compiler, "gcc");
  EXPECT_EQ(p.source_file, "x.c");
  EXPECT_TRUE(p.output_object_explicit);
  EXPECT_TRUE(p.generates_debug_info);
}

TEST(CommandParser, DependencyDetails) {
  const auto p = parse_command(
      {"gcc", "-c", "-MMD", "-MP", "-MG", "-MT", "a.o", "-MQ", "$b.o", "-MTc.o", "x.c"}, k_gcc);
  ASSERT_TRUE(p.supported());
  EXPECT_TRUE(p.dependency_user_headers_only);
  EXPECT_TRUE(p.dependency_phony_targets);
  EXPECT_TRUE(p.dependency_missing_ok);
  EXPECT_EQ(p.dependency_targets,
            (std::vector<PreprocessorArg>{{"-MT", "a.o"}, {"-MQ", "$b.o"}, {"-MT", "c.o"}}));
}

TEST(CommandParser, OptionInputs) {
  const auto p = parse_command({"clang",
                                "-c",
                                "-fsanitize=address",
                                "-fsanitize-ignorelist=ign.txt",
                                "-fsanitize-blacklist=old.txt",
                                "-fprofile-sample-use=s.prof",
                                "-fprofile-instr-use=p.profdata",
                                "-include-pch",
                                "pre.pch",
                                "-Xclang",
                                "-include",
                                "-Xclang",
                                "forced.h",
                                "x.c"},
                               k_clang);
  ASSERT_TRUE(p.supported()) << p.unsupported->detail;
  EXPECT_EQ(p.option_inputs,
            (std::vector<OptionInput>{
                {"-fsanitize-ignorelist=", "ign.txt"},
                {"-fsanitize-blacklist=", "old.txt"},
                {"-fprofile-sample-use=", "s.prof"},
                {"-fprofile-instr-use=", "p.profdata"},
                {"-include-pch", "pre.pch"},
                {"-include", "forced.h"},
            }));
  const auto specs = parse_command({"gcc", "-c", "-specs=./my.specs", "x.c"}, k_gcc);
  ASSERT_TRUE(specs.supported());
  EXPECT_EQ(specs.option_inputs, (std::vector<OptionInput>{{"-specs=", "./my.specs"}}));
}

TEST(CommandParser, OtherOutputs) {
  auto p = parse_command(
      {"gcc", "-c", "-fstack-usage", "-aux-info", "p.txt", "x.c", "-o", "o/su.o"}, k_gcc);
  ASSERT_TRUE(p.supported());
  EXPECT_EQ(p.other_outputs, (Strings{"p.txt", "o/su.su"}));
  p = parse_command({"clang", "-c", "-ftime-trace", "x.c", "-o", "o/t.o"}, k_clang);
  ASSERT_TRUE(p.supported());
  EXPECT_EQ(p.other_outputs, (Strings{"o/t.json"}));
}

TEST(CommandParser, PrefixMapsAndDebugInfo) {
  const auto p = parse_command({"gcc",
                                "-c",
                                "-g",
                                "-fdebug-prefix-map=/src=.",
                                "-ffile-prefix-map=/a/b=",
                                "-fmacro-prefix-map=/m=x=y",
                                "-fdebug-prefix-map=broken",
                                "x.c"},
                               k_gcc);
  ASSERT_TRUE(p.supported());
  EXPECT_TRUE(p.generates_debug_info);
  EXPECT_EQ(p.prefix_maps,
            (std::vector<PrefixMap>{{PrefixMapKind::debug, "/src", "."},
                                    {PrefixMapKind::file, "/a/b", ""},
                                    {PrefixMapKind::macro, "/m", "x=y"}}));
  EXPECT_FALSE(parse_command({"gcc", "-c", "-g", "-g0", "x.c"}, k_gcc).generates_debug_info);
  EXPECT_FALSE(parse_command({"gcc", "-c", "-gsplit-dwarf", "x.c"}, k_gcc).generates_debug_info);
  EXPECT_TRUE(parse_command({"gcc", "-c", "-ggdb3", "x.c"}, k_gcc).generates_debug_info);
  EXPECT_TRUE(parse_command({"gcc", "-c", "-gdwarf-4", "x.c"}, k_gcc).generates_debug_info);
  EXPECT_TRUE(
      parse_command({"clang", "-c", "-gline-tables-only", "x.c"}, k_clang).generates_debug_info);
  EXPECT_FALSE(parse_command({"gcc", "-c", "x.c"}, k_gcc).generates_debug_info);
  const auto dir = parse_command({"clang", "-c", "-fdebug-compilation-dir=.", "x.c"}, k_clang);
  EXPECT_EQ(dir.debug_compilation_dir, ".");
}

TEST(CommandParser, CoverageFlags) {
  auto p = parse_command({"gcc", "-c", "--coverage", "x.c"}, k_gcc);
  EXPECT_TRUE(p.profile_arcs);
  EXPECT_TRUE(p.test_coverage);
  p = parse_command({"gcc", "-c", "-ftest-coverage", "x.c"}, k_gcc);
  EXPECT_FALSE(p.profile_arcs);
  EXPECT_TRUE(p.test_coverage);
  p = parse_command({"gcc", "-c", "-fprofile-generate", "x.c"}, k_gcc);
  EXPECT_TRUE(p.profile_arcs);
  EXPECT_FALSE(p.coverage_notes_output);
  p = parse_command({"clang", "-c", "-fprofile-generate", "x.c"}, k_clang);
  EXPECT_FALSE(p.profile_arcs);
}

TEST(CommandParser, ColorDiagnostics) {
  EXPECT_EQ(parse_command({"gcc", "-c", "x.c"}, k_gcc).color_diagnostics, std::nullopt);
  EXPECT_EQ(
      parse_command({"gcc", "-c", "-fdiagnostics-color=always", "x.c"}, k_gcc).color_diagnostics,
      true);
  EXPECT_EQ(
      parse_command({"gcc", "-c", "-fdiagnostics-color", "-fno-diagnostics-color", "x.c"}, k_gcc)
          .color_diagnostics,
      false);
  EXPECT_EQ(parse_command({"clang", "-c", "-fcolor-diagnostics", "x.c"}, k_clang).color_diagnostics,
            true);
  EXPECT_EQ(parse_command({"clang", "-c", "-Xclang", "-fno-color-diagnostics", "x.c"}, k_clang)
                .color_diagnostics,
            false);
}

TEST(CommandParser, TargetAndScanHints) {
  auto p = parse_command({"clang", "-c", "--target=armv7-linux-gnueabihf", "x.c"}, k_clang);
  ASSERT_TRUE(p.supported());
  EXPECT_EQ(p.target, "armv7-linux-gnueabihf");
  p = parse_command({"gcc", "-c", "-iprefix", "/p/", "-iwithprefix", "inc", "x.c"}, k_gcc);
  ASSERT_TRUE(p.supported());
  EXPECT_TRUE(p.scan_needs_compiler);
  p = parse_command({"gcc", "-c", "-Xpreprocessor", "-dD", "x.c"}, k_gcc);
  ASSERT_TRUE(p.supported());
  EXPECT_TRUE(p.scan_needs_compiler);
}

TEST(CommandParser, ResponseFiles) {
  std::map<std::string, std::string> files = {
      {"/w/args.rsp", "-c 'my file.c' -o \"out dir/x.o\" -MD"},
  };
  ParseOptions options;
  options.cwd = "/w";
  options.read_file = [&files](const std::string& path) -> util::Result<std::string> {
    const auto it = files.find(path);
    if (it == files.end()) {
      return util::not_found(path);
    }
    return it->second;
  };
  auto p = parse_command({"gcc", "@args.rsp"}, k_gcc, options);
  ASSERT_TRUE(p.supported());
  EXPECT_EQ(p.source_file, "my file.c");
  EXPECT_EQ(p.output_object, "out dir/x.o");
  EXPECT_EQ(p.dependency_file, "out dir/x.d");
  EXPECT_EQ(p.response_files, (Strings{"/w/args.rsp"}));
  EXPECT_EQ(p.args, (Strings{"gcc", "-c", "my file.c", "-o", "out dir/x.o", "-MD"}));

  p = parse_command({"gcc", "-c", "x.c", "@missing.rsp"}, k_gcc, options);
  ASSERT_FALSE(p.supported());
  EXPECT_EQ(p.unsupported->reason, Reason::response_file);
}

TEST(CommandParser, ReplaceExtension) {
  EXPECT_EQ(replace_extension("out/a.b.o", ".d"), "out/a.b.d");
  EXPECT_EQ(replace_extension("out/noext", ".d"), "out/noext.d");
  EXPECT_EQ(replace_extension("x.o", ".dwo"), "x.dwo");
  EXPECT_EQ(replace_extension("dir.d/obj", ".gcno"), "dir.d/obj.gcno");
  EXPECT_EQ(replace_extension(".hidden", ".d"), ".hidden.d");
}

TEST(CommandParser, EmptyArgv) {
  const auto p = parse_command({}, k_gcc);
  EXPECT_FALSE(p.supported());
}

} // namespace
} // namespace ccrex::toolchain
