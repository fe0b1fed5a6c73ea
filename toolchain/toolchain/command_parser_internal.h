#pragma once

// The state machine behind parse_command(). Internal to ccrex_toolchain: split over
// command_parser.cpp (the argument loop and output naming) and command_parser_options.cpp
// (options the parser handles itself). One Parser parses one command on one thread.

#include "toolchain/command_parser.h"
#include "toolchain/option_table.h"

#include <string>
#include <string_view>
#include <vector>

namespace ccrex::toolchain::internal {

// One matched option and the argv elements it occupies.
struct Arg {
  // The table name ("-I", "-MF").
  std::string_view name;
  // The option's argument (joined or separate); empty when it has none.
  std::string value;
  // Index of the option in ParsedCommand::args.
  size_t first = 0;
  // Number of argv elements used: 1, or 2 with a separate argument (more for -Xclang pairs).
  size_t count = 1;
};

class Parser {
public:
  // Parse `out.args` into the other fields of `out`.
  explicit Parser(ParsedCommand& out) : m_out(out), m_args(out.args) {}

  void run();

private:
  using Handler = void (Parser::*)(Arg&);
  struct SpecialOption {
    std::string_view name;
    Handler handler;
  };

  // Parse the argument at `i`; return the index of the next unparsed one.
  size_t parse_one(size_t i);
  bool applies_to_family(const OptionInfo& info) const;
  void handle_option(const OptionInfo& info, Arg& a);
  void handle_special(Arg& a);
  void add_input(const std::string& path);
  void update_debug_level(std::string_view arg);
  void check_debug_dump(std::string_view arg);
  void finish();
  void derive_outputs();
  // Record the first reason to run locally; later ones are ignored.
  void fail(UnsupportedReason reason, std::string detail);
  // Append the argv elements of `a` to compiler_args unchanged.
  void keep(const Arg& a);
  static UnsupportedReason too_hard_reason(std::string_view name);

  // Special option handlers (command_parser_options.cpp).
  void on_compile(Arg& a);
  void on_preprocess(Arg& a);
  void on_assemble(Arg& a);
  void on_output(Arg& a);
  void on_language(Arg& a);
  void on_dependencies_only(Arg& a);
  void on_dependency_file(Arg& a);
  void on_dependency_flag(Arg& a);
  void on_dependency_target(Arg& a);
  void on_preprocessor_passthrough(Arg& a);
  void on_xpreprocessor(Arg& a);
  void on_assembler_passthrough(Arg& a);
  void on_xclang(Arg& a);
  void on_arch(Arg& a);
  void on_target(Arg& a);
  void on_sysroot(Arg& a);
  void on_specs(Arg& a);
  void on_prefix_map(Arg& a);
  void on_compilation_dir(Arg& a);
  void on_coverage(Arg& a);
  void on_color(Arg& a);
  void on_split_dwarf(Arg& a);
  void on_extra_output(Arg& a);
  void on_opt_info(Arg& a);
  // Check assembler options passed through -Wa/-Xassembler for listing or dependency output.
  void check_assembler_option(std::string_view option);
  // Handle a -Xclang pair that names a file (-include-pch, -include).
  bool xclang_with_value(Arg& a, std::string_view option);

  ParsedCommand& m_out;
  const std::vector<std::string>& m_args;

  // -x in effect: m_x_active with m_x_language (nullopt for a name we do not know).
  bool m_x_active = false;
  std::optional<Language> m_x_language;
  bool m_generates_debug = false;
  // -flto (any form) seen and not turned off by a later -fno-lto.
  bool m_lto = false;
  // Debug information asked of the assembler (-Wa,-g, -Wa,--gdwarf-5, ...).
  bool m_assembler_debug = false;
  // -MD/-MMD (or -Wp,-MD,path) seen, and the -MF (or -Wp) path.
  bool m_dependency_output = false;
  std::string m_dependency_path;
  // -M/-MM seen.
  bool m_want_dependencies_only = false;
  bool m_split_dwarf = false;
  bool m_stack_usage = false;
  bool m_time_trace = false;
  int m_arch_count = 0;
};

} // namespace ccrex::toolchain::internal
