#include "toolchain/command_parser.h"
#include "util/strings.h"

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
constexpr CompilerInfo k_clang{CompilerFamily::clang, false};

// One command line per row and what the parser must make of it, '|'-separated:
//   compiler | arguments | reason ("ok" or an unsupported_reason_name) | object | .d | .dwo | .gcno
//   | language
// The compiler kind comes from argv[0]'s name. Empty fields mean "no such output"; output
// names were checked against gcc 12 and clang 14 on Debian 12 (command_parser_real_test.cpp
// runs the compilers for the naming rules).
constexpr std::string_view k_cases[] = {
    "gcc | -c x.c | ok | x.o |  |  |  | c",
    "gcc | -c src/x.c -o out/x.o | ok | out/x.o |  |  |  | c",
    "gcc | -c sub/z.c | ok | z.o |  |  |  | c",
    "gcc | -c -ofoo.o x.c | ok | foo.o |  |  |  | c",
    "gcc | x.c -c -O2 -Wall -std=c11 | ok | x.o |  |  |  | c",
    "g++ | -c x.c | ok | x.o |  |  |  | c++",
    "clang++ | -c x.c | ok | x.o |  |  |  | c++",
    "gcc | -c x.cpp | ok | x.o |  |  |  | c++",
    "gcc | -c a.b.cc -o o/a.b.o | ok | o/a.b.o |  |  |  | c++",
    "gcc | -c x.S | ok | x.o |  |  |  | assembler-with-cpp",
    "gcc | -c x.s | ok | x.o |  |  |  | assembler",
    "gcc | -c x.ii | ok | x.o |  |  |  | c++-cpp-output",
    "gcc | -c -x c++ foo.inc | ok | foo.o |  |  |  | c++",
    "gcc | -c -xc++ foo.inc | ok | foo.o |  |  |  | c++",
    "gcc | -c -x c++ -x none x.c | ok | x.o |  |  |  | c",
    "gcc | -c -MD x.c -o out/y.o | ok | out/y.o | out/y.d |  |  | c",
    "gcc | -c -MD sub/z.c | ok | z.o | z.d |  |  | c",
    "gcc | -c -MD x.c -o out/noext | ok | out/noext | out/noext.d |  |  | c",
    "gcc | -c -MMD -MF deps/x.d -MT foo x.c | ok | x.o | deps/x.d |  |  | c",
    "gcc | -c -MMD -MFdeps/x.d x.c | ok | x.o | deps/x.d |  |  | c",
    "gcc | -c -MF x.d x.c | ok | x.o |  |  |  | c",
    "gcc | -c -Wp,-MD,out/x.d x.c -o out/x.o | ok | out/x.o | out/x.d |  |  | c",
    "gcc | -c -Wp,-MMD,dep x.c | ok | x.o | dep |  |  | c",
    "clang | -c -MD x.c -o out/w.obj | ok | out/w.obj | out/w.d |  |  | c",
    "gcc | -c -g -gsplit-dwarf x.c -o out/y.o | ok | out/y.o |  | out/y.dwo |  | c",
    "gcc | -c -gsplit-dwarf x.c -o out/w.obj | ok | out/w.obj |  | out/w.dwo |  | c",
    "gcc | -c -g -gsplit-dwarf sub/z.c | ok | z.o |  | z.dwo |  | c",
    "clang | -c -gsplit-dwarf x.c -o out/w.obj | ok | out/w.obj |  |  |  | c",
    "clang | -c -g -gsplit-dwarf x.c -o out/a.b.o | ok | out/a.b.o |  | out/a.b.dwo |  | c",
    "clang | -c -gsplit-dwarf -g3 x.c | ok | x.o |  | x.dwo |  | c",
    "clang | -c -g -gsplit-dwarf=single x.c | ok | x.o |  |  |  | c",
    "clang | -c -g -g0 -gsplit-dwarf x.c | ok | x.o |  |  |  | c",
    "gcc | -c --coverage x.c -o out/noext | ok | out/noext |  |  | out/noext.gcno | c",
    "gcc | -c --coverage x.c -o out/a.b.o | ok | out/a.b.o |  |  | out/a.b.gcno | c",
    "clang | -c -ftest-coverage sub/z.c | ok | z.o |  |  | z.gcno | c",
    "gcc | -c -fprofile-arcs x.c | ok | x.o |  |  |  | c",
    "g++ | -c -MMD -MP -g -gsplit-dwarf --coverage src/a.cc -o obj/a.o | ok | obj/a.o | obj/a.d | "
    "obj/a.dwo | obj/a.gcno | c++",
    "gcc | x.c -o prog | no_compile | prog |  |  |  | c",
    "gcc | -E x.c | preprocess_only | x.o |  |  |  | c",
    "gcc | -E -c x.c | preprocess_only | x.o |  |  |  | c",
    "gcc | -S x.c | assembly_only | x.o |  |  |  | c",
    "gcc | -c -x c - | stdin_input |  |  |  |  | ",
    "gcc | -c a.c b.c | multiple_sources |  |  |  |  | ",
    "gcc | -c | no_source |  |  |  |  | ",
    "gcc | -c foo.inc | unknown_language | foo.o |  |  |  | ",
    "gcc | -c -x fortran x.f | unknown_language | x.o |  |  |  | ",
    "gcc | -c x.h | unsupported_language | x.o |  |  |  | c-header",
    "gcc | -c -x c++-header x.hh | unsupported_language | x.o |  |  |  | c++-header",
    "gcc | -c x.c -o - | output_to_stdout | - |  |  |  | c",
    "gcc | -c x.c -o | missing_argument | x.o |  |  |  | c",
    "gcc | -c -M x.c | dependencies_only | x.o |  |  |  | c",
    "gcc | -c -MM -MF x.d x.c | dependencies_only | x.o |  |  |  | c",
    "gcc | -c -march=native x.c | native_cpu | x.o |  |  |  | c",
    "gcc | -c -mtune=native x.c | native_cpu | x.o |  |  |  | c",
    "clang | -c -mcpu=native x.c | native_cpu | x.o |  |  |  | c",
    "gcc | -c -fprofile-use x.c | profile_use | x.o |  |  |  | c",
    "gcc | -c -fprofile-use=prof x.c | profile_use | x.o |  |  |  | c",
    "gcc | -c -fauto-profile=x.afdo x.c | profile_use | x.o |  |  |  | c",
    "gcc | -c -save-temps x.c | save_temps | x.o |  |  |  | c",
    "gcc | -c -save-temps=obj x.c | save_temps | x.o |  |  |  | c",
    "clang++ | -c -fmodules x.cpp | modules | x.o |  |  |  | c++",
    "g++ | -c -fmodules-ts x.cpp | modules | x.o |  |  |  | c++",
    "clang | -c -Xclang -load -Xclang plugin.so x.c | unknown_xclang | x.o |  |  |  | c",
    "clang | -c -Xclang -emit-pch x.c | unknown_xclang | x.o |  |  |  | c",
    "clang | -c -arch x86_64 -arch arm64 x.c | multiple_arch | x.o |  |  |  | c",
    "gcc | -c -wrapper gdb,--args x.c | too_hard_option | x.o |  |  |  | c",
    "gcc | -c -fplugin=./p.so x.c | too_hard_option | x.o |  |  |  | c",
    "gcc | -c -B /opt/bin x.c | too_hard_option | x.o |  |  |  | c",
    "gcc | -c -B/opt/bin x.c | too_hard_option | x.o |  |  |  | c",
    "gcc | -c -specs=my.specs x.c | too_hard_option | x.o |  |  |  | c",
    "gcc | -c -Wa,-adhln=x.lst x.c | too_hard_option | x.o |  |  |  | c",
    "gcc | -c -Wp,-traditional x.c | too_hard_option | x.o |  |  |  | c",
    "gcc | -c -fdump-tree-all x.c | too_hard_option | x.o |  |  |  | c",
    "clang | -c -MJ cdb.json x.c | too_hard_option | x.o |  |  |  | c",
    "gcc | -c -fsyntax-only x.c | too_hard_option | x.o |  |  |  | c",
    "gcc | -c -v x.c | too_hard_option | x.o |  |  |  | c",
    "gcc | -c -dumpbase foo x.c | too_hard_option | x.o |  |  |  | c",
    "icc | -c x.c | unknown_compiler | x.o |  |  |  | c",
    "gcc | -c -target aarch64-linux-gnu x.c | multiple_sources |  |  |  |  | ",
    "gcc | -c -Xlinker --foo -L lib -lm --param max-inline-insns=9 -include cfg.h -isystem sys "
    "-idirafter after -D A -U B -MT t -MQ q -aux-info p.txt x.c | ok | x.o |  |  |  | c",
    "clang | -c -target aarch64-linux-gnu -Xclang -fno-pch-timestamp -include-pch pre.pch -Xclang "
    "-mllvm -Xclang -inline-threshold=9 x.c | ok | x.o |  |  |  | c",
};

struct Case {
  Strings argv;
  std::string reason;
  std::string object;
  std::string dep;
  std::string dwo;
  std::string gcno;
  std::string language;
};

Case parse_row(std::string_view row) {
  std::vector<std::string> fields;
  for (const auto field : util::split(row, '|')) {
    fields.emplace_back(util::trim(field));
  }
  EXPECT_EQ(fields.size(), 8U) << row;
  fields.resize(8);
  Case c;
  c.argv.push_back(fields[0]);
  for (const auto arg : util::split(fields[1], ' ', true)) {
    c.argv.emplace_back(arg);
  }
  c.reason = fields[2];
  c.object = fields[3];
  c.dep = fields[4];
  c.dwo = fields[5];
  c.gcno = fields[6];
  c.language = fields[7];
  return c;
}

TEST(CommandParser, Table) {
  for (const auto row : k_cases) {
    SCOPED_TRACE(std::string(row));
    const auto c = parse_row(row);
    const auto p = parse_command(c.argv, classify_compiler_name(c.argv[0]).info);
    if (c.reason != "ok") {
      ASSERT_FALSE(p.supported());
      EXPECT_EQ(unsupported_reason_name(p.unsupported->reason), c.reason) << p.unsupported->detail;
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
    EXPECT_EQ(p.language ? language_name(*p.language) : "", c.language);
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

// gcc and clang write no dependency file for sources they do not preprocess.
TEST(CommandParser, NoDependencyFileWithoutPreprocessing) {
  EXPECT_FALSE(parse_command({"gcc", "-MD", "-c", "x.s", "-o", "x.o"}, k_gcc).dependency_file);
  EXPECT_FALSE(parse_command({"clang", "-MD", "-c", "x.i"}, k_clang).dependency_file);
  EXPECT_EQ(parse_command({"gcc", "-MD", "-c", "x.S", "-o", "x.o"}, k_gcc).dependency_file,
            std::optional<std::string>("x.d"));
  EXPECT_EQ(parse_command({"gcc", "-MD", "-c", "x.c"}, k_gcc).dependency_file,
            std::optional<std::string>("x.d"));
}

// The assembler's debug information records the directory like the compiler's.
TEST(CommandParser, AssemblerDebugInfoIsDebugInfo) {
  EXPECT_TRUE(parse_command({"gcc", "-c", "-Wa,-g", "x.s"}, k_gcc).generates_debug_info);
  EXPECT_TRUE(parse_command({"gcc", "-c", "-Wa,--noexecstack,--gdwarf-5", "x.s"}, k_gcc)
                  .generates_debug_info);
  EXPECT_TRUE(parse_command({"gcc", "-c", "-Xassembler", "--gen-debug", "x.s"}, k_gcc)
                  .generates_debug_info);
  EXPECT_TRUE(parse_command({"gcc", "-c", "-Wa,-g", "-g0", "x.s"}, k_gcc).generates_debug_info);
  EXPECT_FALSE(
      parse_command({"gcc", "-c", "-Wa,--noexecstack", "x.s"}, k_gcc).generates_debug_info);
}

// gcc's LTO bytecode records the compile directory; clang's does not.
TEST(CommandParser, GccLtoIsSeen) {
  EXPECT_TRUE(parse_command({"gcc", "-c", "-flto", "x.c"}, k_gcc).gcc_lto);
  EXPECT_TRUE(parse_command({"gcc", "-c", "-flto=auto", "x.c"}, k_gcc).gcc_lto);
  EXPECT_TRUE(parse_command({"gcc", "-c", "-fno-lto", "-flto=4", "x.c"}, k_gcc).gcc_lto);
  EXPECT_FALSE(parse_command({"gcc", "-c", "-flto", "-fno-lto", "x.c"}, k_gcc).gcc_lto);
  EXPECT_FALSE(parse_command({"gcc", "-c", "-flto-partition=one", "x.c"}, k_gcc).gcc_lto);
  EXPECT_FALSE(parse_command({"gcc", "-c", "x.c"}, k_gcc).gcc_lto);
  EXPECT_FALSE(parse_command({"clang", "-c", "-flto", "x.c"}, k_clang).gcc_lto);
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
  EXPECT_FALSE(p.coverage_mapping);
  p = parse_command({"clang", "-c", "-fprofile-instr-generate", "-fcoverage-mapping", "x.c"},
                    k_clang);
  EXPECT_TRUE(p.supported());
  EXPECT_TRUE(p.coverage_mapping);
  EXPECT_FALSE(p.test_coverage);
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
