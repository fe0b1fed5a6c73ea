#pragma once

// The second half of lexing: what one directive line says. directive_lexer.cpp finds the
// directive lines of a buffer and hands each over as a logical line (splices removed,
// comments replaced by a space, header names and literals verbatim); this file reads the
// directive's name and operands.
//
// Thread safety: pure functions.

#include "depscan/directive_lexer.h"

#include <cstdint>
#include <string_view>
#include <vector>

namespace ccrex::depscan {

// Append to `out` what the logical directive line `logical` (the text after its '#') on
// source line `line` names: the header of an #include, #include_next or #import (computed
// when it is not a literal), and every __has_include/__has_include_next operand of an #if,
// #elif or #define-like directive. Other directives append nothing.
void parse_directive_line(std::string_view logical, uint32_t line, std::vector<Directive>& out);

} // namespace ccrex::depscan
