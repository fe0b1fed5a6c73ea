#pragma once

// What the scanner needs to know from a compile command: the source, the language and every
// include search directory in gcc/clang order, plus a structured "can't" for command lines it
// does not model (the caller then falls back to the compiler's own -M and counts it).
//
// Thread safety: plain values and pure functions.

#include "util/result.h"

#include <string>
#include <string_view>
#include <vector>

namespace ccrex::depscan {

// The source's language. Assembly without the preprocessor (.s) is read only by the
// assembler, whose .include/.incbin are all it may read besides the source; assembly with it
// (.S, .sx) is preprocessed like C first.
enum class Language { c, cxx, objc, objcxx, assembler, assembler_with_cpp };

// Return the -x spelling of `language` ("c", "c++", "objective-c", "objective-c++",
// "assembler", "assembler-with-cpp").
std::string_view language_name(Language language);

// Return whether `language` is assembly (with or without the preprocessor).
constexpr bool is_assembler(Language language) {
  return language == Language::assembler || language == Language::assembler_with_cpp;
}

// Why a scan cannot answer soundly.
enum class FailureReason {
  computed_include,   // #include MACRO or __has_include(MACRO) in #if
  unsupported_option, // an option that changes preprocessing in a way not modelled
  unreadable_file,    // a file that exists but cannot be read
  bad_arguments,      // no source, several sources, a missing option argument, ...
  probe_failed,       // the compiler's built-in search directories could not be learned
  trigraphs,          // a file holds trigraphs and the standard in effect may enable them
};

// Return "computed_include", "unsupported_option", ... (stable names for counters).
std::string_view failure_reason_name(FailureReason reason);

struct ScanFailure {
  FailureReason reason = FailureReason::bad_arguments;
  // Human-readable detail: the option, the file and line, ...
  std::string detail;

  // Return "reason: detail".
  std::string to_string() const;
};

template <typename T>
using ScanResultOr = util::Result<T, ScanFailure>;

// The search configuration of one compile. Directories are spelled as on the command line
// (relative ones are relative to `cwd`); trailing slashes are removed like gcc does.
struct SearchConfig {
  Language language = Language::c;
  // The source file as given on the command line.
  std::string source;
  // The -o value, or empty.
  std::string output;
  // -MT / -MQ targets, in order.
  std::vector<std::string> dep_targets;
  // Absolute working directory of the compile.
  std::string cwd;
  // -iquote directories: searched for "quoted" includes only, after the includer's directory.
  std::vector<std::string> quote_dirs;
  // -I directories, then CPATH entries.
  std::vector<std::string> bracket_dirs;
  // -isystem directories, then C_INCLUDE_PATH / CPLUS_INCLUDE_PATH / OBJC_INCLUDE_PATH.
  std::vector<std::string> system_dirs;
  // -idirafter directories (searched after the built-in ones).
  std::vector<std::string> after_dirs;
  // -D values ("NAME" or "NAME=body"), in command-line order; also from -Wp,-D and
  // --define-macro. Only computed includes use them (-U is ignored: a definition it
  // removes still counts, which keeps the answer a superset).
  std::vector<std::string> defines;
  // -include and -imacros files, in command-line order.
  std::vector<std::string> forced_includes;
  // -nostdinc: no built-in directories at all.
  bool nostdinc = false;
  // -nostdinc++: no C++ library directories (`builtin_cxx_only`).
  bool nostdincxx = false;
  // Whether gcc's implicit `#include <stdc-predef.h>` applies (hosted, with standard
  // directories: not after -nostdinc or -ffreestanding). Clang ignores it; as a superset it
  // is scanned for both.
  bool implicit_predef = true;
  // --sysroot / -isysroot value, or empty (applied by the compiler to its built-ins, and to
  // directories written with a leading '=').
  std::string sysroot;
  // The -std= value, or empty (recorded only: conditionals are not evaluated).
  std::string std;
  // Whether trigraphs may be in effect: an ISO C standard, C++ before C++17, -ansi (each
  // when it is the last standard option), or -trigraphs/-ftrigraphs anywhere. GNU modes
  // ignore trigraphs. When a file holds one, the scan gives up (the compiler's -M knows).
  bool trigraphs = false;
  // Directories the assembler searches for .include and .incbin, from -Wa,-I and
  // -Xassembler -I (after the current directory and the -I directories).
  std::vector<std::string> asm_include_dirs;
  // Options passed to the built-in directory probe because they change the compiler's
  // built-in list (--sysroot, -isysroot, --target, -stdlib=, -m32, -B, ...).
  std::vector<std::string> probe_args;
  // The compiler's built-in directories in search order, filled by a probe or by the caller.
  std::vector<std::string> builtin_dirs;
  // The subset of `builtin_dirs` that only C++ uses (dropped by -nostdinc++).
  std::vector<std::string> builtin_cxx_only;
};

// Extract the search configuration from a gcc/clang argument vector (without the compiler
// itself). `cwd` must be absolute; `env` holds "NAME=value" strings (CPATH and friends).
// @file arguments are expanded (relative to `cwd`). Built-in directories are left empty.
ScanResultOr<SearchConfig> extract_search_config(const std::vector<std::string>& args,
                                                 const std::string& cwd,
                                                 const std::vector<std::string>& env);

// Return the language gcc infers from `path`'s extension, or false if it is not a
// preprocessable C-family source (.c .cc .cp .cpp .cxx .c++ .C .CPP .m .mm .M .i .ii .h ...).
bool language_from_extension(std::string_view path, Language& out);

} // namespace ccrex::depscan
