#pragma once

// Small string helpers shared by every module.

#include "util/result.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ccrex::util {

// Split `text` at every `sep`; empty pieces are kept unless `skip_empty`.
std::vector<std::string_view> split(std::string_view text, char sep, bool skip_empty = false);
// Join `parts` with `sep` between them.
std::string join(const std::vector<std::string>& parts, std::string_view sep);
// Return `text` without leading and trailing spaces, tabs, CR and LF.
std::string_view trim(std::string_view text);

// Parse a byte size: a decimal number with an optional K, M, G or T suffix (powers of 1024,
// optionally followed by "i" and/or "B": "5G", "512MiB", "100k"). Rejects anything else.
Result<int64_t> parse_size(std::string_view text);
// Parse a non-negative decimal integer that fits in int64_t.
Result<int64_t> parse_int(std::string_view text);
// Parse a boolean: exactly 1/0, true/false, yes/no, on/off (case-insensitive).
Result<bool> parse_bool(std::string_view text);

// Quote `arg` for a POSIX shell if it needs quoting (for log and error messages only).
std::string shell_quote(std::string_view arg);

// Return `text` with every occurrence of `from` (not empty) replaced by `to`, left to right.
std::string replace_all(std::string_view text, std::string_view from, std::string_view to);

} // namespace ccrex::util
