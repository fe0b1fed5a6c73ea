#include "depscan/depfile.h"

#include <unordered_set>

namespace ccrex::depscan {
namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

// Return the length of a continuation (backslash, optional CR, LF) at `i`, or 0.
size_t continuation_at(std::string_view text, size_t i) {
  if (text[i] != '\\') {
    return 0;
  }
  if (i + 1 < text.size() && text[i + 1] == '\n') {
    return 2;
  }
  if (i + 2 < text.size() && text[i + 1] == '\r' && text[i + 2] == '\n') {
    return 3;
  }
  return 0;
}

} // namespace

util::Result<std::vector<DepRule>> parse_depfile(std::string_view text) {
  std::vector<DepRule> rules;
  DepRule cur;
  bool after_colon = false;
  std::string word;
  bool have_word = false;
  const auto end_word = [&]() {
    if (have_word) {
      (after_colon ? cur.prerequisites : cur.targets).push_back(std::move(word));
    }
    word.clear();
    have_word = false;
  };
  const auto end_rule = [&]() -> util::Status {
    end_word();
    if (!cur.targets.empty() && !after_colon) {
      return util::invalid_argument("depfile: target without ':' near '" + cur.targets[0] + "'");
    }
    if (after_colon && cur.targets.empty()) {
      return util::invalid_argument("depfile: rule without a target");
    }
    if (after_colon) {
      rules.push_back(std::move(cur));
    }
    cur = DepRule{};
    after_colon = false;
    return {};
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (const size_t n = continuation_at(text, i)) {
      end_word();
      i += n - 1;
    } else if (c == '\\' && i + 1 < text.size()
               && (text[i + 1] == ' ' || text[i + 1] == '#' || text[i + 1] == '\\')) {
      // "\\ " is a backslash then a separator in make; gcc never writes it for plain files.
      if (text[i + 1] == '\\') {
        word.push_back('\\');
        have_word = true;
        ++i;
        continue;
      }
      word.push_back(text[++i]);
      have_word = true;
    } else if (c == '$' && i + 1 < text.size() && text[i + 1] == '$') {
      word.push_back('$');
      have_word = true;
      ++i;
    } else if (c == '\n') {
      CCREX_TRY(end_rule());
    } else if (is_blank(c)) {
      end_word();
    } else if (c == ':' && !after_colon
               && (i + 1 >= text.size() || is_blank(text[i + 1]) || text[i + 1] == '\n'
                   || continuation_at(text, i + 1) != 0)) {
      end_word();
      after_colon = true;
    } else {
      word.push_back(c);
      have_word = true;
    }
  }
  CCREX_TRY(end_rule());
  return rules;
}

std::vector<std::string> depfile_prerequisites(const std::vector<DepRule>& rules) {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  for (const DepRule& rule : rules) {
    if (rule.prerequisites.empty()) {
      continue; // -MP phony target
    }
    for (const std::string& p : rule.prerequisites) {
      if (seen.insert(p).second) {
        out.push_back(p);
      }
    }
  }
  return out;
}

namespace {

// Append `path` to `out` with make's special characters escaped.
void append_escaped(std::string& out, std::string_view path) {
  for (const char c : path) {
    if (c == ' ' || c == '#') {
      out.push_back('\\');
    } else if (c == '$') {
      out.push_back('$');
    }
    out.push_back(c);
  }
}

} // namespace

std::string escape_make_path(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  append_escaped(out, path);
  return out;
}

std::string format_make_rule(const std::vector<std::string>& targets,
                             const std::vector<std::string>& prerequisites) {
  std::string out;
  size_t bytes = 2;
  for (const std::string& p : prerequisites) {
    bytes += p.size() + 4;
  }
  out.reserve(bytes + bytes / 8); // room for escapes and line breaks
  size_t column = 0;
  for (size_t i = 0; i < targets.size(); ++i) {
    if (i != 0) {
      out.push_back(' ');
    }
    append_escaped(out, targets[i]);
  }
  out.push_back(':');
  column = out.size();
  std::string e; // reused for every prerequisite
  for (const std::string& p : prerequisites) {
    e.clear();
    append_escaped(e, p);
    if (column + 1 + e.size() > 75 && column > 1) {
      out += " \\\n";
      column = 0;
    }
    out.push_back(' ');
    out += e;
    column += 1 + e.size();
  }
  out.push_back('\n');
  return out;
}

} // namespace ccrex::depscan
