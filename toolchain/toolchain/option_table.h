#pragma once

// What ccrex knows about individual gcc/clang options, as data: a table of {name, flags}
// sorted by name (ccache's compopt table). Options missing from the table are treated as
// plain compiler flags without an argument.
//
// Thread safety: the table is immutable; every function here is thread-safe.

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace ccrex::toolchain {

// Option flags. An entry may combine several.
namespace option_flag {
// The option takes its argument as the next argv element when written exactly ("-o out").
inline constexpr uint32_t k_takes_arg = 1U << 0;
// The argument may be joined to the name ("-Ifoo", "-fsanitize-ignorelist=f"). Entries
// whose name ends with '=' have only this form.
inline constexpr uint32_t k_takes_concat_arg = 1U << 1;
// The argument is a path.
inline constexpr uint32_t k_takes_path = 1U << 2;
// The option changes what the preprocessor does (search dirs, macros, forced includes).
inline constexpr uint32_t k_affects_cpp = 1U << 3;
// The option changes compilation but not preprocessing.
inline constexpr uint32_t k_affects_comp = 1U << 4;
// The argument names an output file the compiler writes.
inline constexpr uint32_t k_output = 1U << 5;
// The argument names an input file the compiler reads (must be in the input root).
inline constexpr uint32_t k_input = 1U << 6;
// The command cannot run remotely with this option; run it locally.
inline constexpr uint32_t k_too_hard = 1U << 7;
// The command can run remotely, but the in-process dependency scanner cannot model the
// option; dependencies must come from the compiler itself (`-M`).
inline constexpr uint32_t k_too_hard_direct = 1U << 8;
// Only clang knows the option; with gcc it is an unknown flag.
inline constexpr uint32_t k_clang_only = 1U << 9;
// Only gcc knows the option; with clang it is an unknown flag.
inline constexpr uint32_t k_gcc_only = 1U << 10;
// The option only matters when linking; it is ignored by `-c` compiles.
inline constexpr uint32_t k_link_only = 1U << 11;
// The name is a prefix standing for a family of options ("-fdump-" covers -fdump-tree-all).
inline constexpr uint32_t k_prefix = 1U << 12;
// The parser handles the option itself (outputs, dependency files, languages, ...).
inline constexpr uint32_t k_special = 1U << 13;
} // namespace option_flag

struct OptionInfo {
  // The option as written, including dashes ("-isystem", "-fsanitize-ignorelist=").
  std::string_view name;
  // A combination of option_flag values.
  uint32_t flags = 0;

  bool has(uint32_t flag) const { return (flags & flag) != 0; }
};

// An argument matched against the table.
struct OptionMatch {
  // The table entry.
  const OptionInfo* info = nullptr;
  // True when the argument is the entry's name exactly (so a k_takes_arg option consumes
  // the next argv element); false for a joined value or a k_prefix match.
  bool exact = false;
  // For a joined match, the text after the name ("foo" for "-Ifoo"); empty otherwise.
  std::string_view joined_value;
};

// Return the whole table, sorted by name with no duplicates.
std::span<const OptionInfo> option_table();

// Return the entry named exactly `name`, or nullptr.
const OptionInfo* find_option(std::string_view name);

// Match `arg` against the table: an exact name first, else the longest name that is a
// prefix of `arg` and allows a joined value (k_takes_concat_arg) or stands for a family
// (k_prefix). Return nullopt when nothing matches.
std::optional<OptionMatch> match_option(std::string_view arg);

} // namespace ccrex::toolchain
