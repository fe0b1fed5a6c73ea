#pragma once

// The directive lexer: a pure function from a file's bytes to the include-like directives it
// contains. It understands just enough of C and C++ lexing to find directives soundly:
// // and /* */ comments, string and character literals (including raw strings R"d(...)d"
// and C++14 digit separators), backslash-newline splices anywhere (also inside directive
// names), CRLF line ends and the %: digraph. Conditionals are not evaluated: a directive in
// any branch is reported, so the result is a superset of what a compiler reads. The list
// also carries the file's other markers (content_markers.h): time macros, GCC pragmas that
// read files, assembler .include/.incbin and trigraphs. #define lines are read for what a
// computed include may expand to (macro_definitions.h).
//
// Thread safety: lex_directives is a pure function and may be called concurrently.

#include "depscan/macro_definitions.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ccrex::depscan {

enum class DirectiveKind : uint8_t {
  include,          // #include
  include_next,     // #include_next
  import,           // #import (Objective-C, or the deprecated GNU extension)
  has_include,      // __has_include(...) in a directive line
  has_include_next, // __has_include_next(...) in a directive line
  // Markers found by content_markers.h (not directives of the preprocessor's own):
  time_macro,        // __DATE__, __TIME__ or __TIMESTAMP__ used in code (`name` says which)
  pragma_dependency, // #pragma GCC dependency "file" (or in a _Pragma string)
  pragma_pch,        // #pragma GCC pch_preprocess "file"
  asm_include,       // the assembler's .include "file"
  asm_incbin,        // the assembler's .incbin "file"
  trigraph,          // the first ??= or ??/ trigraph of the file (`name` holds it)
};

// Return whether `kind` is an include-like directive the preprocessor resolves through the
// search path (include, include_next, import, has_include, has_include_next).
constexpr bool is_include_kind(DirectiveKind kind) {
  return kind <= DirectiveKind::has_include_next;
}

// Return "include", "include_next", ... for messages and the test printer.
std::string_view directive_kind_name(DirectiveKind kind);

struct Directive {
  DirectiveKind kind = DirectiveKind::include;
  // True for <name>, false for "name".
  bool angled = false;
  // True when the operand is not a literal header name (`#include MACRO`); `name` then
  // holds the operand text as written (trimmed), for messages.
  bool computed = false;
  // The header name without its delimiters.
  std::string name;
  // 1-based physical line of the directive's '#'.
  uint32_t line = 0;
  // For asm_include and asm_incbin: found in a C or C++ comment (it matters only in files
  // the assembler reads without the preprocessor).
  bool in_comment = false;

  bool operator==(const Directive&) const = default;
};

// What the scanner keeps of one file: its directives and markers, and its macro
// definitions as far as computed includes need them (macro_definitions.h).
struct LexedFile {
  std::vector<Directive> directives;
  MacroDefinitions macros;

  bool operator==(const LexedFile&) const = default;
};

// Return the directives of `text` in source order, and its #define lines as
// macro_definitions.h keeps them.
LexedFile lex_file(std::string_view text);

// Return the directives of `text` in source order (lex_file without the definitions).
std::vector<Directive> lex_directives(std::string_view text);

// Return a compact, line-per-directive rendering used by tests and debugging:
// `include <a.h>`, `include_next "b.h"`, `has_include <c.h>`, `include computed(FOO)`,
// `time_macro __DATE__`, `asm_incbin "d.bin" (comment)`, `trigraph ??=`.
std::string print_directives(const std::vector<Directive>& directives);

} // namespace ccrex::depscan
