#include "toolchain/response_file.h"

#include "util/file.h"

namespace ccrex::toolchain {
namespace {

constexpr int k_max_depth = 64;
// Like libiberty's expandargv, stop after this many files: without a limit a few small
// files that each name the next one twice expand to 2^depth arguments.
constexpr size_t k_max_files = 2000;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Tokenizer state for split_response_file().
struct Tokenizer {
  std::vector<std::string> args;
  std::string current;
  bool in_arg = false;
  bool escaped = false;
  char quote = 0;

  void feed(char c) {
    if (escaped) {
      escaped = false;
      current += c;
    } else if (c == '\\') {
      escaped = true;
      in_arg = true;
    } else if (quote != 0) {
      if (c == quote) {
        quote = 0;
      } else {
        current += c;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_arg = true;
    } else if (is_space(c)) {
      flush();
    } else {
      current += c;
      in_arg = true;
    }
  }

  void flush() {
    if (in_arg) {
      args.push_back(std::move(current));
      current.clear();
      in_arg = false;
    }
  }
};

util::Status expand_into(const std::vector<std::string>& args,
                         size_t first,
                         const std::string& cwd,
                         const FileReader& reader,
                         int depth,
                         ExpandedArgs& out,
                         size_t& bytes) {
  if (depth > k_max_depth) {
    return util::invalid_argument("response files nested too deeply");
  }
  for (size_t i = first; i < args.size(); ++i) {
    const auto& arg = args[i];
    if (arg.size() < 2 || arg[0] != '@') {
      out.args.push_back(arg);
      continue;
    }
    const auto name = arg.substr(1);
    const auto path = name[0] == '/' ? name : util::join_path(cwd, name);
    auto content = reader(path);
    if (!content) {
      return util::not_found("response file " + name + ": " + content.error().message());
    }
    if (out.files.size() >= k_max_files) {
      return util::invalid_argument("more than " + std::to_string(k_max_files) + " response files");
    }
    bytes += content->size();
    if (bytes > k_max_response_bytes) {
      return util::invalid_argument("response files larger than "
                                    + std::to_string(k_max_response_bytes) + " bytes");
    }
    out.files.push_back(path);
    CCREX_TRY(expand_into(split_response_file(*content), 0, cwd, reader, depth + 1, out, bytes));
  }
  return {};
}

} // namespace

util::Result<std::string> read_response_file(const std::string& path) {
  return util::read_regular_file(path, k_max_response_bytes);
}

std::vector<std::string> split_response_file(std::string_view text) {
  Tokenizer tokenizer;
  for (const char c : text) {
    tokenizer.feed(c);
  }
  tokenizer.flush();
  return std::move(tokenizer.args);
}

util::Result<ExpandedArgs> expand_response_files(const std::vector<std::string>& args,
                                                 const std::string& cwd,
                                                 const FileReader& reader) {
  ExpandedArgs out;
  if (args.empty()) {
    return out;
  }
  out.args.push_back(args[0]);
  size_t bytes = 0;
  CCREX_TRY(expand_into(args, 1, cwd, reader, 0, out, bytes));
  return out;
}

} // namespace ccrex::toolchain
