#pragma once

// `@file` response files as gcc (libiberty's expandargv) reads them.
// Thread safety: pure functions apart from the injected reader.

#include "util/result.h"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace ccrex::toolchain {

// Reads a whole file; tests inject an in-memory one.
using FileReader = std::function<util::Result<std::string>(const std::string& path)>;

// All response files of one command together may hold at most this many bytes (the
// agent's request is capped at the same size).
constexpr size_t k_max_response_bytes = size_t{64} << 20;

// The reader used outside tests: regular files only, at most k_max_response_bytes. gcc
// reads `@/dev/zero` or a FIFO in its own way; ccrex leaves such commands to the compiler
// instead of reading them itself (an endless device would exhaust the agent's memory).
util::Result<std::string> read_response_file(const std::string& path);

// Split response file text into arguments with gcc's rules: whitespace separates
// arguments; single and double quotes group (and are removed); a backslash makes the next
// character literal everywhere, even inside quotes. An empty pair of quotes is an empty
// argument.
std::vector<std::string> split_response_file(std::string_view text);

struct ExpandedArgs {
  // The arguments with every `@file` replaced by its content, recursively.
  std::vector<std::string> args;
  // The response files that were read, as resolved paths, in reading order.
  std::vector<std::string> files;
};

// Expand `@file` arguments in `args` (args[0], the compiler, is kept as is). Relative file
// names are resolved against `cwd`, also inside nested response files (as gcc does).
// Return not_found naming the file when one cannot be read (gcc would then silently pass
// "@file" on as a literal argument, which ccrex does not try to reproduce) and
// invalid_argument when nesting is deeper than 64 levels, more than 2000 response files
// would be read or their content exceeds k_max_response_bytes.
util::Result<ExpandedArgs> expand_response_files(const std::vector<std::string>& args,
                                                 const std::string& cwd,
                                                 const FileReader& reader);

} // namespace ccrex::toolchain
