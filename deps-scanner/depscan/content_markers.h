#pragma once

// What a file's text says beyond its include directives that still decides what a compile
// reads or whether its output can be reused:
//
// - `__DATE__`, `__TIME__` and `__TIMESTAMP__` used as identifiers (not in comments or
//   literals): the object depends on when (or, for __TIMESTAMP__, on the source's mtime).
// - `#pragma GCC dependency "file"` (or the same text in a _Pragma string): the compiler
//   compares the file's mtime with the current file's and warns when it is newer.
// - `#pragma GCC pch_preprocess "file"` (written by -fpch-preprocess): reads a PCH.
// - The assembler's `.include "file"` and `.incbin "file"` (any letter case, as both GNU as
//   and LLVM accept), in code (assembly sources, .S files), in string literals (asm()
//   statements) and in comments (which count only for files the assembler reads itself).
//   A directive whose operand is not a plain quoted name is reported as computed.
// - The trigraphs ??= ('#') and ??/ ('\'): when the language standard in effect converts
//   trigraphs, they can make or hide directives (a ??/ ending a line splices it to the next,
//   even inside comments). The other trigraphs cannot.
//
// A quick search for the few byte sequences involved decides whether a file needs the
// slower token walk at all; most files need none.
//
// Thread safety: pure functions.

#include "depscan/directive_lexer.h"

#include <string_view>
#include <vector>

namespace ccrex::depscan {

// Append the markers of `text` (see above) to `out`, in text order, each kind of marker
// with its 1-based line. Trigraphs are reported once, at their first occurrence.
void find_content_markers(std::string_view text, std::vector<Directive>& out);

} // namespace ccrex::depscan
