#pragma once

// Make-rule dependency files as written by `cc -M`, `-MD` and ccrex-depscan: parsing (for the
// compiler fallback and differential tests) and writing.
//
//   obj/a.o other.o: src/a.c include/my\ header.h <backslash-newline>
//     /usr/include/stdio.h
//   include/my\ header.h:
//
// Thread safety: pure functions.

#include "util/result.h"

#include <string>
#include <string_view>
#include <vector>

namespace ccrex::depscan {

struct DepRule {
  std::vector<std::string> targets;
  std::vector<std::string> prerequisites;

  bool operator==(const DepRule&) const = default;
};

// Parse every rule in `text`. Handles backslash-newline continuations (also CRLF), "\ " and
// "\#" escapes, "$$" for '$', and rules without prerequisites (from -MP). Fails on a
// prerequisite list with no target.
util::Result<std::vector<DepRule>> parse_depfile(std::string_view text);

// Return every prerequisite of every rule, without duplicates, in first-seen order, skipping
// the phony rules that -MP adds (a rule with no prerequisites whose target was already seen
// as a prerequisite).
std::vector<std::string> depfile_prerequisites(const std::vector<DepRule>& rules);

// Escape `path` for a make rule (space -> "\ ", '#' -> "\#", '$' -> "$$").
std::string escape_make_path(std::string_view path);

// Format one rule like gcc: "target: dep1 dep2 \" with lines wrapped near 75 columns.
std::string format_make_rule(const std::vector<std::string>& targets,
                             const std::vector<std::string>& prerequisites);

} // namespace ccrex::depscan
