#include "depscan/directive_parse.h"

#include "depscan/byte_scan.h"

namespace ccrex::depscan {
namespace {

using namespace bytes; // NOLINT(google-build-using-namespace): the lexer's own primitives

// Parse a header-name operand at the start of `s` ("x.h" or <x.h>). On success fill
// `d.name`/`d.angled` and return the length consumed; return 0 when `s` holds no literal.
size_t parse_header_name(std::string_view s, Directive& d) {
  if (s.empty() || (s[0] != '<' && s[0] != '"')) {
    return 0;
  }
  const char close = s[0] == '<' ? '>' : '"';
  const size_t end = s.find(close, 1);
  if (end == std::string_view::npos || end == 1) {
    return 0;
  }
  d.angled = s[0] == '<';
  d.name = std::string(s.substr(1, end - 1));
  return end + 1;
}

// Find __has_include / __has_include_next invocations in a directive's operand text. A
// non-literal operand is reported as computed only when `allow_computed` (#if/#elif, where it
// decides a condition); in a #define it is a macro parameter and is ignored.
void scan_has_include(std::string_view rest,
                      bool allow_computed,
                      uint32_t line,
                      std::vector<Directive>& out) {
  size_t i = 0;
  while (i < rest.size()) {
    const char c = rest[i];
    if (c == '"' || c == '\'') {
      const size_t end = rest.find(c, i + 1);
      i = end == std::string_view::npos ? rest.size() : end + 1;
      continue;
    }
    if (!is_ident_char(c)) {
      ++i;
      continue;
    }
    const size_t start = i;
    while (i < rest.size() && is_ident_char(rest[i])) {
      ++i;
    }
    const std::string_view ident = rest.substr(start, i - start);
    if (ident != "__has_include" && ident != "__has_include_next") {
      continue;
    }
    size_t j = i;
    while (j < rest.size() && is_space(rest[j])) {
      ++j;
    }
    if (j >= rest.size() || rest[j] != '(') {
      continue;
    }
    ++j;
    while (j < rest.size() && is_space(rest[j])) {
      ++j;
    }
    Directive d;
    d.line = line;
    d.kind =
        ident == "__has_include" ? DirectiveKind::has_include : DirectiveKind::has_include_next;
    const size_t used = parse_header_name(rest.substr(j), d);
    if (used == 0) {
      if (allow_computed) {
        const size_t close = rest.find(')', j);
        d.computed = true;
        d.name = std::string(trim_view(
            rest.substr(j, close == std::string_view::npos ? std::string_view::npos : close - j)));
        out.push_back(std::move(d));
      }
      continue;
    }
    out.push_back(std::move(d));
    i = j + used;
  }
}

} // namespace

void parse_directive_line(std::string_view logical, uint32_t line, std::vector<Directive>& out) {
  std::string_view rest = logical;
  while (!rest.empty() && is_space(rest.front())) {
    rest.remove_prefix(1);
  }
  size_t name_len = 0;
  while (name_len < rest.size() && is_ident_char(rest[name_len])) {
    ++name_len;
  }
  const std::string_view name = rest.substr(0, name_len);
  rest.remove_prefix(name_len);
  Directive d;
  d.line = line;
  if (name == "include" || name == "include_next" || name == "import") {
    d.kind = name == "include"        ? DirectiveKind::include
             : name == "include_next" ? DirectiveKind::include_next
                                      : DirectiveKind::import;
    const std::string_view operand = trim_view(rest);
    if (parse_header_name(operand, d) == 0) {
      d.computed = true;
      d.name = std::string(operand);
    }
    out.push_back(std::move(d));
    return;
  }
  if (rest.find("__has_include") == std::string_view::npos) {
    return;
  }
  if (name == "if" || name == "elif") {
    scan_has_include(rest, true, line, out);
  } else if (name == "define" || name == "elifdef" || name == "elifndef" || name == "ifdef"
             || name == "ifndef") {
    scan_has_include(rest, false, line, out);
  }
}

std::string_view directive_kind_name(DirectiveKind kind) {
  switch (kind) {
  case DirectiveKind::include:
    return "include";
  case DirectiveKind::include_next:
    return "include_next";
  case DirectiveKind::import:
    return "import";
  case DirectiveKind::has_include:
    return "has_include";
  case DirectiveKind::has_include_next:
    return "has_include_next";
  case DirectiveKind::time_macro:
    return "time_macro";
  case DirectiveKind::pragma_dependency:
    return "pragma_dependency";
  case DirectiveKind::pragma_pch:
    return "pragma_pch";
  case DirectiveKind::asm_include:
    return "asm_include";
  case DirectiveKind::asm_incbin:
    return "asm_incbin";
  case DirectiveKind::trigraph:
    return "trigraph";
  }
  return "?";
}

std::string print_directives(const std::vector<Directive>& directives) {
  std::string out;
  for (const Directive& d : directives) {
    out.append(directive_kind_name(d.kind));
    out.push_back(' ');
    if (d.kind == DirectiveKind::time_macro || d.kind == DirectiveKind::trigraph) {
      out.append(d.name);
    } else if (d.computed) {
      out.append("computed(").append(d.name).append(")");
    } else {
      out.push_back(d.angled ? '<' : '"');
      out.append(d.name);
      out.push_back(d.angled ? '>' : '"');
    }
    if (d.in_comment) {
      out.append(" (comment)");
    }
    out.push_back('\n');
  }
  return out;
}

} // namespace ccrex::depscan
