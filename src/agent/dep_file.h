#pragma once

// Dependency files as gcc and clang write them for -MD/-MMD: one make rule (targets, a
// colon, prerequisites), lines wrapped at a width that depends on the names, then with -MP
// an empty rule for each prerequisite but the first. When a remote compile ran below
// another root, replacing that root by the local one changes the lengths and so where the
// compiler would have wrapped the lines: rewrite_dep_file() parses the file, checks that
// formatting it again gives back exactly the compiler's bytes (so the format is one it
// knows), replaces the root in every name and formats it the way the compiler would have.
//
//   auto local = rewrite_dep_file(engine_text, DepFileStyle::gcc, {{"/w/root", "/home/me/p"}});
//
// Thread safety: pure functions.

#include "util/result.h"

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ccrex::agent {

enum class DepFileStyle { gcc, clang };

struct DepFile {
  // Names as written (escaped for make).
  std::vector<std::string> targets;
  std::vector<std::string> prerequisites;
  // Whether an empty rule follows for each prerequisite but the first (-MP).
  bool phony_rules = false;
};

// Parse a dependency file of one rule. Errors: any other shape.
util::Result<DepFile> parse_dep_file(std::string_view text);

// Write `file` as the compiler of `style` does.
std::string format_dep_file(const DepFile& file, DepFileStyle style);

// Return `text` with each `from` prefix of a name replaced by its `to`, wrapped as the
// compiler would have written it. Errors: a file this code cannot reproduce byte for byte,
// or a root holding a character make needs escaped.
util::Result<std::string>
rewrite_dep_file(std::string_view text,
                 DepFileStyle style,
                 const std::vector<std::pair<std::string, std::string>>& roots);

} // namespace ccrex::agent
