#include "depscan/directive_lexer.h"

#include "depscan/byte_scan.h"
#include "depscan/content_markers.h"
#include "depscan/directive_parse.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace ccrex::depscan {
namespace {

using namespace bytes; // NOLINT(google-build-using-namespace): the lexer's own primitives

// What a directive's name says about the directive, before its line is read.
enum class DirectiveClass : uint8_t {
  irrelevant,           // cannot name a header (#pragma, #endif, #undef, # 1 "x.h", ...)
  may_test_has_include, // #if, #elif, #ifdef, ...: matters only if __has_include occurs
  define,               // #define: a macro definition, maybe with __has_include
  general,              // an include-like directive, or a name the quick look cannot read
};

// Scans one buffer. Positions are byte offsets into m_text; m_line is the current physical
// line (1-based).
class Lexer {
public:
  explicit Lexer(std::string_view text) : m_text(text) {}

  LexedFile run();

private:
  char at(size_t i) const { return i < m_text.size() ? m_text[i] : '\0'; }
  size_t splice_length(size_t i) const;
  size_t skip_splices(size_t i);
  void skip_line_comment();
  void skip_block_comment();
  void skip_quoted(char quote);
  bool try_skip_raw_string();
  bool is_digit_separator() const;
  void lex_directive(size_t after_hash, uint32_t line);
  void lex_define(size_t after_hash, uint32_t line);
  DirectiveClass classify_directive(size_t after_hash) const;
  bool may_hold_has_include(size_t begin, size_t end, bool spans_lines) const;
  void skip_logical_line();
  bool skip_plain_lines();
  std::string read_logical_line();
  bool read_header_name_verbatim(std::string& out, const std::string& so_far);

  std::string_view m_text;
  size_t m_pos = 0;
  uint32_t m_line = 1;
  // skip_plain_lines() tries skip_plain_block() only from here on: a block starting before
  // it would contain a byte that made the last try fail.
  size_t m_block_retry = 0;
  std::vector<Directive> m_out;
  MacroDefinitions m_macros;
};

// Return the length of a backslash-newline splice starting at `i` (a backslash, optional
// horizontal space as GCC and Clang accept with a warning, an optional CR, then LF), or 0.
size_t Lexer::splice_length(size_t i) const {
  return bytes::splice_length(m_text, i);
}

// Return the first position at or after `i` that does not start a splice, counting lines.
size_t Lexer::skip_splices(size_t i) {
  while (const size_t n = splice_length(i)) {
    i += n;
    ++m_line;
  }
  return i;
}

// m_pos is just after "//". Stop at the newline that ends the logical line (not consumed).
void Lexer::skip_line_comment() {
  for (;;) {
    const size_t nl_pos = find_byte(m_text.data(), m_pos, m_text.size(), '\n');
    if (nl_pos == m_text.size()) {
      m_pos = nl_pos;
      return;
    }
    size_t j = nl_pos;
    while (j > m_pos && (m_text[j - 1] == ' ' || m_text[j - 1] == '\t' || m_text[j - 1] == '\r')) {
      --j;
    }
    if (j > m_pos && m_text[j - 1] == '\\') {
      ++m_line;
      m_pos = nl_pos + 1;
      continue;
    }
    m_pos = nl_pos;
    return;
  }
}

// m_pos is just after "/*". Consume through the closing "*/" (splices may sit between them).
// Comments are mostly prose with a '*' on every line, so search for the rarer '/' and look
// back (over splices) for the '*' before it; that '*' must lie inside the comment, so "/*/"
// does not close.
void Lexer::skip_block_comment() {
  const char* const base = m_text.data();
  const size_t n = m_text.size();
  const size_t body = m_pos;
  size_t from = body + 1;
  while (from < n) {
    const void* hit = std::memchr(base + from, '/', n - from);
    if (hit == nullptr) {
      break;
    }
    const size_t slash = static_cast<size_t>(static_cast<const char*>(hit) - base);
    size_t k = slash; // one past the character that precedes the '/' once splices are removed
    while (k > body && base[k - 1] == '\n') {
      size_t b = k - 1;
      while (b > body && (base[b - 1] == ' ' || base[b - 1] == '\t' || base[b - 1] == '\r')) {
        --b;
      }
      if (b == body || base[b - 1] != '\\') {
        break;
      }
      k = b - 1;
    }
    if (k > body && base[k - 1] == '*') {
      m_line += count_newlines(base + body, base + slash);
      m_pos = slash + 1;
      return;
    }
    from = slash + 1;
  }
  m_line += count_newlines(base + body, base + n);
  m_pos = n;
}

// m_pos is on the opening quote. Stop after the closing quote or at an unspliced newline.
void Lexer::skip_quoted(char quote) {
  ++m_pos;
  while (m_pos < m_text.size()) {
    const char c = m_text[m_pos];
    if (c == quote) {
      ++m_pos;
      return;
    }
    if (c == '\n') {
      return;
    }
    if (c == '\\') {
      if (const size_t n = splice_length(m_pos)) {
        m_pos += n;
        ++m_line;
        continue;
      }
      // An escape covers the next byte, unless that is the newline or the end of the text.
      m_pos += m_pos + 1 < m_text.size() && m_text[m_pos + 1] != '\n' ? 2 : 1;
      continue;
    }
    ++m_pos;
  }
}

// m_pos is on a '"'. If an R, u8R, uR, UR or LR prefix precedes it and a valid delimiter
// follows, consume the whole raw string and return true.
bool Lexer::try_skip_raw_string() {
  const auto raw = raw_string_at(m_text, m_pos);
  if (!raw) {
    return false;
  }
  for (size_t i = m_pos; i < raw->stop; ++i) {
    m_line += m_text[i] == '\n' ? 1 : 0;
  }
  m_pos = raw->stop;
  return true;
}

// m_pos is on a '\''. Return whether it separates digits of a number (1'000).
bool Lexer::is_digit_separator() const {
  size_t j = m_pos;
  while (j > 0 && (is_ident_char(m_text[j - 1]) || m_text[j - 1] == '.')) {
    --j;
  }
  return j < m_pos && (is_digit(m_text[j]) || (m_text[j] == '.' && is_digit(at(j + 1))));
}

LexedFile Lexer::run() {
  bool at_line_start = true;
  const size_t n = m_text.size();
  while (m_pos < n) {
    const char c = m_text[m_pos];
    switch (c) {
    case '\n':
      at_line_start = skip_plain_lines();
      break;
    case ' ':
    case '\t':
    case '\r':
    case '\f':
    case '\v':
      ++m_pos;
      m_pos = skip_blanks(m_text.data(), m_pos, n);
      break;
    case '\\':
      if (splice_length(m_pos) != 0) {
        m_pos = skip_splices(m_pos);
      } else {
        ++m_pos;
        at_line_start = false;
      }
      break;
    case '/': {
      const size_t j = skip_splices(m_pos + 1);
      if (at(j) == '/') {
        m_pos = j + 1;
        skip_line_comment();
      } else if (at(j) == '*') {
        m_pos = j + 1;
        skip_block_comment();
      } else {
        m_pos = j;
        at_line_start = false;
      }
      break;
    }
    case '#':
      if (at_line_start) {
        lex_directive(m_pos + 1, m_line);
      } else {
        ++m_pos;
      }
      break;
    case '%': {
      // Splices between '%' and ':' are consumed (and counted) once, whatever follows.
      const uint32_t line = m_line;
      const size_t j = skip_splices(m_pos + 1);
      if (at_line_start && at(j) == ':') {
        lex_directive(j + 1, line);
      } else {
        m_pos = j;
        at_line_start = false;
      }
      break;
    }
    case '"':
      if (!try_skip_raw_string()) {
        skip_quoted('"');
      }
      at_line_start = false;
      break;
    case '\'':
      if (is_digit_separator()) {
        ++m_pos;
      } else {
        skip_quoted('\'');
      }
      at_line_start = false;
      break;
    default:
      m_pos = skip_ordinary(m_text.data(), m_pos + 1, n);
      at_line_start = skip_plain_lines();
      break;
    }
  }
  finish_macro_definitions(m_macros);
  return LexedFile{std::move(m_out), std::move(m_macros)};
}

// Characters the main loop must see when they start a line (after indentation): everything
// run()'s switch does not send to its `default` case.
constexpr std::array<bool, 256> make_line_start_table() {
  std::array<bool, 256> t{};
  for (const unsigned char c :
       {'\n', ' ', '\t', '\r', '\f', '\v', '\\', '/', '#', '%', '"', '\''}) {
    t[c] = true;
  }
  return t;
}
constexpr std::array<bool, 256> k_line_start = make_line_start_table();

// While m_pos is on a newline: consume it and the next line's indentation, then, if the line
// goes on with ordinary code, skip to its next special character, or if it goes on with a
// // comment, skip that. Most lines are handled here without a dispatch in run(). Return
// whether m_pos is left at the start of a line (on a character run() must dispatch, or at
// the end of the text after a newline); false when it is left in the middle of a line.
bool Lexer::skip_plain_lines() {
  const char* const text = m_text.data();
  const size_t n = m_text.size();
  bool line_start = false;
  while (m_pos < n && text[m_pos] == '\n') {
    if (m_pos >= m_block_retry) {
      const PlainBlock block = skip_plain_block(text, m_pos, n);
      m_block_retry = m_pos + block.retry_at;
      if (block.advance != 0) {
        m_line += block.lines;
        m_pos += block.advance; // on a newline again
        continue;
      }
    }
    ++m_line;
    m_pos = skip_blanks(text, m_pos + 1, n);
    line_start = true;
    if (m_pos >= n) {
      break;
    }
    const char c = text[m_pos];
    if (!k_line_start[static_cast<unsigned char>(c)]) {
      // What run()'s default case does.
      m_pos = skip_ordinary(text, m_pos + 1, n);
      line_start = false;
    } else if (c == '/' && m_pos + 1 < n && text[m_pos + 1] == '/') {
      m_pos += 2;
      skip_line_comment(); // stops at the newline that ends the line, or at the end
      line_start = false;
    } else if (c != '\n') {
      return true;
    }
  }
  return line_start;
}

// `line` is the line of the '#' (or '%'); m_line may be further on after splices.
void Lexer::lex_directive(size_t after_hash, uint32_t line) {
  const DirectiveClass kind = classify_directive(after_hash);
  if (kind == DirectiveClass::define) {
    lex_define(after_hash, line);
    return;
  }
  if (kind != DirectiveClass::general) {
    // Most other directives are #if, #endif, ...: skip them without building their text,
    // unless __has_include may occur in them.
    const uint32_t start_line = m_line;
    m_pos = after_hash;
    skip_logical_line();
    if (kind == DirectiveClass::irrelevant
        || !may_hold_has_include(after_hash, m_pos, m_line != start_line)) {
      return;
    }
    m_line = start_line;
  }
  m_pos = after_hash;
  // Most directive lines have no splice and no comment: then the raw bytes up to the newline
  // are the logical line and need no copy. Otherwise build the cleaned line.
  const size_t end = find_byte(m_text.data(), m_pos, m_text.size(), '\n');
  const std::string_view raw = m_text.substr(m_pos, end - m_pos);
  if (raw.find('\\') == std::string_view::npos && raw.find("//") == std::string_view::npos
      && raw.find("/*") == std::string_view::npos) {
    m_pos = end;
    parse_directive_line(raw, line, m_out);
    add_define_line(raw, line, m_macros);
    return;
  }
  const std::string logical = read_logical_line();
  parse_directive_line(logical, line, m_out);
  add_define_line(logical, line, m_macros); // "#/**/define ..." comes this way
}

// A #define: its definition, and any __has_include in it. The line is found as for other
// directives; only a line with a splice or a comment is copied to clean it.
void Lexer::lex_define(size_t after_hash, uint32_t line) {
  const uint32_t start_line = m_line;
  m_pos = after_hash;
  skip_logical_line();
  const std::string_view raw = m_text.substr(after_hash, m_pos - after_hash);
  // Without __has_include, the part before the first comment or backslash usually decides
  // (`#define X 1 /* ... */`, `#define F(x) \`): copying a line to clean it is the slow part.
  if (!may_hold_has_include(after_hash, m_pos, m_line != start_line)) {
    const size_t cut = std::min({raw.find("//"), raw.find("/*"), raw.find('\\')});
    if (add_define_line(raw.substr(0, cut), line, m_macros, cut != std::string_view::npos)) {
      return;
    }
  }
  const size_t end = m_pos;
  const uint32_t end_line = m_line;
  m_pos = after_hash;
  m_line = start_line;
  const std::string logical = read_logical_line();
  // read_logical_line stops where skip_logical_line did (see skip_logical_line).
  m_pos = end;
  m_line = end_line;
  parse_directive_line(logical, line, m_out);
  add_define_line(logical, line, m_macros);
}

// Read the directive name that starts after the '#' at `after_hash` as parse_directive would
// see it in the logical line (splices removed) and classify it. A '/' before the name (maybe a
// comment) makes the answer `general`. Changes nothing.
DirectiveClass Lexer::classify_directive(size_t after_hash) const {
  size_t i = after_hash;
  for (;;) {
    if (is_space(at(i))) {
      ++i;
    } else if (const size_t n = splice_length(i)) {
      i += n;
    } else {
      break;
    }
  }
  if (at(i) == '/') {
    return DirectiveClass::general;
  }
  constexpr size_t k_max_name = 16; // longer than any name classified below
  std::array<char, k_max_name> buf{};
  size_t len = 0;
  for (;;) {
    const char c = at(i);
    if (is_ident_char(c)) {
      if (len < k_max_name) {
        buf[len] = c;
      }
      ++len;
      ++i;
    } else if (const size_t n = splice_length(i)) {
      i += n;
    } else {
      break;
    }
  }
  if (len > k_max_name) {
    return DirectiveClass::irrelevant;
  }
  const std::string_view name(buf.data(), len);
  if (name == "include" || name == "include_next" || name == "import") {
    return DirectiveClass::general;
  }
  if (name == "define") {
    return DirectiveClass::define;
  }
  if (name == "if" || name == "elif" || name == "ifdef" || name == "ifndef" || name == "elifdef"
      || name == "elifndef") {
    return DirectiveClass::may_test_has_include;
  }
  return DirectiveClass::irrelevant;
}

// Return whether the logical line whose raw bytes are [begin, end) may contain
// "__has_include": the bytes contain it, or a splice joins two identifier characters (and so
// may join the pieces of one). Removing comments cannot create the word. `spans_lines` is
// false when the bytes hold no newline, hence no splice.
bool Lexer::may_hold_has_include(size_t begin, size_t end, bool spans_lines) const {
  end = std::min(end, m_text.size());
  begin = std::min(begin, end);
  const char* const base = m_text.data();
  if (contains_has_include(base + begin, end - begin, m_text.size() - begin)) {
    return true;
  }
  if (!spans_lines) {
    return false;
  }
  for (size_t i = begin; i < end;) {
    const void* hit = std::memchr(base + i, '\\', end - i);
    if (hit == nullptr) {
      return false;
    }
    const size_t k = static_cast<size_t>(static_cast<const char*>(hit) - base);
    size_t after = k;
    while (const size_t n = splice_length(after)) {
      after += n;
    }
    if (after != k && k > begin && is_ident_char(base[k - 1]) && is_ident_char(at(after))) {
      return true;
    }
    i = after == k ? k + 1 : after;
  }
  return false;
}

// Consume the rest of a directive line from m_pos exactly as read_logical_line does (same
// end, same line count) without building its text. Not for include-like directives, whose
// header names read_logical_line copies verbatim.
void Lexer::skip_logical_line() {
  const size_t n = m_text.size();
  for (;;) {
    m_pos = skip_ordinary(m_text.data(), m_pos, n);
    if (m_pos >= n) {
      return;
    }
    const char c = m_text[m_pos];
    if (c == '\n') {
      return;
    }
    if (c == '\\') {
      m_pos = splice_length(m_pos) != 0 ? skip_splices(m_pos) : m_pos + 1;
    } else if (c == '/') {
      const size_t j = skip_splices(m_pos + 1);
      if (at(j) == '/') {
        m_pos = j + 1;
        skip_line_comment();
        return;
      }
      if (at(j) == '*') {
        m_pos = j + 1;
        skip_block_comment();
      } else {
        m_pos = j;
      }
    } else if (c == '"' || !is_digit_separator()) {
      skip_quoted(c);
    } else {
      ++m_pos; // a digit separator
    }
  }
}

// Return whether `so_far` (a logical directive line without its '#') is exactly an
// include-like directive name followed by space, so that a following '<' opens a header name.
bool expects_header_name(const std::string& so_far) {
  const std::string_view t = trim_view(so_far);
  return t == "include" || t == "include_next" || t == "import";
}

// m_pos is on '<' that opens a header name: copy it through '>' without comment processing.
bool Lexer::read_header_name_verbatim(std::string& out, const std::string& so_far) {
  if (!expects_header_name(so_far)) {
    return false;
  }
  while (m_pos < m_text.size()) {
    if (const size_t n = splice_length(m_pos)) {
      m_pos += n;
      ++m_line;
      continue;
    }
    const char c = m_text[m_pos];
    if (c == '\n') {
      return true;
    }
    out.push_back(c);
    ++m_pos;
    if (c == '>') {
      return true;
    }
  }
  return true;
}

// Read the rest of a directive line from m_pos: splices removed, comments replaced by one
// space, literals copied. Stops at (without consuming) the newline that ends it.
std::string Lexer::read_logical_line() {
  std::string out;
  while (m_pos < m_text.size()) {
    const char c = m_text[m_pos];
    if (c == '\n') {
      break;
    }
    if (c == '\\' && splice_length(m_pos) != 0) {
      m_pos = skip_splices(m_pos);
      continue;
    }
    if (c == '/') {
      const size_t j = skip_splices(m_pos + 1);
      if (at(j) == '/') {
        m_pos = j + 1;
        skip_line_comment();
        break;
      }
      if (at(j) == '*') {
        m_pos = j + 1;
        skip_block_comment();
        out.push_back(' ');
        continue;
      }
      // Not a comment: the splices after '/' were counted, so consume them too.
      out.push_back(c);
      m_pos = j;
      continue;
    }
    if (c == '<' && read_header_name_verbatim(out, out)) {
      continue;
    }
    if (c == '"' || (c == '\'' && !is_digit_separator())) {
      const size_t start = m_pos;
      const uint32_t start_line = m_line;
      skip_quoted(c);
      std::string_view piece = m_text.substr(start, m_pos - start);
      if (m_line != start_line) {
        // The literal had splices: copy it without them.
        for (size_t i = 0; i < piece.size(); ++i) {
          const size_t n = splice_length(start + i);
          if (n != 0) {
            i += n - 1;
          } else {
            out.push_back(piece[i]);
          }
        }
      } else {
        out.append(piece);
      }
      continue;
    }
    out.push_back(c);
    ++m_pos;
  }
  return out;
}

} // namespace

LexedFile lex_file(std::string_view text) {
  LexedFile lexed = Lexer(text).run();
  std::vector<Directive>& out = lexed.directives;
  const size_t directives = out.size();
  find_content_markers(text, out);
  if (out.size() != directives) {
    std::stable_sort(out.begin(), out.end(), [](const Directive& a, const Directive& b) {
      return a.line < b.line;
    });
  }
  return lexed;
}

std::vector<Directive> lex_directives(std::string_view text) {
  return lex_file(text).directives;
}

} // namespace ccrex::depscan
