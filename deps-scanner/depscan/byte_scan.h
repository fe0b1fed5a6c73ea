#pragma once

// Byte-level scanning primitives of the directive lexer: character classes and the fast
// skips over ordinary text, blanks and newlines (16 bytes at a time where SSE2 is there).
// Header-only so the lexer's inner loops inline them.
//
// Thread safety: pure functions.

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#if defined(__SSE2__)
#  include <emmintrin.h>
#endif

namespace ccrex::depscan::bytes {

constexpr bool is_ident_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'
         || c == '$';
}

constexpr bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

constexpr bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

// Characters that end the fast skip over ordinary code in the middle of a line.
constexpr std::array<bool, 256> make_special_table() {
  std::array<bool, 256> t{};
  for (const unsigned char c : {'\n', '\\', '/', '"', '\''}) {
    t[c] = true;
  }
  return t;
}
inline constexpr std::array<bool, 256> k_special = make_special_table();

// Return the first position at or after `pos` holding a k_special character (or `n`).
inline size_t skip_ordinary(const char* text, size_t pos, size_t n) {
#if defined(__SSE2__)
  const __m128i nl = _mm_set1_epi8('\n');
  const __m128i bs = _mm_set1_epi8('\\');
  const __m128i sl = _mm_set1_epi8('/');
  const __m128i dq = _mm_set1_epi8('"');
  const __m128i sq = _mm_set1_epi8('\'');
  while (pos + 16 <= n) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text + pos));
    const __m128i hit =
        _mm_or_si128(_mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, nl), _mm_cmpeq_epi8(v, bs)),
                                  _mm_or_si128(_mm_cmpeq_epi8(v, sl), _mm_cmpeq_epi8(v, dq))),
                     _mm_cmpeq_epi8(v, sq));
    const int mask = _mm_movemask_epi8(hit);
    if (mask != 0) {
      return pos + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
    }
    pos += 16;
  }
#endif
  while (pos < n && !k_special[static_cast<unsigned char>(text[pos])]) {
    ++pos;
  }
  return pos;
}

// Return the first position at or after `pos` that holds neither ' ' nor '\t' (or `n`):
// indentation is a large part of many headers.
inline size_t skip_blanks(const char* text, size_t pos, size_t n) {
#if defined(__SSE2__)
  const __m128i sp = _mm_set1_epi8(' ');
  const __m128i tab = _mm_set1_epi8('\t');
  while (pos + 16 <= n) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text + pos));
    const auto blank = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, sp), _mm_cmpeq_epi8(v, tab))));
    if (blank != 0xffffU) {
      return pos + static_cast<size_t>(__builtin_ctz(~blank));
    }
    pos += 16;
  }
#endif
  while (pos < n && (text[pos] == ' ' || text[pos] == '\t')) {
    ++pos;
  }
  return pos;
}

// Return the first position at or after `pos` holding `c` (or `n`). Inline and 16 bytes at a
// time: for the short distances of a line (a // comment, a directive) this beats a call to
// memchr, whose set-up costs more than the search.
inline size_t find_byte(const char* text, size_t pos, size_t n, char c) {
#if defined(__SSE2__)
  const __m128i want = _mm_set1_epi8(c);
  while (pos + 16 <= n) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text + pos));
    const int mask = _mm_movemask_epi8(_mm_cmpeq_epi8(v, want));
    if (mask != 0) {
      return pos + static_cast<size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
    }
    pos += 16;
  }
#endif
  while (pos < n && text[pos] != c) {
    ++pos;
  }
  return pos;
}

// What skip_plain_block() found.
struct PlainBlock {
  size_t advance = 0;  // offset of the block's last newline (0: the block cannot be skipped)
  size_t retry_at = 0; // offset at which another block may start; below it the same byte spoils it
  uint32_t lines = 0;  // newlines in [0, advance)
};

// Return the number of set bits of `x` (no POPCNT in the baseline instruction set).
constexpr uint32_t count_bits(uint64_t x) {
  x = x - ((x >> 1) & 0x5555555555555555ULL);
  x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
  return static_cast<uint32_t>((x * 0x0101010101010101ULL) >> 56);
}

// `text[pos]` is a newline. Look at the 64 bytes from there: when they hold no byte that can
// open a comment or literal, splice lines, start a directive or be odd whitespace
// (\ / " ' # % \r \f \v), every line in them that ends inside them is ordinary code or blank,
// and the lexer may jump to the last of their newlines. Branch-free per block, where the
// line-by-line path takes a few unpredictable branches per line.
inline PlainBlock skip_plain_block(const char* text, size_t pos, size_t n) {
  PlainBlock out;
#if defined(__SSE2__)
  if (n - pos < 64) {
    out.retry_at = n - pos; // never again in this text
    return out;
  }
  const __m128i nl = _mm_set1_epi8('\n');
  const __m128i bs = _mm_set1_epi8('\\');
  const __m128i sl = _mm_set1_epi8('/');
  const __m128i dq = _mm_set1_epi8('"');
  const __m128i sq = _mm_set1_epi8('\'');
  const __m128i hash = _mm_set1_epi8('#');
  const __m128i pct = _mm_set1_epi8('%');
  const __m128i vt = _mm_set1_epi8('\v'); // \v \f \r are 0x0b..0x0d
  const __m128i two = _mm_set1_epi8(2);
  const __m128i zero = _mm_setzero_si128();
  uint64_t newlines = 0;
  for (size_t k = 0; k < 4; ++k) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(text + pos + 16 * k));
    const __m128i odd_space = _mm_cmpeq_epi8(_mm_subs_epu8(_mm_sub_epi8(v, vt), two), zero);
    const __m128i hit = _mm_or_si128(
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, bs), _mm_cmpeq_epi8(v, sl)),
                     _mm_or_si128(_mm_cmpeq_epi8(v, dq), _mm_cmpeq_epi8(v, sq))),
        _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, hash), _mm_cmpeq_epi8(v, pct)), odd_space));
    // Stop at the first spoilt 16 bytes: a failed try then costs little.
    if (const auto bad = static_cast<unsigned>(_mm_movemask_epi8(hit)); bad != 0) {
      out.retry_at = 16 * k + static_cast<size_t>(__builtin_ctz(bad)) + 1;
      return out;
    }
    newlines |=
        static_cast<uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, nl))))
        << (16 * k);
  }
  const auto last = static_cast<size_t>(63 - __builtin_clzll(newlines));
  out.retry_at = 1;
  if (last != 0) {
    out.advance = last;
    out.retry_at = last;
    out.lines = count_bits(newlines & ((uint64_t{1} << last) - 1));
  }
#else
  (void)text;
  out.retry_at = n - pos;
#endif
  return out;
}

// Return whether [p, p + n) contains "__has_include". Bytes up to p + readable (>= n) may be
// loaded, so that a short line near more text needs no byte-by-byte tail. Compares the
// word's first and last byte at 16 positions at once and checks the rest only where both
// match.
inline bool contains_has_include(const char* p, size_t n, size_t readable) {
  constexpr std::string_view k_word = "__has_include";
  constexpr size_t k_len = k_word.size();
  if (n < k_len) {
    return false;
  }
  const size_t last_start = n - k_len; // the last position where the word may start
  size_t i = 0;
#if defined(__SSE2__)
  const __m128i first = _mm_set1_epi8(k_word.front());
  const __m128i last = _mm_set1_epi8(k_word.back());
  for (; i <= last_start && i + 16 + k_len - 1 <= readable; i += 16) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + k_len - 1));
    for (auto mask = static_cast<unsigned>(
             _mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, first), _mm_cmpeq_epi8(b, last))));
         mask != 0;
         mask &= mask - 1) {
      const size_t at = i + static_cast<size_t>(__builtin_ctz(mask));
      if (at > last_start) {
        return false; // candidates come in increasing order
      }
      if (std::memcmp(p + at + 1, k_word.data() + 1, k_len - 2) == 0) {
        return true;
      }
    }
  }
#endif
  for (; i <= last_start; ++i) {
    if (p[i] == k_word.front() && std::memcmp(p + i, k_word.data(), k_len) == 0) {
      return true;
    }
  }
  return false;
}

// Return the number of '\n' in [p, end).
inline uint32_t count_newlines(const char* p, const char* end) {
  uint32_t lines = 0;
#if defined(__SSE2__)
  const __m128i nl = _mm_set1_epi8('\n');
  for (; end - p >= 16; p += 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // Few bits are set (a line is longer than 16 bytes), so clear them one at a time rather
    // than call libgcc's popcount (no POPCNT in the baseline instruction set).
    for (auto mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, nl))); mask != 0;
         mask &= mask - 1) {
      ++lines;
    }
  }
#endif
  for (; p < end; ++p) {
    lines += *p == '\n' ? 1 : 0;
  }
  return lines;
}

constexpr std::string_view trim_view(std::string_view s) {
  while (!s.empty() && (is_space(s.front()) || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (is_space(s.back()) || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// Return the length of a backslash-newline splice starting at `text[i]` (a backslash,
// optional horizontal space as GCC and Clang accept with a warning, an optional CR, then
// LF), or 0.
inline size_t splice_length(std::string_view text, size_t i) {
  if (i >= text.size() || text[i] != '\\') {
    return 0;
  }
  size_t j = i + 1;
  while (j < text.size() && (text[j] == ' ' || text[j] == '\t' || text[j] == '\r')) {
    ++j;
  }
  return j < text.size() && text[j] == '\n' ? j + 1 - i : 0;
}

// A C++ raw string literal: where its '(' is, where its closing ')' is (the text's end
// when it is not closed) and the position just past it.
struct RawString {
  size_t open = 0;
  size_t end = 0;
  size_t stop = 0;
};

// If `text[quote]` is the '"' of a raw string literal (an R, u8R, uR, UR or LR prefix right
// before it, not part of a longer identifier, and a valid delimiter of at most 16
// characters after it), describe it.
inline std::optional<RawString> raw_string_at(std::string_view text, size_t quote) {
  if (quote == 0 || text[quote - 1] != 'R') {
    return std::nullopt;
  }
  size_t start = quote - 1;
  if (start >= 2 && text[start - 1] == '8' && text[start - 2] == 'u') {
    start -= 2;
  } else if (start >= 1
             && (text[start - 1] == 'u' || text[start - 1] == 'U' || text[start - 1] == 'L')) {
    start -= 1;
  }
  if (start > 0 && is_ident_char(text[start - 1])) {
    return std::nullopt;
  }
  size_t open = quote + 1;
  while (open < text.size() && open - quote <= 17 && text[open] != '(') {
    const char c = text[open];
    if (c == ' ' || c == ')' || c == '\\' || c == '\t' || c == '\n' || c == '"') {
      return std::nullopt;
    }
    ++open;
  }
  if (open >= text.size() || text[open] != '(') {
    return std::nullopt;
  }
  std::string close = ")";
  close.append(text.substr(quote + 1, open - quote - 1));
  close.push_back('"');
  const size_t end = text.find(close, open + 1);
  if (end == std::string_view::npos) {
    return RawString{open, text.size(), text.size()};
  }
  return RawString{open, end, end + close.size()};
}

} // namespace ccrex::depscan::bytes
