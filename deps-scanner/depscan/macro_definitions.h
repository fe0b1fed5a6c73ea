#pragma once

// What a file's #define lines say about computed includes (`#include NAME`,
// `__has_include(NAME)` with NAME an object-like macro).
//
// A computed include can only name a header if NAME expands to a header name. The scanner
// resolves one when every definition of NAME it can reach (in any file it visits, in any
// branch, or on the command line) is a single literal header name, "x.h" or <x.h>: each such
// literal is then a candidate, resolved as if written in place of NAME. So per file only
// three things are kept, small enough for the per-file directive cache:
//
// - `header`: object-like macros whose body is exactly one header name;
// - `alias`: object-like macros whose body is exactly one identifier (`#define NAME OTHER`):
//   NAME stands for whatever OTHER stands for, so its candidates are OTHER's;
// - `other`: hashes of object-like macros whose expansion may begin with a header name
//   without being one literal or one name (`#define NAME "a" "b"`, `#define NAME F(x)`,
//   ...): a computed include of such a name makes the scan give up;
// - `inert`: hashes of the remaining object-like macros (empty body, a number or a
//   punctuator first, such as header guards and constants). `#include NAME` of one is an
//   error, so it adds no candidate, but it still matters when its name appears inside an
//   <...> body, where the compiler expands it.
//
// Function-like macros are not kept: `#include NAME` without an argument list does not
// expand them (an error), and `NAME(...)` operands make the scan give up anyway. #undef is
// not kept: a removed definition still is a candidate, which keeps the answer a superset.
//
// Thread safety: plain values and pure functions.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ccrex::depscan {

// An object-like macro whose body is exactly one header name.
struct HeaderMacro {
  std::string macro;
  std::string header; // without its delimiters
  bool angled = false;
  uint32_t line = 0; // 0 for a command-line definition

  bool operator==(const HeaderMacro&) const = default;
};

// An object-like macro whose body is exactly one identifier.
struct AliasMacro {
  std::string macro;
  std::string target;

  bool operator==(const AliasMacro&) const = default;
};

struct MacroDefinitions {
  std::vector<HeaderMacro> header; // in source order
  std::vector<AliasMacro> alias;   // in source order
  std::vector<uint32_t> other;     // macro_name_hash of each name, sorted, unique
  std::vector<uint32_t> inert;     // likewise

  bool operator==(const MacroDefinitions&) const = default;
};

// What a macro body can expand to in an #include operand.
enum class MacroBody : uint8_t {
  header, // one header name: "x.h" (no backslash or quote inside), or <x.h> made of
          // letters, digits and _ . / - + only (no spaces: the compiler would keep them)
  alias,  // one identifier (ASCII letters, digits and _), which may itself be a macro
  other,  // may begin with a header name once expanded, or cannot be told
  inert,  // cannot begin with one: empty, or a number or punctuator first
};

// Classify the (comment-free) body `body` of an object-like macro. For `header`, fill
// `name` and `angled`; for `alias`, `name` is the identifier.
MacroBody classify_macro_body(std::string_view body, std::string& name, bool& angled);

// Return a 32-bit hash of a macro name (FNV-1a), the same in every process.
uint32_t macro_name_hash(std::string_view name);

// Record in `out` the definition made by the logical directive line `logical` (the text
// after '#', comments replaced by spaces) if it is an object-like #define. Call
// finish_macro_definitions once all lines are in. With `truncated`, `logical` is only the
// part of the line before a comment or a backslash (which may splice lines): then record nothing
// and return false unless that part decides the definition (a body that starts with a number or an
// identifier does, unless the identifier is all of it; one that is empty or starts with a
// quote or '<' does not). Returns true
// otherwise.
bool add_define_line(std::string_view logical,
                     uint32_t line,
                     MacroDefinitions& out,
                     bool truncated = false);

// Record a command-line definition `spec` as -D takes it ("NAME" or "NAME=body").
void add_command_line_define(std::string_view spec, MacroDefinitions& out);

// Sort and deduplicate the hash lists.
void finish_macro_definitions(MacroDefinitions& defs);

// Return whether `defs` defines `name` as `other` (by hash: a collision makes a scan give
// up, never miss a file).
bool defines_other(const MacroDefinitions& defs, uint32_t name_hash);
// Return whether `defs` defines `name` at all as an object-like macro (by hash).
bool defines_object_like(const MacroDefinitions& defs, std::string_view name, uint32_t name_hash);

// Return whether `name` is an identifier the compiler may predefine itself: reserved names
// (leading "__", or '_' and an upper-case letter, such as __FILE__) and the traditional
// system and machine names GCC and Clang define in GNU modes (unix, linux, i386, ...).
bool may_be_predefined(std::string_view name);

// Return whether `operand` (a computed include's operand as the lexer reports it) is a
// single identifier.
bool is_identifier(std::string_view operand);

// Return the identifiers in the header name `name` (of an <...> body): the compiler
// expands each one that is a macro.
std::vector<std::string_view> identifiers_in(std::string_view name);

} // namespace ccrex::depscan
