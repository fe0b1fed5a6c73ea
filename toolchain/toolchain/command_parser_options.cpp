// Options parse_command() handles itself: they decide the outputs, the language, the
// dependency file, or wrap other tools' options (-Wp, -Wa, -Xclang).

#include "toolchain/command_parser_internal.h"
#include "util/strings.h"

#include <algorithm>
#include <array>
#include <span>

namespace ccrex::toolchain::internal {
namespace {

// -Xclang options known to be harmless for a remote compile (no extra inputs or outputs,
// no dependence on the machine). Anything else makes the command run locally.
constexpr auto k_xclang_flags = std::to_array<std::string_view>({
    "-disable-O0-optnone",
    "-disable-llvm-passes",
    "-disable-llvm-verifier",
    "-fexperimental-new-pass-manager",
    "-fno-experimental-new-pass-manager",
    "-fno-pch-timestamp",
    "-fno-validate-pch",
    "-fno-use-cxa-atexit",
    "-fforce-emit-vtables",
    "-mconstructor-aliases",
    "-fmerge-functions",
    "-ftime-report",
});

// -Xclang options taking a value through a following "-Xclang <value>" pair.
constexpr auto k_xclang_with_value = std::to_array<std::string_view>({
    "-mllvm",
    "-target-feature",
    "-fdebug-compilation-dir",
    "-include-pch",
    "-include",
});

bool contains(std::span<const std::string_view> list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

} // namespace

void Parser::handle_special(Arg& a) {
  static constexpr auto k_handlers = std::to_array<SpecialOption>({
      {"--coverage", &Parser::on_coverage},
      {"--sysroot", &Parser::on_sysroot},
      {"--sysroot=", &Parser::on_sysroot},
      {"--target=", &Parser::on_target},
      {"-E", &Parser::on_preprocess},
      {"-M", &Parser::on_dependencies_only},
      {"-MD", &Parser::on_dependency_flag},
      {"-MF", &Parser::on_dependency_file},
      {"-MG", &Parser::on_dependency_flag},
      {"-MM", &Parser::on_dependencies_only},
      {"-MMD", &Parser::on_dependency_flag},
      {"-MP", &Parser::on_dependency_flag},
      {"-MQ", &Parser::on_dependency_target},
      {"-MT", &Parser::on_dependency_target},
      {"-S", &Parser::on_assemble},
      {"-Wa,", &Parser::on_assembler_passthrough},
      {"-Wp,", &Parser::on_preprocessor_passthrough},
      {"-Xassembler", &Parser::on_assembler_passthrough},
      {"-Xclang", &Parser::on_xclang},
      {"-Xpreprocessor", &Parser::on_xpreprocessor},
      {"-arch", &Parser::on_arch},
      {"-c", &Parser::on_compile},
      {"-fcolor-diagnostics", &Parser::on_color},
      {"-fcoverage-compilation-dir=", &Parser::on_compilation_dir},
      {"-fcoverage-mapping", &Parser::on_coverage},
      {"-fcoverage-prefix-map=", &Parser::on_prefix_map},
      {"-fdebug-compilation-dir", &Parser::on_compilation_dir},
      {"-fdebug-compilation-dir=", &Parser::on_compilation_dir},
      {"-fdebug-prefix-map=", &Parser::on_prefix_map},
      {"-fdiagnostics-color", &Parser::on_color},
      {"-fdiagnostics-color=", &Parser::on_color},
      {"-ffile-compilation-dir=", &Parser::on_compilation_dir},
      {"-ffile-prefix-map=", &Parser::on_prefix_map},
      {"-fmacro-prefix-map=", &Parser::on_prefix_map},
      {"-fno-color-diagnostics", &Parser::on_color},
      {"-fno-diagnostics-color", &Parser::on_color},
      {"-fopt-info", &Parser::on_opt_info},
      {"-fprofile-arcs", &Parser::on_coverage},
      {"-fprofile-generate", &Parser::on_coverage},
      {"-fprofile-generate=", &Parser::on_coverage},
      {"-fprofile-prefix-map=", &Parser::on_prefix_map},
      {"-fstack-usage", &Parser::on_extra_output},
      {"-ftest-coverage", &Parser::on_coverage},
      {"-ftime-trace", &Parser::on_extra_output},
      {"-gsplit-dwarf", &Parser::on_split_dwarf},
      {"-gsplit-dwarf=", &Parser::on_split_dwarf},
      {"-isysroot", &Parser::on_sysroot},
      {"-o", &Parser::on_output},
      {"-specs", &Parser::on_specs},
      {"-specs=", &Parser::on_specs},
      {"-target", &Parser::on_target},
      {"-x", &Parser::on_language},
  });
  for (const auto& entry : k_handlers) {
    if (entry.name == a.name) {
      (this->*entry.handler)(a);
      return;
    }
  }
  // A k_special table entry without a handler is a programming error; keep the argument.
  keep(a);
}

void Parser::on_compile(Arg&) {
  m_out.is_compile = true;
}

void Parser::on_preprocess(Arg& a) {
  fail(UnsupportedReason::preprocess_only, "-E writes preprocessed output");
  keep(a);
}

void Parser::on_assemble(Arg& a) {
  fail(UnsupportedReason::assembly_only, "-S writes assembly");
  keep(a);
}

void Parser::on_output(Arg& a) {
  if (a.value == "-") {
    fail(UnsupportedReason::output_to_stdout, "-o - writes to stdout");
  }
  if (a.value.empty()) {
    // gcc refuses an empty output name and clang ignores it: let the compiler decide.
    fail(UnsupportedReason::missing_argument, "-o with an empty file name");
  }
  m_out.output_object = a.value;
  m_out.output_object_explicit = true;
}

void Parser::on_language(Arg& a) {
  m_x_active = a.value != "none";
  m_x_language = m_x_active ? language_from_name(a.value) : std::nullopt;
  keep(a);
}

void Parser::on_dependencies_only(Arg&) {
  m_want_dependencies_only = true;
}

void Parser::on_dependency_file(Arg& a) {
  m_dependency_path = a.value;
}

void Parser::on_dependency_flag(Arg& a) {
  if (a.name == "-MD" || a.name == "-MMD") {
    m_dependency_output = true;
    m_out.dependency_user_headers_only = a.name == "-MMD";
  } else if (a.name == "-MP") {
    m_out.dependency_phony_targets = true;
  } else if (a.name == "-MG") {
    m_out.dependency_missing_ok = true;
  }
}

void Parser::on_dependency_target(Arg& a) {
  m_out.dependency_targets.push_back({std::string(a.name), a.value});
}

// -Wp,-MD,path and -Wp,-MMD,path write a dependency file; -Wp,-D/-U/-I pieces are plain
// preprocessor options. Anything else sent straight to cc1 is beyond us.
void Parser::on_preprocessor_passthrough(Arg& a) {
  const auto parts = util::split(a.value, ',');
  if (parts.size() == 2 && (parts[0] == "-MD" || parts[0] == "-MMD")) {
    m_dependency_output = true;
    m_out.dependency_user_headers_only = parts[0] == "-MMD";
    m_dependency_path = std::string(parts[1]);
    return;
  }
  for (const auto part : parts) {
    const auto option = part.substr(0, 2);
    if (part.size() <= 2 || (option != "-D" && option != "-U" && option != "-I")) {
      fail(UnsupportedReason::too_hard_option, "unsupported -Wp option " + m_args[a.first]);
      keep(a);
      return;
    }
    m_out.preprocessor_args.push_back({std::string(option), std::string(part.substr(2))});
  }
}

void Parser::on_xpreprocessor(Arg& a) {
  m_out.scan_needs_compiler = true;
  m_out.preprocessor_args.push_back({"-Xpreprocessor", a.value});
  if (a.value.starts_with("-M")) {
    fail(UnsupportedReason::too_hard_option, "-Xpreprocessor " + a.value);
  }
}

void Parser::check_assembler_option(std::string_view option) {
  // -a[...] writes a listing (possibly to a file), --MD a dependency file, -o another object
  // than the compiler's; @file reads more assembler options from a file.
  if (option.starts_with("-a") || option.starts_with("--MD") || option.starts_with("-MD")
      || option.starts_with("-o") || option.starts_with("@")) {
    fail(UnsupportedReason::too_hard_option, "assembler option " + std::string(option));
  }
  // The assembler's own debug information (-g, --gen-debug, --gdwarf-N, ...) records the
  // directory it runs in, like the compiler's.
  if (option == "-g" || option == "--gen-debug" || option.starts_with("--gdwarf")
      || option.starts_with("-gdwarf") || option.starts_with("--gstabs")) {
    m_assembler_debug = true;
  }
}

void Parser::on_assembler_passthrough(Arg& a) {
  if (a.name == "-Wa,") {
    for (const auto part : util::split(a.value, ',')) {
      check_assembler_option(part);
    }
  } else {
    check_assembler_option(a.value);
  }
  keep(a);
}

bool Parser::xclang_with_value(Arg& a, std::string_view option) {
  const size_t next = a.first + 2;
  if (next + 1 >= m_args.size() || m_args[next] != "-Xclang") {
    return false;
  }
  const std::string& value = m_args[next + 1];
  a.count = 4;
  if (option == "-include-pch" || option == "-include") {
    m_out.option_inputs.push_back({std::string(option), value});
  }
  if (option == "-include") {
    m_out.preprocessor_args.push_back({"-include", value});
  }
  if (option == "-fdebug-compilation-dir") {
    m_out.debug_compilation_dir = value;
  }
  return true;
}

void Parser::on_xclang(Arg& a) {
  const std::string_view option = a.value;
  bool understood = true;
  if (option == "-fcolor-diagnostics" || option == "-fno-color-diagnostics") {
    m_out.color_diagnostics = option == "-fcolor-diagnostics";
  } else if (option.starts_with("-fdebug-compilation-dir=")) {
    m_out.debug_compilation_dir = std::string(option.substr(option.find('=') + 1));
  } else if (contains(k_xclang_with_value, option)) {
    understood = xclang_with_value(a, option);
  } else {
    understood = contains(k_xclang_flags, option);
  }
  if (!understood) {
    fail(UnsupportedReason::unknown_xclang, "-Xclang " + a.value);
  }
  keep(a);
}

void Parser::on_arch(Arg& a) {
  if (++m_arch_count > 1 && a.value != m_out.arch) {
    fail(UnsupportedReason::multiple_arch, "several -arch values");
  }
  m_out.arch = a.value;
  keep(a);
}

void Parser::on_target(Arg& a) {
  m_out.target = a.value;
  keep(a);
}

void Parser::on_sysroot(Arg& a) {
  m_out.sysroot = a.value;
  m_out.preprocessor_args.push_back({std::string(a.name), a.value});
}

// A specs file named by a path can be uploaded; a bare name is searched for in gcc's own
// directories, which we do not model.
void Parser::on_specs(Arg& a) {
  if (a.value.find('/') == std::string::npos) {
    fail(UnsupportedReason::too_hard_option, "specs file looked up by gcc: " + a.value);
  } else {
    m_out.option_inputs.push_back({std::string(a.name), a.value});
  }
  keep(a);
}

void Parser::on_prefix_map(Arg& a) {
  struct Kind {
    std::string_view name;
    PrefixMapKind kind;
  };
  static constexpr auto k_kinds = std::to_array<Kind>({
      {"-fdebug-prefix-map=", PrefixMapKind::debug},
      {"-ffile-prefix-map=", PrefixMapKind::file},
      {"-fmacro-prefix-map=", PrefixMapKind::macro},
      {"-fcoverage-prefix-map=", PrefixMapKind::coverage},
      {"-fprofile-prefix-map=", PrefixMapKind::profile},
  });
  const auto eq = a.value.find('=');
  if (eq != std::string::npos) {
    for (const auto& entry : k_kinds) {
      if (entry.name == a.name) {
        m_out.prefix_maps.push_back({entry.kind, a.value.substr(0, eq), a.value.substr(eq + 1)});
      }
    }
  }
  keep(a);
}

void Parser::on_compilation_dir(Arg& a) {
  if (a.name != "-fcoverage-compilation-dir=") {
    m_out.debug_compilation_dir = a.value;
  }
  keep(a);
}

void Parser::on_coverage(Arg& a) {
  if (a.name == "--coverage" || a.name == "-ftest-coverage") {
    m_out.test_coverage = true;
  }
  if (a.name == "-fcoverage-mapping") {
    m_out.coverage_mapping = true;
  }
  // gcc's -fprofile-generate implies -fprofile-arcs; clang's is IR instrumentation whose
  // default output path is relative, so it does not depend on the compile directory.
  const bool gcc_generate =
      a.name.starts_with("-fprofile-generate") && m_out.compiler_info.family == CompilerFamily::gcc;
  if (a.name == "--coverage" || a.name == "-fprofile-arcs" || gcc_generate) {
    m_out.profile_arcs = true;
  }
  keep(a);
}

void Parser::on_color(Arg& a) {
  if (a.name == "-fdiagnostics-color=") {
    if (a.value == "always") {
      m_out.color_diagnostics = true;
    } else if (a.value == "never") {
      m_out.color_diagnostics = false;
    } else {
      m_out.color_diagnostics.reset();
    }
  } else {
    m_out.color_diagnostics = a.name.find("-fno-") != 0;
  }
  keep(a);
}

void Parser::on_split_dwarf(Arg& a) {
  m_split_dwarf = a.name == "-gsplit-dwarf" || a.value == "split";
  keep(a);
}

// -fopt-info[-kinds][=file]: the report goes to stderr unless a file is named, which gcc
// appends to (an action can only replace a file).
void Parser::on_opt_info(Arg& a) {
  const size_t eq = a.value.find('=');
  if (eq != std::string::npos) {
    const std::string file = a.value.substr(eq + 1);
    if (file != "stderr" && file != "stdout") {
      fail(UnsupportedReason::too_hard_option, m_args[a.first] + " appends to " + file);
    }
  }
  keep(a);
}

void Parser::on_extra_output(Arg& a) {
  if (a.name == "-fstack-usage") {
    m_stack_usage = true;
  } else {
    m_time_trace = true;
  }
  keep(a);
}

} // namespace ccrex::toolchain::internal
