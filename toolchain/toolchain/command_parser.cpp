#include "toolchain/command_parser.h"

#include "toolchain/command_parser_internal.h"
#include "toolchain/option_table.h"
#include "util/file.h"

#include <algorithm>
#include <array>

namespace ccrex::toolchain {
namespace internal {

void Parser::fail(UnsupportedReason reason, std::string detail) {
  if (!m_out.unsupported) {
    m_out.unsupported = Unsupported{reason, std::move(detail)};
  }
}

void Parser::keep(const Arg& a) {
  for (size_t k = 0; k < a.count; ++k) {
    m_out.compiler_args.push_back(m_args[a.first + k]);
  }
}

void Parser::run() {
  if (m_out.compiler_info.family == CompilerFamily::unknown) {
    fail(UnsupportedReason::unknown_compiler, "not gcc or clang: " + m_out.compiler);
  }
  for (size_t i = 1; i < m_args.size();) {
    i = parse_one(i);
  }
  finish();
}

size_t Parser::parse_one(size_t i) {
  const std::string& arg = m_args[i];
  if (arg == "-") {
    fail(UnsupportedReason::stdin_input, "source read from stdin");
    return i + 1;
  }
  if (arg.empty()) {
    // gcc and clang both fail on an empty file name: let the local compiler say so.
    fail(UnsupportedReason::too_hard_option, "empty argument");
  }
  if (arg.empty() || arg[0] != '-') {
    add_input(arg);
    return i + 1;
  }
  auto match = match_option(arg);
  if (match && !applies_to_family(*match->info)) {
    match.reset();
  }
  if (!match) {
    if (arg.starts_with("-g")) {
      update_debug_level(arg);
    } else if (arg.starts_with("-d")) {
      check_debug_dump(arg);
    } else if (arg == "-flto" || arg.starts_with("-flto=")) {
      m_lto = true;
    } else if (arg == "-fno-lto") {
      m_lto = false;
    }
    m_out.compiler_args.push_back(arg);
    return i + 1;
  }
  const auto& info = *match->info;
  Arg a{info.name, std::string(match->joined_value), i, 1};
  const bool separate =
      info.has(option_flag::k_takes_arg) && (match->exact || info.has(option_flag::k_prefix));
  if (separate) {
    if (i + 1 >= m_args.size()) {
      fail(UnsupportedReason::missing_argument, "missing argument to " + arg);
      return i + 1;
    }
    a.value = m_args[i + 1];
    a.count = 2;
  }
  handle_option(info, a);
  return a.first + a.count;
}

bool Parser::applies_to_family(const OptionInfo& info) const {
  const auto family = m_out.compiler_info.family;
  if (info.has(option_flag::k_clang_only) && family == CompilerFamily::gcc) {
    return false;
  }
  return !(info.has(option_flag::k_gcc_only) && family == CompilerFamily::clang);
}

void Parser::handle_option(const OptionInfo& info, Arg& a) {
  if (info.has(option_flag::k_too_hard)) {
    fail(too_hard_reason(info.name), "unsupported option " + m_args[a.first]);
    keep(a);
    return;
  }
  if (info.has(option_flag::k_too_hard_direct)) {
    m_out.scan_needs_compiler = true;
  }
  if (info.has(option_flag::k_special)) {
    handle_special(a);
    return;
  }
  if (info.has(option_flag::k_input)) {
    m_out.option_inputs.push_back({std::string(a.name), a.value});
  }
  if (info.has(option_flag::k_output)) {
    m_out.other_outputs.push_back(a.value);
  }
  if (info.has(option_flag::k_affects_cpp)) {
    m_out.preprocessor_args.push_back({std::string(a.name), a.value});
    return;
  }
  keep(a);
}

UnsupportedReason Parser::too_hard_reason(std::string_view name) {
  struct Reason {
    std::string_view name;
    UnsupportedReason reason;
  };
  static constexpr auto k_reasons = std::to_array<Reason>({
      {"-march=native", UnsupportedReason::native_cpu},
      {"-mcpu=native", UnsupportedReason::native_cpu},
      {"-mtune=native", UnsupportedReason::native_cpu},
      {"-fprofile-use", UnsupportedReason::profile_use},
      {"-fprofile-use=", UnsupportedReason::profile_use},
      {"-fprofile-instr-use", UnsupportedReason::profile_use},
      {"-fauto-profile", UnsupportedReason::profile_use},
      {"-fauto-profile=", UnsupportedReason::profile_use},
      {"-save-temps", UnsupportedReason::save_temps},
      {"-save-temps=", UnsupportedReason::save_temps},
      {"-fmodules", UnsupportedReason::modules},
      {"-fmodules-ts", UnsupportedReason::modules},
      {"-fcxx-modules", UnsupportedReason::modules},
      {"-fmodule-file=", UnsupportedReason::modules},
      {"-fmodule-map-file=", UnsupportedReason::modules},
      {"-fmodules-cache-path=", UnsupportedReason::modules},
  });
  for (const auto& entry : k_reasons) {
    if (entry.name == name) {
      return entry.reason;
    }
  }
  return UnsupportedReason::too_hard_option;
}

void Parser::add_input(const std::string& path) {
  const auto language =
      m_x_active ? m_x_language : language_from_extension(path, m_out.compiler_info.cxx_driver);
  m_out.inputs.push_back({path, language});
  m_out.language_explicit = m_x_active;
}

// Debug levels: -g0 turns debug info off; -g, -g1..-g3, -ggdb*, -gdwarf*, -gline-tables-only
// and similar turn it on; modifiers such as -gsplit-dwarf, -gz or -gno-* change nothing.
void Parser::update_debug_level(std::string_view arg) {
  static constexpr auto k_enabling = std::to_array<std::string_view>({
      "-g",
      "-g1",
      "-g2",
      "-g3",
      "-ggdb",
      "-ggdb1",
      "-ggdb2",
      "-ggdb3",
      "-glldb",
      "-gsce",
      "-gdbx",
      "-gfull",
      "-gused",
      "-gmlt",
      "-gbtf",
      "-gctf",
      "-gctf1",
      "-gctf2",
      "-gvms",
      "-gline-tables-only",
      "-gline-directives-only",
      "-gcodeview",
  });
  if (arg == "-g0" || arg == "-ggdb0" || arg == "-gctf0") {
    m_generates_debug = false;
  } else if (std::find(k_enabling.begin(), k_enabling.end(), arg) != k_enabling.end()
             || arg.starts_with("-gdwarf-") || arg == "-gdwarf" || arg.starts_with("-gstabs")
             || arg.starts_with("-gxcoff")) {
    m_generates_debug = true;
  }
}

// gcc's -d<letters> turn on debugging dumps written next to the output (-da, -dr, ...; -dM
// without -E is -fdump-rtl-mach), or change how errors end (-dH). Only the letters that
// annotate the assembly (-dA, -dp, -dP) leave the object's compile as it is.
void Parser::check_debug_dump(std::string_view arg) {
  if (m_out.compiler_info.family != CompilerFamily::gcc || arg.size() < 3) {
    return;
  }
  const std::string_view letters = arg.substr(2);
  const bool all_letters = std::all_of(letters.begin(), letters.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  });
  const bool annotations_only = letters.find_first_not_of("ApP") == std::string_view::npos;
  if (all_letters && !annotations_only) {
    fail(UnsupportedReason::too_hard_option, "debugging dump option " + std::string(arg));
  }
}

void Parser::finish() {
  m_out.generates_debug_info = m_generates_debug || m_assembler_debug;
  m_out.gcc_lto = m_lto && m_out.compiler_info.family == CompilerFamily::gcc;
  if (m_want_dependencies_only && !m_out.unsupported) {
    fail(UnsupportedReason::dependencies_only, "-M/-MM without compiling");
  }
  if (!m_out.is_compile) {
    fail(UnsupportedReason::no_compile, "no -c: linking or compiling to an executable");
  }
  if (m_out.inputs.empty()) {
    fail(UnsupportedReason::no_source, "no source file");
  } else if (m_out.inputs.size() > 1) {
    fail(UnsupportedReason::multiple_sources,
         "several inputs: " + m_out.inputs[0].path + ", " + m_out.inputs[1].path);
  } else {
    m_out.source_file = m_out.inputs[0].path;
    m_out.language = m_out.inputs[0].language;
    if (!m_out.language) {
      fail(UnsupportedReason::unknown_language, "unknown language of " + m_out.source_file);
    } else if (!is_remotely_compilable(*m_out.language)) {
      fail(UnsupportedReason::unsupported_language,
           std::string(language_name(*m_out.language)) + " input " + m_out.source_file);
    }
  }
  derive_outputs();
}

void Parser::derive_outputs() {
  if (!m_out.output_object_explicit && !m_out.source_file.empty()) {
    m_out.output_object = replace_extension(util::basename(m_out.source_file), ".o");
  }
  if (m_out.output_object.empty()) {
    return;
  }
  const auto& object = m_out.output_object;
  // Only the preprocessor writes a dependency file: not for plain assembly or .i sources.
  if (m_dependency_output && m_out.language && is_preprocessed(*m_out.language)) {
    m_out.dependency_file =
        m_dependency_path.empty() ? replace_extension(object, ".d") : m_dependency_path;
  }
  const bool is_gcc = m_out.compiler_info.family == CompilerFamily::gcc;
  if (m_split_dwarf && (is_gcc || m_generates_debug)) {
    m_out.split_dwarf_output = replace_extension(object, ".dwo");
  }
  if (m_out.test_coverage) {
    m_out.coverage_notes_output = replace_extension(object, ".gcno");
  }
  if (m_stack_usage) {
    m_out.other_outputs.push_back(replace_extension(object, ".su"));
  }
  if (m_time_trace) {
    m_out.other_outputs.push_back(replace_extension(object, ".json"));
  }
}

} // namespace internal

std::string_view unsupported_reason_name(UnsupportedReason reason) {
  using R = UnsupportedReason;
  switch (reason) {
  case R::unknown_compiler:
    return "unknown_compiler";
  case R::no_compile:
    return "no_compile";
  case R::preprocess_only:
    return "preprocess_only";
  case R::assembly_only:
    return "assembly_only";
  case R::dependencies_only:
    return "dependencies_only";
  case R::stdin_input:
    return "stdin_input";
  case R::no_source:
    return "no_source";
  case R::multiple_sources:
    return "multiple_sources";
  case R::unknown_language:
    return "unknown_language";
  case R::unsupported_language:
    return "unsupported_language";
  case R::output_to_stdout:
    return "output_to_stdout";
  case R::missing_argument:
    return "missing_argument";
  case R::response_file:
    return "response_file";
  case R::native_cpu:
    return "native_cpu";
  case R::profile_use:
    return "profile_use";
  case R::save_temps:
    return "save_temps";
  case R::modules:
    return "modules";
  case R::unknown_xclang:
    return "unknown_xclang";
  case R::multiple_arch:
    return "multiple_arch";
  case R::too_hard_option:
    return "too_hard_option";
  }
  return "unknown";
}

std::string replace_extension(std::string_view path, std::string_view extension) {
  const auto slash = path.rfind('/');
  const size_t base_start = slash == std::string_view::npos ? 0 : slash + 1;
  const auto dot = path.rfind('.');
  if (dot == std::string_view::npos || dot <= base_start) {
    return std::string(path) + std::string(extension);
  }
  return std::string(path.substr(0, dot)) + std::string(extension);
}

ParsedCommand parse_command(const std::vector<std::string>& argv,
                            const CompilerInfo& compiler,
                            const ParseOptions& options) {
  ParsedCommand out;
  out.compiler_info = compiler;
  if (argv.empty()) {
    out.unsupported = Unsupported{UnsupportedReason::no_source, "empty command"};
    return out;
  }
  out.compiler = argv[0];
  const FileReader reader = options.read_file ? options.read_file : FileReader(read_response_file);
  auto expanded = expand_response_files(argv, options.cwd, reader);
  if (!expanded) {
    out.args = argv;
    out.unsupported = Unsupported{UnsupportedReason::response_file, expanded.error().message()};
    return out;
  }
  out.args = std::move(expanded->args);
  out.response_files = std::move(expanded->files);
  internal::Parser parser(out);
  parser.run();
  return out;
}

} // namespace ccrex::toolchain
