#include "toolchain/option_table.h"

#include <algorithm>
#include <array>

namespace ccrex::toolchain {
namespace {

using namespace option_flag;

// Short local spellings keep the table readable, one option per line.
constexpr uint32_t k_arg = k_takes_arg;
constexpr uint32_t k_concat = k_takes_concat_arg;
constexpr uint32_t k_path = k_takes_path;
constexpr uint32_t k_cpp = k_affects_cpp;
constexpr uint32_t k_comp = k_affects_comp;
constexpr uint32_t k_out = k_output;
constexpr uint32_t k_in = k_input;
constexpr uint32_t k_hard = k_too_hard;
constexpr uint32_t k_clang = k_clang_only;
constexpr uint32_t k_gcc = k_gcc_only;
constexpr uint32_t k_link = k_link_only;

// Sorted by name (byte order); option_table_test checks it. Options the parser treats
// specially (k_special) are matched here first so that their argument shape is known.
constexpr auto k_table = std::to_array<OptionInfo>({
    {"-###", k_hard},
    {"--coverage", k_special},
    {"--help", k_hard},
    {"--param", k_arg},
    {"--param=", k_concat},
    {"--serialize-diagnostics", k_arg},
    {"--sysroot", k_arg},
    {"--sysroot=", k_concat},
    {"--target=", k_concat},
    {"--version", k_hard},
    {"-A", k_arg},
    {"-B", k_arg},
    {"-D", k_arg},
    {"-E", k_special},
    {"-H", k_hard},
    {"-I", k_arg},
    {"-I-", k_hard},
    {"-L", k_arg},
    {"-M", k_special},
    {"-MD", k_special},
    {"-MF", k_arg},
    {"-MG", k_special},
    {"-MJ", k_arg},
    {"-MM", k_special},
    {"-MMD", k_special},
    {"-MP", k_special},
    {"-MQ", k_arg},
    {"-MT", k_arg},
    {"-S", k_special},
    {"-T", k_arg},
    {"-U", k_arg},
    {"-Wa,", k_concat},
    {"-Wl,", k_concat},
    {"-Wp,", k_concat},
    {"-Xarch_", k_arg},
    {"-Xassembler", k_arg},
    {"-Xclang", k_arg},
    {"-Xlinker", k_arg},
    {"-Xpreprocessor", k_arg},
    {"-arch", k_arg},
    {"-aux-info", k_arg},
    {"-c", k_special},
    {"-cxx-isystem", k_arg},
    {"-dumpbase", k_arg},
    {"-dumpbase-ext", k_arg},
    {"-dumpdir", k_arg},
    {"-dumpfullversion", k_hard},
    {"-dumpmachine", k_hard},
    {"-dumpspecs", k_hard},
    {"-dumpversion", k_hard},
    {"-fauto-profile", k_hard},
    {"-fauto-profile=", k_concat},
    {"-fcallgraph-info", k_hard},
    {"-fcallgraph-info=", k_concat},
    {"-fcolor-diagnostics", k_special},
    {"-fcoverage-compilation-dir=", k_concat},
    {"-fcoverage-prefix-map=", k_concat},
    {"-fcxx-modules", k_hard},
    {"-fdebug-compilation-dir", k_arg},
    {"-fdebug-compilation-dir=", k_concat},
    {"-fdebug-prefix-map=", k_concat},
    {"-fdiagnostics-color", k_special},
    {"-fdiagnostics-color=", k_concat},
    {"-fdirectives-only", k_cpp},
    {"-fdump-", k_prefix},
    {"-ffile-compilation-dir=", k_concat},
    {"-ffile-prefix-map=", k_concat},
    {"-fmacro-prefix-map=", k_concat},
    {"-fmodule-file=", k_concat},
    {"-fmodule-map-file=", k_concat},
    {"-fmodules", k_hard},
    {"-fmodules-cache-path=", k_concat},
    {"-fmodules-ts", k_hard},
    {"-fno-color-diagnostics", k_special},
    {"-fno-diagnostics-color", k_special},
    {"-foptimization-record-file=", k_concat},
    {"-fplugin-arg-", k_prefix},
    {"-fplugin=", k_concat},
    {"-fprofile-arcs", k_special},
    {"-fprofile-dir=", k_concat},
    {"-fprofile-generate", k_special},
    {"-fprofile-generate=", k_concat},
    {"-fprofile-instr-use", k_hard},
    {"-fprofile-instr-use=", k_concat},
    {"-fprofile-list=", k_concat},
    {"-fprofile-note=", k_concat},
    {"-fprofile-prefix-map=", k_concat},
    {"-fprofile-sample-use=", k_concat},
    {"-fprofile-use", k_hard},
    {"-fprofile-use=", k_concat},
    {"-framework", k_arg},
    {"-frandom-seed=", k_concat},
    {"-fsanitize-blacklist=", k_concat},
    {"-fsanitize-coverage-allowlist=", k_concat},
    {"-fsanitize-coverage-blocklist=", k_concat},
    {"-fsanitize-coverage-ignorelist=", k_concat},
    {"-fsanitize-ignorelist=", k_concat},
    {"-fsanitize-system-ignorelist=", k_concat},
    {"-fsave-optimization-record", k_hard},
    {"-fsave-optimization-record=", k_concat},
    {"-fstack-usage", k_special},
    {"-fsyntax-only", k_hard},
    {"-ftest-coverage", k_special},
    {"-ftime-trace", k_special},
    {"-ftime-trace-granularity=", k_concat},
    {"-fxray-always-instrument=", k_concat},
    {"-fxray-attr-list=", k_concat},
    {"-fxray-never-instrument=", k_concat},
    {"-gsplit-dwarf", k_special},
    {"-gsplit-dwarf=", k_concat},
    {"-idirafter", k_arg},
    {"-iframework", k_arg},
    {"-imacros", k_arg},
    {"-include", k_arg},
    {"-include-pch", k_arg},
    {"-iprefix", k_arg},
    {"-iquote", k_arg},
    {"-isysroot", k_arg},
    {"-isystem", k_arg},
    {"-isystem-after", k_arg},
    {"-iwithprefix", k_arg},
    {"-iwithprefixbefore", k_arg},
    {"-l", k_arg},
    {"-march=native", k_hard},
    {"-mcpu=native", k_hard},
    {"-mtune=native", k_hard},
    {"-nobuiltininc", k_cpp},
    {"-nostdinc", k_cpp},
    {"-nostdinc++", k_cpp},
    {"-nostdlibinc", k_cpp},
    {"-o", k_arg},
    {"-pipe", k_comp},
    {"-print-", k_prefix},
    {"-save-temps", k_hard},
    {"-save-temps=", k_concat},
    {"-specs", k_arg},
    {"-specs=", k_concat},
    {"-target", k_arg},
    {"-traditional-cpp", k_cpp},
    {"-trigraphs", k_cpp},
    {"-u", k_arg},
    {"-undef", k_cpp},
    {"-v", k_hard},
    {"-wrapper", k_arg},
    {"-x", k_arg},
    {"-z", k_arg},
});

constexpr size_t k_max_name_length = [] {
  size_t longest = 0;
  for (const auto& option : k_table) {
    longest = std::max(longest, option.name.size());
  }
  return longest;
}();

bool allows_joined(const OptionInfo& info) {
  return info.has(k_takes_concat_arg) || info.has(k_prefix);
}

} // namespace

std::span<const OptionInfo> option_table() {
  return k_table;
}

const OptionInfo* find_option(std::string_view name) {
  const auto it = std::lower_bound(
      k_table.begin(), k_table.end(), name, [](const OptionInfo& option, std::string_view n) {
        return option.name < n;
      });
  return it != k_table.end() && it->name == name ? &*it : nullptr;
}

std::optional<OptionMatch> match_option(std::string_view arg) {
  if (const auto* exact = find_option(arg)) {
    return OptionMatch{exact, true, {}};
  }
  // Longest prefix first, so "-isystem-after/x" is not read as "-isystem" "-after/x".
  for (size_t len = std::min(arg.size() - 1, k_max_name_length); len >= 2 && len < arg.size();
       --len) {
    const auto* info = find_option(arg.substr(0, len));
    if (info != nullptr && allows_joined(*info)) {
      return OptionMatch{info, false, arg.substr(len)};
    }
  }
  return std::nullopt;
}

} // namespace ccrex::toolchain
