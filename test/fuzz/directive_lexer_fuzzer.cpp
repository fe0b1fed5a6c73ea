// Fuzz the directive lexer. Besides not crashing, its output must be consistent with the
// input: lines are in range and non-decreasing, the reported physical line of a directive
// holds the '#' (or the '%' of "%:"), that of a time macro or trigraph holds its text, names
// contain no line break, and lexing is deterministic.

#include "depscan/directive_lexer.h"
#include "fuzz_check.h"

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace {

// Return the physical lines of `text` (split at '\n').
std::vector<std::string_view> physical_lines(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t end = text.find('\n', start);
    out.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) {
      return out;
    }
    start = end + 1;
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ccrex::depscan;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto directives = lex_directives(text);

  const auto lines = physical_lines(text);
  const auto max_line = static_cast<uint32_t>(lines.size());
  uint32_t previous_line = 0;
  for (const auto& d : directives) {
    FUZZ_CHECK(d.line >= 1 && d.line <= max_line);
    FUZZ_CHECK(d.line >= previous_line);
    previous_line = d.line;
    const std::string_view line = lines[d.line - 1];
    FUZZ_CHECK(directive_kind_name(d.kind).size() > 0);
    FUZZ_CHECK(d.name.find('\n') == std::string::npos);
    if (d.kind == DirectiveKind::time_macro || d.kind == DirectiveKind::trigraph) {
      FUZZ_CHECK(line.find(d.name) != std::string_view::npos);
    }
    if (!is_include_kind(d.kind)) {
      continue; // other markers may sit in a literal or comment that began on this line
    }
    FUZZ_CHECK(line.find('#') != std::string_view::npos
               || line.find('%') != std::string_view::npos);
    // A directive needs at least "#include" or "%:import" worth of input.
    FUZZ_CHECK(text.size() >= 7);
  }
  FUZZ_CHECK(lex_directives(text) == directives);
  (void)print_directives(directives);
  return 0;
}
