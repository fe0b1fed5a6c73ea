#include "util/strings.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <limits>

namespace ccrex::util {

std::vector<std::string_view> split(std::string_view text, char sep, bool skip_empty) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t next = text.find(sep, pos);
    if (next == std::string_view::npos) {
      next = text.size();
    }
    const std::string_view piece = text.substr(pos, next - pos);
    if (!skip_empty || !piece.empty()) {
      out.push_back(piece);
    }
    pos = next + 1;
  }
  return out;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) {
      out += sep;
    }
    out += parts[i];
  }
  return out;
}

std::string_view trim(std::string_view text) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!text.empty() && is_space(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && is_space(text.back())) {
    text.remove_suffix(1);
  }
  return text;
}

Result<int64_t> parse_int(std::string_view text) {
  if (text.empty()) {
    return invalid_argument("empty number");
  }
  int64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') {
      return invalid_argument("not a number: '" + std::string(text) + "'");
    }
    if (value > (std::numeric_limits<int64_t>::max() - (c - '0')) / 10) {
      return invalid_argument("number too large: '" + std::string(text) + "'");
    }
    value = value * 10 + (c - '0');
  }
  return value;
}

Result<int64_t> parse_size(std::string_view text) {
  const std::string original(text);
  size_t digits = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') {
    ++digits;
  }
  auto number = parse_int(text.substr(0, digits));
  if (!number) {
    return invalid_argument("invalid size '" + original + "' (expected e.g. 500M or 5G)");
  }
  std::string suffix(text.substr(digits));
  std::transform(suffix.begin(), suffix.end(), suffix.begin(), [](unsigned char c) {
    return static_cast<char>(std::toupper(c));
  });
  if (suffix.size() > 1 && suffix.back() == 'B') {
    suffix.pop_back();
  }
  if (suffix.size() > 1 && suffix.back() == 'I') {
    suffix.pop_back();
  }
  static constexpr std::string_view k_units = "KMGT";
  int shift = 0;
  if (suffix == "B") {
    shift = 0;
  } else if (suffix.size() == 1 && k_units.find(suffix[0]) != std::string_view::npos) {
    shift = 10 * (static_cast<int>(k_units.find(suffix[0])) + 1);
  } else if (!suffix.empty()) {
    return invalid_argument("invalid size '" + original + "' (expected e.g. 500M or 5G)");
  }
  if (*number > (std::numeric_limits<int64_t>::max() >> shift)) {
    return invalid_argument("size too large: '" + original + "'");
  }
  return *number << shift;
}

Result<bool> parse_bool(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  static constexpr std::array<std::string_view, 4> k_true{"1", "true", "yes", "on"};
  static constexpr std::array<std::string_view, 4> k_false{"0", "false", "no", "off"};
  if (std::find(k_true.begin(), k_true.end(), lower) != k_true.end()) {
    return true;
  }
  if (std::find(k_false.begin(), k_false.end(), lower) != k_false.end()) {
    return false;
  }
  return invalid_argument("invalid boolean '" + std::string(text)
                          + "' (use 1/0, true/false, yes/no or on/off)");
}

std::string shell_quote(std::string_view arg) {
  if (!arg.empty() && std::all_of(arg.begin(), arg.end(), [](unsigned char c) {
        return std::isalnum(c) != 0
               || std::string_view("-_./=:,+@%").find(static_cast<char>(c))
                      != std::string_view::npos;
      })) {
    return std::string(arg);
  }
  std::string out = "'";
  for (const char c : arg) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  out += '\'';
  return out;
}

std::string replace_all(std::string_view text, std::string_view from, std::string_view to) {
  if (from.empty()) {
    return std::string(text);
  }
  std::string out;
  size_t at = 0;
  for (size_t hit = text.find(from); hit != std::string_view::npos; hit = text.find(from, at)) {
    out.append(text.substr(at, hit - at));
    out.append(to);
    at = hit + from.size();
  }
  out.append(text.substr(at));
  return out;
}

} // namespace ccrex::util
