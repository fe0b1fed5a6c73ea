#include "depscan/macro_definitions.h"

#include "depscan/byte_scan.h"

#include <algorithm>
#include <array>

namespace ccrex::depscan {
namespace {

using namespace bytes; // NOLINT(google-build-using-namespace): the lexer's own primitives

bool is_angle_char(char c) {
  return is_ident_char(c) || c == '.' || c == '/' || c == '-' || c == '+';
}

bool is_ident_start(char c) {
  return is_ident_char(c) && !is_digit(c);
}

// Record the object-like macro `name` with body `body` in `out`.
void add_definition(std::string_view name,
                    std::string_view body,
                    uint32_t line,
                    MacroDefinitions& out) {
  HeaderMacro m;
  switch (classify_macro_body(body, m.header, m.angled)) {
  case MacroBody::header:
    m.macro = std::string(name);
    m.line = line;
    out.header.push_back(std::move(m));
    break;
  case MacroBody::alias:
    out.alias.push_back(AliasMacro{std::string(name), std::move(m.header)});
    break;
  case MacroBody::other:
    out.other.push_back(macro_name_hash(name));
    break;
  case MacroBody::inert:
    out.inert.push_back(macro_name_hash(name));
    break;
  }
}

bool contains(const std::vector<uint32_t>& sorted, uint32_t value) {
  return std::binary_search(sorted.begin(), sorted.end(), value);
}

} // namespace

MacroBody classify_macro_body(std::string_view body, std::string& name, bool& angled) {
  body = trim_view(body);
  if (body.empty()) {
    return MacroBody::inert;
  }
  const char first = body.front();
  if (first == '"' || first == '<') {
    const char close = first == '"' ? '"' : '>';
    const std::string_view inner = body.substr(1, body.size() - 1);
    const size_t end = inner.find(close);
    if (end == 0 || end != inner.size() - 1) {
      return MacroBody::other; // empty, unterminated, or more tokens after it
    }
    const std::string_view header = inner.substr(0, end);
    const bool plain = first == '"' ? header.find('\\') == std::string_view::npos
                                    : std::all_of(header.begin(), header.end(), is_angle_char)
                                          && header.find("//") == std::string_view::npos
                                          && header.find("/*") == std::string_view::npos;
    if (!plain) {
      return MacroBody::other;
    }
    name = std::string(header);
    angled = first == '<';
    return MacroBody::header;
  }
  // An identifier may expand to anything; a backslash may start a universal character name
  // and a non-ASCII byte an extended identifier. A digit, '.', quote or other punctuator
  // starts a token that stays as it is, which no header name begins with.
  const auto u = static_cast<unsigned char>(first);
  if (is_ident_start(first) && std::all_of(body.begin(), body.end(), is_ident_char)) {
    name = std::string(body);
    angled = false;
    return MacroBody::alias;
  }
  if (is_ident_start(first) || first == '\\' || u >= 0x80) {
    return MacroBody::other;
  }
  return MacroBody::inert;
}

uint32_t macro_name_hash(std::string_view name) {
  uint32_t h = 2166136261U;
  for (const char c : name) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619U;
  }
  return h;
}

bool add_define_line(std::string_view logical,
                     uint32_t line,
                     MacroDefinitions& out,
                     bool truncated) {
  std::string_view rest = trim_view(logical);
  if (!rest.starts_with("define")) {
    return true;
  }
  rest.remove_prefix(6);
  if (rest.empty() || !is_space(rest.front())) {
    return !truncated || !rest.empty(); // "#defined", or no name: not a definition
  }
  rest = trim_view(rest);
  size_t n = 0;
  while (n < rest.size() && is_ident_char(rest[n])) {
    ++n;
  }
  if (n == 0 || is_digit(rest[0])) {
    return !truncated || n != 0; // an error the compiler reports
  }
  const std::string_view name = rest.substr(0, n);
  if (n < rest.size() && (rest[n] == '(' || !is_space(rest[n]))) {
    if (rest[n] == '(') {
      return true; // function-like
    }
    // A name followed directly by a non-identifier byte ("A+1", or a UCN or UTF-8 byte that
    // may continue the name): keep it as `other` unless it is plainly a punctuator.
    if (rest[n] == '\\' || static_cast<unsigned char>(rest[n]) >= 0x80) {
      out.other.push_back(macro_name_hash(name));
      return true;
    }
  }
  const std::string_view body = trim_view(rest.substr(n));
  if (truncated
      && (body.empty() || body.front() == '"' || body.front() == '<'
          || std::all_of(body.begin(), body.end(), is_ident_char))) {
    return false; // what follows the cut may still belong to the body
  }
  add_definition(name, body, line, out);
  return true;
}

void add_command_line_define(std::string_view spec, MacroDefinitions& out) {
  const size_t eq = spec.find('=');
  const std::string_view name = spec.substr(0, eq);
  if (name.empty() || name.find('(') != std::string_view::npos) {
    return; // function-like (or nothing): never expanded by a bare name
  }
  if (!std::all_of(name.begin(), name.end(), is_ident_char)) {
    out.other.push_back(macro_name_hash(name));
    return;
  }
  if (eq == std::string_view::npos) {
    out.inert.push_back(macro_name_hash(name)); // "-DNAME" defines it as 1
    return;
  }
  std::string_view body = spec.substr(eq + 1);
  body = body.substr(0, body.find('\n')); // the compiler keeps the first line only
  add_definition(name, body, 0, out);
}

void finish_macro_definitions(MacroDefinitions& defs) {
  for (std::vector<uint32_t>* list : {&defs.other, &defs.inert}) {
    std::sort(list->begin(), list->end());
    list->erase(std::unique(list->begin(), list->end()), list->end());
    list->shrink_to_fit();
  }
}

bool defines_other(const MacroDefinitions& defs, uint32_t name_hash) {
  return contains(defs.other, name_hash);
}

bool defines_object_like(const MacroDefinitions& defs, std::string_view name, uint32_t name_hash) {
  return contains(defs.other, name_hash) || contains(defs.inert, name_hash)
         || std::any_of(defs.header.begin(),
                        defs.header.end(),
                        [&](const HeaderMacro& m) { return m.macro == name; })
         || std::any_of(defs.alias.begin(), defs.alias.end(), [&](const AliasMacro& m) {
              return m.macro == name;
            });
}

bool may_be_predefined(std::string_view name) {
  if (name.size() >= 2 && name[0] == '_'
      && (name[1] == '_' || (name[1] >= 'A' && name[1] <= 'Z'))) {
    return true;
  }
  // Names GCC's and Clang's target descriptions define without underscores in GNU modes
  // (GCC's builtin_define_std and the older explicit ones), for any target.
  static constexpr auto k_traditional = std::to_array<std::string_view>({
      "AIX",        "BSD",          "LANGUAGE_C", "LANGUAGE_C_PLUS_PLUS",
      "MIPSEB",     "MIPSEL",       "PPC",        "R3000",
      "R4000",      "SYSTYPE_SVR4", "WIN32",      "WIN64",
      "WINNT",      "alpha",        "bsd4_2",     "bsd4_3",
      "bsd4_4",     "clipper",      "convex",     "host_mips",
      "hp9000",     "hp9000s200",   "hp9000s300", "hp9000s700",
      "hp9000s800", "hppa",         "i386",       "i486",
      "i586",       "i686",         "ibm",        "linux",
      "m68k",       "m88k",         "mc68000",    "mc68010",
      "mc68020",    "mips",         "ns16000",    "ns32000",
      "osf",        "pdp11",        "powerpc",    "ppc",
      "pyr",        "rs6000",       "sequent",    "sgi",
      "sparc",      "sun",          "tahoe",      "u3b",
      "u3b15",      "u3b2",         "u3b20",      "u3b5",
      "ultrix",     "unix",         "vax",
  });
  return std::find(k_traditional.begin(), k_traditional.end(), name) != k_traditional.end();
}

bool is_identifier(std::string_view operand) {
  return !operand.empty() && is_ident_start(operand.front())
         && std::all_of(operand.begin(), operand.end(), is_ident_char);
}

std::vector<std::string_view> identifiers_in(std::string_view name) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < name.size()) {
    if (!is_ident_char(name[i])) {
      ++i;
      continue;
    }
    const size_t start = i;
    while (i < name.size() && is_ident_char(name[i])) {
      ++i;
    }
    if (!is_digit(name[start])) {
      out.push_back(name.substr(start, i - start));
    }
  }
  return out;
}

} // namespace ccrex::depscan
