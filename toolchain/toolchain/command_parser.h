#pragma once

// Turn a compiler command line into what the agent needs to run it elsewhere: the single
// source and its language, every file the compiler will write, the files named by options
// that it will read, the preprocessor arguments for the dependency scanner, and — when the
// command must run locally — why.
//
//   auto parsed = parse_command({"gcc", "-c", "-MD", "x.c", "-o", "out/x.o"},
//                               {CompilerFamily::gcc, false}, {.cwd = "/src"});
//   parsed.dependency_file == "out/x.d"
//
// Output names follow what gcc 12 and clang 14 actually write (checked by running them):
// with `-o dir/name.ext` the .d, .dwo, .gcno and .su files are dir/name.<new ext>; without
// `-o` they and the object go to the current directory, named after the source's basename.
//
// Thread safety: parse_command() is a pure function apart from the injected file reader.

#include "toolchain/compiler_family.h"
#include "toolchain/language.h"
#include "toolchain/response_file.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ccrex::toolchain {

// Why a command must run locally. The agent counts these in its statistics.
enum class UnsupportedReason {
  unknown_compiler,     // neither gcc nor clang
  no_compile,           // no -c: a link (or a bare compile to a.out)
  preprocess_only,      // -E (output to stdout)
  assembly_only,        // -S
  dependencies_only,    // -M/-MM without a compile (they imply -E)
  stdin_input,          // "-" as input
  no_source,            // -c without a source file
  multiple_sources,     // several inputs (or an option argument mistaken for one)
  unknown_language,     // no known extension and no -x
  unsupported_language, // headers (precompiled header output) or CUDA
  output_to_stdout,     // -o -
  missing_argument,     // an option that takes an argument ends the command
  response_file,        // @file unreadable or nested too deeply
  native_cpu,           // -march=native, -mtune=native, -mcpu=native
  profile_use,          // -fprofile-use, -fauto-profile: a profile outside the inputs
  save_temps,           // -save-temps
  modules,              // -fmodules, -fmodules-ts, module files and maps
  unknown_xclang,       // -Xclang with an option we do not understand
  multiple_arch,        // more than one -arch
  too_hard_option,      // any other option that cannot run remotely
};

// Return a short snake_case name for `reason` ("native_cpu").
std::string_view unsupported_reason_name(UnsupportedReason reason);

struct Unsupported {
  // The category.
  UnsupportedReason reason = UnsupportedReason::too_hard_option;
  // Human-readable detail, usually naming the offending argument.
  std::string detail;
};

// One non-option argument.
struct InputFile {
  // The path as written on the command line.
  std::string path;
  // Its language from -x or the extension; nullopt when it would go to the linker.
  std::optional<Language> language;
};

// A preprocessor-relevant option, normalised to name + value whatever form it was
// written in ("-Ifoo" and "-I foo" both give {"-I", "foo"}).
struct PreprocessorArg {
  // The option's table name ("-I", "-isystem", "-D", "-include", "--sysroot=", "-nostdinc").
  std::string option;
  // Its argument; empty for options without one.
  std::string value;

  bool operator==(const PreprocessorArg&) const = default;
};

// A file that an option makes the compiler read (-include, -fsanitize-ignorelist=, ...).
struct OptionInput {
  // The option's table name.
  std::string option;
  // The path as written. For -include and -imacros gcc also searches the include path when
  // the file is not found relative to the current directory: resolve those like headers.
  std::string path;

  bool operator==(const OptionInput&) const = default;
};

// Which paths a prefix map rewrites.
enum class PrefixMapKind {
  debug,    // -fdebug-prefix-map: debug info
  file,     // -ffile-prefix-map: debug info, __FILE__ and coverage
  macro,    // -fmacro-prefix-map: __FILE__ and friends
  coverage, // -fcoverage-prefix-map (clang): coverage mapping
  profile,  // -fprofile-prefix-map (gcc): profile data paths
};

struct PrefixMap {
  PrefixMapKind kind = PrefixMapKind::debug;
  // The prefix to replace (text before the first '=').
  std::string from;
  // Its replacement (text after the first '=', may be empty).
  std::string to;

  bool operator==(const PrefixMap&) const = default;
};

struct ParsedCommand {
  // The compiler as given (argv[0]).
  std::string compiler;
  // What the caller said the compiler is.
  CompilerInfo compiler_info;
  // The full command after @file expansion, compiler first: what to run.
  std::vector<std::string> args;
  // Response files that were expanded into `args` (resolved paths).
  std::vector<std::string> response_files;

  // True when -c was given (compile only, no link).
  bool is_compile = false;
  // Every non-option argument with its language.
  std::vector<InputFile> inputs;
  // The single source file (inputs[0].path) when there is exactly one; empty otherwise.
  std::string source_file;
  // The language of `source_file`; nullopt when unknown.
  std::optional<Language> language;
  // True when the language came from -x rather than the extension.
  bool language_explicit = false;

  // The object file: -o's argument, or the source's basename with ".o" in the cwd.
  std::string output_object;
  // True when -o was given.
  bool output_object_explicit = false;

  // The make-rule file written by -MD/-MMD (or -Wp,-MD,path): -MF's argument, else the
  // object path with its extension replaced by ".d". nullopt without -MD/-MMD.
  std::optional<std::string> dependency_file;
  // True for -MMD: system headers are left out of the dependency file.
  bool dependency_user_headers_only = false;
  // Rule targets from -MT (as written) and -MQ (to be quoted), each with its option:
  // {"-MT", "obj.o"}. Empty means the compiler names the object.
  std::vector<PreprocessorArg> dependency_targets;
  // -MP: a phony target is added for every dependency.
  bool dependency_phony_targets = false;
  // -MG: missing headers are treated as generated files.
  bool dependency_missing_ok = false;

  // The .dwo file written by -gsplit-dwarf next to the object. gcc writes it whenever
  // -gsplit-dwarf is given; clang only when debug info is on and not in "single" mode.
  std::optional<std::string> split_dwarf_output;
  // The .gcno notes file written by --coverage/-ftest-coverage, next to the object.
  std::optional<std::string> coverage_notes_output;
  // Other files the compiler writes (-aux-info, --serialize-diagnostics, the .su of
  // -fstack-usage, the .json of clang's -ftime-trace).
  std::vector<std::string> other_outputs;

  // Preprocessor options in command-line order (search dirs, macros, forced includes,
  // sysroot, -nostdinc, ...), for the dependency scanner.
  std::vector<PreprocessorArg> preprocessor_args;
  // Files named by options that the compiler reads and that must be in the input root.
  std::vector<OptionInput> option_inputs;
  // The remaining arguments (optimisation, warnings, -std=, machine flags, unknown
  // options) in order; excludes the inputs, -c, -o, dependency and preprocessor options.
  std::vector<std::string> compiler_args;

  // -fdebug-prefix-map/-ffile-prefix-map/-fmacro-prefix-map/... in command-line order.
  std::vector<PrefixMap> prefix_maps;
  // clang's -fdebug-compilation-dir/-ffile-compilation-dir, when given.
  std::optional<std::string> debug_compilation_dir;
  // True when debug info is generated (-g, -g1..3, -ggdb, -gdwarf-N, ...; last -g0 wins;
  // or asked of the assembler with -Wa,-g, -Wa,--gdwarf-N, ...).
  // Debug info records the compile directory (DW_AT_comp_dir) unless it is remapped.
  bool generates_debug_info = false;
  // True for --coverage/-fprofile-arcs/-fprofile-generate: the object embeds the absolute
  // path of its .gcda file, which depends on the directory the compile runs in.
  bool profile_arcs = false;
  // True for --coverage/-ftest-coverage (a .gcno file is written).
  bool test_coverage = false;
  // True for clang's -fcoverage-mapping: the object records the compile directory (unless
  // a coverage or file prefix map rewrites it).
  bool coverage_mapping = false;
  // True for gcc's -flto (-flto=N, -flto=auto, ...; a later -fno-lto turns it off): gcc's
  // LTO bytecode records the compile directory, and no prefix map rewrites it.
  bool gcc_lto = false;
  // The explicit colour setting (-f[no-]diagnostics-color, -f[no-]color-diagnostics), if any.
  std::optional<bool> color_diagnostics;
  // clang's -target/--target= value; empty when not given.
  std::string target;
  // The -arch value (Apple); empty when not given.
  std::string arch;
  // --sysroot or -isysroot value (last one wins); empty when not given.
  std::string sysroot;
  // True when an option the in-process scanner cannot model was seen (k_too_hard_direct):
  // dependencies must come from the compiler's own -M output.
  bool scan_needs_compiler = false;

  // Set when the command must run locally; the first reason found wins.
  std::optional<Unsupported> unsupported;

  bool supported() const { return !unsupported.has_value(); }
};

struct ParseOptions {
  // Directory the command runs in; relative @file names are resolved against it.
  std::string cwd = ".";
  // Reads response files; the default reads from disk with util::read_file.
  FileReader read_file;
};

// Parse `argv` (compiler first) for a compiler of kind `compiler`. Never fails: a command
// ccrex cannot handle comes back with `unsupported` set (and as many fields filled as
// were understood).
ParsedCommand parse_command(const std::vector<std::string>& argv,
                            const CompilerInfo& compiler,
                            const ParseOptions& options = {});

// Return `path` with the extension of its last component replaced by `extension`
// ("out/a.b.o", ".d" -> "out/a.b.d"; "out/noext" -> "out/noext.d"). A leading dot does not
// start an extension.
std::string replace_extension(std::string_view path, std::string_view extension);

} // namespace ccrex::toolchain
