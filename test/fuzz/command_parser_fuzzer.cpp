// Fuzz the gcc/clang command-line parser.
//
// Input layout: the bytes before the first 0x01 are the command line, split into argv at
// NUL bytes (argv[0] is the compiler name, classified like the agent does). The bytes after
// it are an in-memory set of response files separated by 0x01; `@name` reads file number
// (length of the resolved path) % count. Nothing touches the disk.

#include "fuzz_check.h"
#include "toolchain/command_parser.h"
#include "toolchain/compiler_family.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace ccrex;
using namespace ccrex::toolchain;

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(separator, start);
    out.emplace_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) {
      return out;
    }
    start = end + 1;
  }
}

bool ends_with_extension(const std::string& path, std::string_view extension) {
  return path.size() >= extension.size() && path.ends_with(extension);
}

void check_parsed(const std::vector<std::string>& argv, const ParsedCommand& parsed) {
  FUZZ_CHECK(parsed.compiler == argv[0]);
  FUZZ_CHECK(!parsed.args.empty() && parsed.args[0] == argv[0]);
  if (parsed.response_files.empty() && parsed.supported()) {
    FUZZ_CHECK(parsed.args == argv);
  }
  if (parsed.supported()) {
    FUZZ_CHECK(parsed.is_compile);
    FUZZ_CHECK(parsed.inputs.size() == 1);
    FUZZ_CHECK(parsed.source_file == parsed.inputs[0].path);
    FUZZ_CHECK(!parsed.source_file.empty());
    FUZZ_CHECK(parsed.language.has_value());
    FUZZ_CHECK(!parsed.output_object.empty());
    if (parsed.dependency_file) {
      FUZZ_CHECK(!parsed.dependency_file->empty());
    }
  } else {
    FUZZ_CHECK(!unsupported_reason_name(parsed.unsupported->reason).empty());
  }
  // The object name drives the names of .d/.dwo/.gcno files.
  const std::string dwo = replace_extension(parsed.output_object, ".dwo");
  FUZZ_CHECK(ends_with_extension(dwo, ".dwo"));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t files_start = input.find('\x01');
  const auto argv = split(input.substr(0, files_start), '\0');
  std::vector<std::string> files;
  if (files_start != std::string_view::npos) {
    files = split(input.substr(files_start + 1), '\x01');
  }

  ParseOptions options;
  options.cwd = "/work";
  options.read_file = [&files](const std::string& path) -> util::Result<std::string> {
    if (files.empty()) {
      return util::not_found("no such file: " + path);
    }
    return files[path.size() % files.size()];
  };
  const CompilerInfo info = classify_compiler_name(argv[0]).info;
  const ParsedCommand parsed = parse_command(argv, info, options);
  check_parsed(argv, parsed);
  return 0;
}
