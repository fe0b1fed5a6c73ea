#include "agent/dep_file.h"

#include "util/strings.h"

#include <algorithm>

namespace ccrex::agent {
namespace {

// gcc wraps before a name that would pass this column; clang keeps room for " \" too.
constexpr size_t k_gcc_columns = 72;
constexpr size_t k_clang_columns = 75;

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

// A cursor over the file's text that reads names in their written (escaped) form.
class Reader {
public:
  explicit Reader(std::string_view text) : m_text(text) {}

  bool done() const { return m_at >= m_text.size(); }
  char peek() const { return m_text[m_at]; }
  void next() { ++m_at; }

  // Skip blanks and line continuations (backslash, newline).
  void skip_blanks() {
    while (!done()) {
      if (is_blank(peek())) {
        next();
      } else if (peek() == '\\' && m_at + 1 < m_text.size() && m_text[m_at + 1] == '\n') {
        m_at += 2;
      } else {
        return;
      }
    }
  }

  // Read a name up to the next unescaped blank or newline.
  std::string_view name() {
    const size_t start = m_at;
    while (!done() && !is_blank(peek()) && peek() != '\n') {
      if (peek() == '\\' && m_at + 1 < m_text.size()) {
        if (m_text[m_at + 1] == '\n') {
          break;
        }
        ++m_at; // the escaped character belongs to the name
      }
      ++m_at;
    }
    return m_text.substr(start, m_at - start);
  }

private:
  std::string_view m_text;
  size_t m_at = 0;
};

// The length of a clang-written name before it was escaped for make ("\ ", "\#", "$$").
size_t unescaped_size(std::string_view name) {
  size_t n = 0;
  for (size_t i = 0; i < name.size(); ++i, ++n) {
    const bool pair = i + 1 < name.size()
                      && ((name[i] == '\\' && (name[i + 1] == ' ' || name[i + 1] == '#'))
                          || (name[i] == '$' && name[i + 1] == '$'));
    if (pair) {
      ++i;
    }
  }
  return n;
}

void format_gcc(const DepFile& file, std::string& out) {
  size_t column = 0;
  const auto put = [&](const std::string& name) {
    if (column != 0) {
      if (column + name.size() > k_gcc_columns) {
        out += " \\\n";
        column = 0;
      }
      ++column;
      out += ' ';
    }
    column += name.size();
    out += name;
  };
  for (const auto& t : file.targets) {
    put(t);
  }
  out += ':';
  ++column;
  for (const auto& p : file.prerequisites) {
    put(p);
  }
  out += '\n';
  if (file.phony_rules) {
    for (size_t i = 1; i < file.prerequisites.size(); ++i) {
      out += file.prerequisites[i] + ":\n";
    }
  }
}

void format_clang(const DepFile& file, std::string& out) {
  size_t column = 0;
  for (const auto& t : file.targets) {
    const size_t n = t.size();
    if (column == 0) {
      column = n;
    } else if (column + n + 2 > k_clang_columns) {
      column = n + 2;
      out += " \\\n  ";
    } else {
      column += n + 1;
      out += ' ';
    }
    out += t;
  }
  out += ':';
  ++column;
  for (const auto& p : file.prerequisites) {
    const size_t n = unescaped_size(p);
    if (column + (n + 1) + 2 > k_clang_columns) {
      out += " \\\n ";
      column = 2;
    }
    out += ' ';
    out += p;
    column += n + 1;
  }
  out += '\n';
  if (file.phony_rules) {
    for (size_t i = 1; i < file.prerequisites.size(); ++i) {
      out += '\n' + file.prerequisites[i] + ":\n";
    }
  }
}

// Whether make would need `path` escaped (then a plain replacement is not enough).
bool needs_escape(std::string_view path) {
  return path.find_first_of(" \t\n#$\\") != std::string_view::npos;
}

} // namespace

util::Result<DepFile> parse_dep_file(std::string_view text) {
  DepFile out;
  Reader r(text);
  const auto bad = [](std::string_view why) {
    return util::invalid_argument("dependency file: " + std::string(why));
  };
  // Targets, up to the one that ends in a colon.
  for (;;) {
    r.skip_blanks();
    if (r.done() || r.peek() == '\n') {
      return bad("no rule");
    }
    auto name = r.name();
    if (name.empty()) {
      return bad("empty target");
    }
    if (name.back() == ':') {
      name.remove_suffix(1);
      if (!name.empty()) {
        out.targets.emplace_back(name);
      }
      break;
    }
    out.targets.emplace_back(name);
  }
  if (out.targets.empty()) {
    return bad("no target");
  }
  // Prerequisites, up to the end of the logical line.
  for (;;) {
    r.skip_blanks();
    if (r.done()) {
      return bad("unterminated rule");
    }
    if (r.peek() == '\n') {
      r.next();
      break;
    }
    out.prerequisites.emplace_back(r.name());
  }
  // Then nothing, or one empty rule per prerequisite after the first.
  size_t phony = 1;
  while (!r.done()) {
    if (r.peek() == '\n') {
      r.next();
      continue;
    }
    auto name = r.name();
    if (r.done() || r.peek() != '\n' || name.empty() || name.back() != ':') {
      return bad("unexpected text after the rule");
    }
    name.remove_suffix(1);
    if (phony >= out.prerequisites.size() || out.prerequisites[phony] != name) {
      return bad("empty rules do not follow the prerequisites");
    }
    ++phony;
    out.phony_rules = true;
  }
  return out;
}

std::string format_dep_file(const DepFile& file, DepFileStyle style) {
  std::string out;
  if (style == DepFileStyle::gcc) {
    format_gcc(file, out);
  } else {
    format_clang(file, out);
  }
  return out;
}

util::Result<std::string>
rewrite_dep_file(std::string_view text,
                 DepFileStyle style,
                 const std::vector<std::pair<std::string, std::string>>& roots) {
  const bool mentioned = std::any_of(roots.begin(), roots.end(), [&](const auto& r) {
    return r.first != r.second && text.find(r.first) != std::string_view::npos;
  });
  if (!mentioned) {
    return std::string(text);
  }
  for (const auto& [from, to] : roots) {
    if (needs_escape(from) || needs_escape(to)) {
      return util::unsupported("dependency file: a root directory holds a character make "
                               "escapes");
    }
  }
  CCREX_ASSIGN_OR_RETURN(DepFile file, parse_dep_file(text));
  if (format_dep_file(file, style) != text) {
    return util::unsupported("dependency file in a layout ccrex cannot reproduce");
  }
  for (auto* names : {&file.targets, &file.prerequisites}) {
    for (auto& name : *names) {
      for (const auto& [from, to] : roots) {
        name = util::replace_all(name, from, to);
      }
    }
  }
  return format_dep_file(file, style);
}

} // namespace ccrex::agent
