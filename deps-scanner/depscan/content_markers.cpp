#include "depscan/content_markers.h"

#include "depscan/byte_scan.h"

#include <array>
#include <cstring>

#if defined(__SSE2__)
#  include <emmintrin.h>
#endif
#include <optional>
#include <string>
#include <utility>

namespace ccrex::depscan {
namespace {

using namespace bytes; // NOLINT(google-build-using-namespace): the lexer's own primitives

// The trigraphs that can change which directives a file has: ??= stands for '#' and ??/ for
// a backslash (a splice at the end of a line, even in a comment). The others stand for
// characters that cannot carry the lexer's state past the end of a line.
constexpr std::string_view k_trigraph_last = "=/";
constexpr size_t k_max_operand_text = 80; // of a computed operand, for messages

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Whether the '.' at `dot` may start ".inc..." in any letter case.
bool dot_starts_inc(std::string_view s, size_t dot) {
  return dot + 3 < s.size() && lower(s[dot + 1]) == 'i' && lower(s[dot + 2]) == 'n'
         && lower(s[dot + 3]) == 'c';
}

// Whether "GCC" at `pos` may be followed by a pragma name the walk reports. Blanks are
// skipped; a comment or splice there leaves the decision to the walk.
bool gcc_pragma_candidate(std::string_view s, size_t pos) {
  if (s.substr(pos, 3) != "GCC") {
    return false;
  }
  pos += 3;
  while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t')) {
    ++pos;
  }
  if (pos < s.size() && (s[pos] == '/' || s[pos] == '\\')) {
    return true;
  }
  const std::string_view rest = s.substr(pos);
  return rest.starts_with("dependency") || rest.starts_with("pch_preprocess");
}

// What the quick search found.
struct Candidates {
  bool walk = false;                        // a marker the token walk must look at
  size_t trigraph = std::string_view::npos; // position of the first trigraph
};

// Check the two-byte candidate at `pos` (one of "__", ".i" in any case, "??", "GC").
void check_candidate(std::string_view s, size_t pos, Candidates& c) {
  switch (s[pos]) {
  case '_':
    c.walk = c.walk || s.substr(pos).starts_with("__DATE__") || s.substr(pos).starts_with("__TIME");
    break;
  case '.':
    c.walk = c.walk || dot_starts_inc(s, pos);
    break;
  case '?':
    if (c.trigraph == std::string_view::npos && pos + 2 < s.size()
        && k_trigraph_last.find(s[pos + 2]) != std::string_view::npos) {
      c.trigraph = pos;
    }
    break;
  default:
    c.walk = c.walk || gcc_pragma_candidate(s, pos);
    break;
  }
}

bool is_candidate_pair(char a, char b) {
  return (a == '_' && b == '_') || (a == '.' && lower(b) == 'i') || (a == '?' && b == '?')
         || (a == 'G' && b == 'C');
}

// One pass over `text` for the first bytes of every marker (16 positions at a time where SSE2
// is there: "__DA", "__TI", ".i" in any case, "??", "GC"), each hit checked in place. Stops
// once the walk is needed and a trigraph was seen.
Candidates find_candidates(std::string_view text) {
  Candidates c;
  const char* const p = text.data();
  const size_t n = text.size();
  size_t i = 0;
#if defined(__SSE2__)
  const auto splat = [](char ch) { return _mm_set1_epi8(ch); };
  const auto eq = [](__m128i v, __m128i w) { return _mm_cmpeq_epi8(v, w); };
  const __m128i underscore = splat('_');
  const __m128i dot = splat('.');
  const __m128i letter_i = splat('i');
  const __m128i case_bit = splat(0x20);
  const __m128i question = splat('?');
  const __m128i upper_g = splat('G');
  const __m128i upper_c = splat('C');
  const __m128i upper_d = splat('D');
  const __m128i upper_a = splat('A');
  const __m128i upper_t = splat('T');
  const __m128i upper_i = splat('I');
  for (; i + 19 <= n; i += 16) {
    const __m128i b0 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const __m128i b1 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + 1));
    __m128i hit = _mm_or_si128(_mm_and_si128(eq(b0, dot), eq(_mm_or_si128(b1, case_bit), letter_i)),
                               _mm_or_si128(_mm_and_si128(eq(b0, question), eq(b1, question)),
                                            _mm_and_si128(eq(b0, upper_g), eq(b1, upper_c))));
    // "__" is everywhere in system headers: look two bytes further before calling it a hit.
    const __m128i pair = _mm_and_si128(eq(b0, underscore), eq(b1, underscore));
    if (_mm_movemask_epi8(pair) != 0) {
      const __m128i b2 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + 2));
      const __m128i b3 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + 3));
      const __m128i word = _mm_or_si128(_mm_and_si128(eq(b2, upper_d), eq(b3, upper_a)),
                                        _mm_and_si128(eq(b2, upper_t), eq(b3, upper_i)));
      hit = _mm_or_si128(hit, _mm_and_si128(pair, word));
    }
    auto mask = static_cast<unsigned>(_mm_movemask_epi8(hit));
    while (mask != 0) {
      check_candidate(text, i + static_cast<size_t>(__builtin_ctz(mask)), c);
      mask &= mask - 1;
    }
    if (c.walk && c.trigraph != std::string_view::npos) {
      return c;
    }
  }
#endif
  for (; i + 1 < n; ++i) {
    if (is_candidate_pair(p[i], p[i + 1])) {
      check_candidate(text, i, c);
    }
  }
  return c;
}

// If the '.' at `dot` in `s` starts the assembler directive .include or .incbin (any case,
// a whole word, not a member access such as `x.include`), return its kind and set `end` to
// the position after the name.
std::optional<DirectiveKind> asm_directive_at(std::string_view s, size_t dot, size_t& end) {
  if (!dot_starts_inc(s, dot)) {
    return std::nullopt;
  }
  if (dot > 0 && (is_ident_char(s[dot - 1]) || s[dot - 1] == ')' || s[dot - 1] == ']')) {
    return std::nullopt;
  }
  static constexpr std::array<std::pair<std::string_view, DirectiveKind>, 2> k_words = {{
      {"include", DirectiveKind::asm_include},
      {"incbin", DirectiveKind::asm_incbin},
  }};
  for (const auto& [word, kind] : k_words) {
    const size_t after = dot + 1 + word.size();
    if (after > s.size() || (after < s.size() && is_ident_char(s[after]))) {
      continue;
    }
    bool same = true;
    for (size_t k = 0; k < word.size() && same; ++k) {
      same = lower(s[dot + 1 + k]) == word[k];
    }
    if (same) {
      end = after;
      return kind;
    }
  }
  return std::nullopt;
}

// Fill `d` from the operand that starts at `pos` in `s`: blanks, then a quoted name holding
// no backslash (<name> too when `angled_ok`). Anything else is computed, named by its text.
void read_operand(std::string_view s, size_t pos, bool angled_ok, Directive& d) {
  while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t')) {
    ++pos;
  }
  if (pos < s.size() && (s[pos] == '"' || (angled_ok && s[pos] == '<'))) {
    const char close = s[pos] == '"' ? '"' : '>';
    const char stops[] = {close, '\\', '\n', '\0'};
    const size_t end = s.find_first_of(stops, pos + 1);
    if (end != std::string_view::npos && s[end] == close && end > pos + 1) {
      d.angled = close == '>';
      d.name = std::string(s.substr(pos + 1, end - pos - 1));
      return;
    }
  }
  d.computed = true;
  const size_t stop = std::min(s.find('\n', pos), std::min(s.size(), pos + k_max_operand_text));
  d.name = std::string(trim_view(s.substr(pos, stop - pos)));
}

// The token walk: C and C++ comments, literals (raw strings too), splices, identifiers.
class MarkerWalk {
public:
  MarkerWalk(std::string_view text, std::vector<Directive>& out) : m_text(text), m_out(out) {}

  void run();

private:
  char at(size_t i) const { return i < m_text.size() ? m_text[i] : '\0'; }
  size_t splice_length(size_t i) const;
  size_t skip_splices(size_t i);
  void line_comment(size_t body);
  void block_comment(size_t body);
  void string_literal();
  bool raw_string();
  void char_literal();
  void identifier();
  void pragma_after_gcc(std::string_view s, size_t pos, uint32_t line);
  void asm_in_code();
  void scan_text(std::string_view s, uint32_t line, bool in_comment);
  void add(DirectiveKind kind, uint32_t line, std::string name) {
    Directive d;
    d.kind = kind;
    d.line = line;
    d.name = std::move(name);
    m_out.push_back(std::move(d));
  }

  std::string_view m_text;
  std::vector<Directive>& m_out;
  size_t m_pos = 0;
  uint32_t m_line = 1;
};

size_t MarkerWalk::splice_length(size_t i) const {
  return bytes::splice_length(m_text, i);
}

size_t MarkerWalk::skip_splices(size_t i) {
  while (const size_t n = splice_length(i)) {
    i += n;
    ++m_line;
  }
  return i;
}

void MarkerWalk::run() {
  const size_t n = m_text.size();
  while (m_pos < n) {
    const char c = m_text[m_pos];
    if (c == '\n') {
      ++m_line;
      ++m_pos;
    } else if (c == '\\') {
      const size_t len = splice_length(m_pos);
      m_pos += len != 0 ? len : 1;
      m_line += len != 0 ? 1 : 0;
    } else if (c == '/') {
      const size_t j = skip_splices(m_pos + 1);
      if (at(j) == '/') {
        line_comment(j + 1);
      } else if (at(j) == '*') {
        block_comment(j + 1);
      } else {
        m_pos = j;
      }
    } else if (c == '"') {
      string_literal();
    } else if (c == '\'') {
      char_literal();
    } else if (c == '.') {
      asm_in_code();
    } else if (is_ident_char(c)) {
      identifier();
    } else {
      ++m_pos;
    }
  }
}

// `body` is just after "//": the comment runs to the first newline not ended by a splice.
void MarkerWalk::line_comment(size_t body) {
  const uint32_t line = m_line;
  size_t end = body;
  for (;;) {
    end = m_text.find('\n', end);
    if (end == std::string_view::npos) {
      end = m_text.size();
      break;
    }
    size_t j = end;
    while (j > body && (m_text[j - 1] == ' ' || m_text[j - 1] == '\t' || m_text[j - 1] == '\r')) {
      --j;
    }
    if (j == body || m_text[j - 1] != '\\') {
      break;
    }
    ++m_line;
    ++end;
  }
  scan_text(m_text.substr(body, end - body), line, true);
  m_pos = end;
}

// `body` is just after "/*".
void MarkerWalk::block_comment(size_t body) {
  const uint32_t line = m_line;
  size_t end = m_text.find("*/", body);
  end = end == std::string_view::npos ? m_text.size() : end;
  const std::string_view comment = m_text.substr(body, end - body);
  scan_text(comment, line, true);
  m_line += count_newlines(comment.data(), comment.data() + comment.size());
  m_pos = std::min(end + 2, m_text.size());
}

// m_pos is on '"': read the literal (escapes of quotes, backslashes, tabs and newlines
// decoded; splices removed) and look inside it.
void MarkerWalk::string_literal() {
  if (raw_string()) {
    return;
  }
  const uint32_t line = m_line;
  std::string content;
  ++m_pos;
  while (m_pos < m_text.size()) {
    const char c = m_text[m_pos];
    if (c == '"') {
      ++m_pos;
      break;
    }
    if (c == '\n') {
      break;
    }
    if (c == '\\') {
      if (const size_t len = splice_length(m_pos)) {
        m_pos += len;
        ++m_line;
        continue;
      }
      const char e = at(m_pos + 1);
      if (e == '\n' || m_pos + 1 >= m_text.size()) {
        content.push_back(c);
        ++m_pos;
        continue;
      }
      if (e == '"' || e == '\\' || e == '\'') {
        content.push_back(e);
      } else if (e == 'n') {
        content.push_back('\n');
      } else if (e == 't') {
        content.push_back('\t');
      } else {
        content.push_back(c);
        content.push_back(e);
      }
      m_pos += 2;
      continue;
    }
    content.push_back(c);
    ++m_pos;
  }
  scan_text(content, line, false);
}

// m_pos is on '"'. If an R prefix (R, u8R, uR, UR, LR) precedes it and a valid delimiter
// follows, consume the raw string, look inside it and return true.
bool MarkerWalk::raw_string() {
  const auto raw = raw_string_at(m_text, m_pos);
  if (!raw) {
    return false;
  }
  const std::string_view content = m_text.substr(raw->open + 1, raw->end - raw->open - 1);
  scan_text(content, m_line, false);
  m_line += count_newlines(content.data(), content.data() + content.size());
  m_pos = raw->stop;
  return true;
}

// m_pos is on '\'' that is not a digit separator (identifier() consumes those).
void MarkerWalk::char_literal() {
  ++m_pos;
  while (m_pos < m_text.size()) {
    const char c = m_text[m_pos];
    if (c == '\'') {
      ++m_pos;
      return;
    }
    if (c == '\n') {
      return;
    }
    if (c == '\\') {
      if (const size_t len = splice_length(m_pos)) {
        m_pos += len;
        ++m_line;
        continue;
      }
      m_pos += at(m_pos + 1) == '\n' ? 1 : 2;
      continue;
    }
    ++m_pos;
  }
}

// m_pos is on an identifier character: consume an identifier or a preprocessing number
// (with its '.', exponent signs and digit separators).
void MarkerWalk::identifier() {
  const size_t start = m_pos;
  if (is_digit(m_text[m_pos])) {
    ++m_pos;
    while (m_pos < m_text.size()) {
      const char c = m_text[m_pos];
      const char prev = m_text[m_pos - 1];
      if (is_ident_char(c) || c == '.'
          || ((c == '+' || c == '-') && (lower(prev) == 'e' || lower(prev) == 'p'))
          || (c == '\'' && is_ident_char(at(m_pos + 1)))) {
        ++m_pos;
      } else {
        break;
      }
    }
    return;
  }
  while (m_pos < m_text.size() && is_ident_char(m_text[m_pos])) {
    ++m_pos;
  }
  const std::string_view word = m_text.substr(start, m_pos - start);
  if (word == "__DATE__" || word == "__TIME__" || word == "__TIMESTAMP__") {
    add(DirectiveKind::time_macro, m_line, std::string(word));
  } else if (word == "GCC") {
    pragma_after_gcc(m_text, m_pos, m_line);
  }
}

// `pos` follows the word GCC in `s`: report `dependency` and `pch_preprocess` pragmas.
void MarkerWalk::pragma_after_gcc(std::string_view s, size_t pos, uint32_t line) {
  while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t')) {
    ++pos;
  }
  const size_t start = pos;
  while (pos < s.size() && is_ident_char(s[pos])) {
    ++pos;
  }
  const std::string_view word = s.substr(start, pos - start);
  if (word != "dependency" && word != "pch_preprocess") {
    return;
  }
  Directive d;
  d.kind = word == "dependency" ? DirectiveKind::pragma_dependency : DirectiveKind::pragma_pch;
  d.line = line;
  read_operand(s, pos, true, d);
  m_out.push_back(std::move(d));
}

// m_pos is on a '.' in code.
void MarkerWalk::asm_in_code() {
  size_t end = 0;
  if (const auto kind = asm_directive_at(m_text, m_pos, end)) {
    Directive d;
    d.kind = *kind;
    d.line = m_line;
    read_operand(m_text, end, false, d);
    m_out.push_back(std::move(d));
    m_pos = end;
    return;
  }
  ++m_pos;
}

// Look for assembler directives in the text of a literal or a comment, and for GCC pragmas
// in a literal (the operand of _Pragma).
void MarkerWalk::scan_text(std::string_view s, uint32_t line, bool in_comment) {
  for (size_t i = s.find('.'); i != std::string_view::npos; i = s.find('.', i + 1)) {
    size_t end = 0;
    if (const auto kind = asm_directive_at(s, i, end)) {
      Directive d;
      d.kind = *kind;
      d.line = line;
      d.in_comment = in_comment;
      read_operand(s, end, false, d);
      m_out.push_back(std::move(d));
    }
  }
  if (in_comment) {
    return;
  }
  for (size_t i = s.find("GCC"); i != std::string_view::npos; i = s.find("GCC", i + 1)) {
    if ((i == 0 || !is_ident_char(s[i - 1])) && !is_ident_char(i + 3 < s.size() ? s[i + 3] : ' ')) {
      pragma_after_gcc(s, i + 3, line);
    }
  }
}

} // namespace

void find_content_markers(std::string_view text, std::vector<Directive>& out) {
  const Candidates c = find_candidates(text);
  if (c.trigraph != std::string_view::npos) {
    Directive d;
    d.kind = DirectiveKind::trigraph;
    d.line = 1 + count_newlines(text.data(), text.data() + c.trigraph);
    d.name = std::string(text.substr(c.trigraph, 3));
    out.push_back(std::move(d));
  }
  if (c.walk) {
    MarkerWalk(text, out).run();
  }
}

} // namespace ccrex::depscan
