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
constexpr uint32_t k_hard_direct = k_too_hard_direct;
constexpr uint32_t k_clang = k_clang_only;
constexpr uint32_t k_gcc = k_gcc_only;
constexpr uint32_t k_link = k_link_only;

// Sorted by name (byte order); option_table_test checks it. Options the parser treats
// specially (k_special) are matched here first so that their argument shape is known.
constexpr auto k_table = std::to_array<OptionInfo>({
    {"-###", k_hard},
    {"--coverage", k_special},
    {"--help", k_hard},
    {"--param", k_arg | k_comp},
    {"--param=", k_concat | k_comp},
    {"--serialize-diagnostics", k_arg | k_path | k_out | k_clang},
    {"--sysroot", k_arg | k_path | k_cpp | k_special},
    {"--sysroot=", k_concat | k_path | k_cpp | k_special},
    {"--target=", k_concat | k_comp | k_clang | k_special},
    {"--version", k_hard},
    {"-A", k_arg | k_concat | k_cpp},
    {"-B", k_arg | k_concat | k_path | k_hard},
    {"-D", k_arg | k_concat | k_cpp},
    {"-E", k_special},
    {"-H", k_hard},
    {"-I", k_arg | k_concat | k_path | k_cpp},
    {"-I-", k_hard},
    {"-L", k_arg | k_concat | k_path | k_link},
    {"-M", k_special},
    {"-MD", k_special},
    {"-MF", k_arg | k_concat | k_path | k_special},
    {"-MG", k_special},
    {"-MJ", k_arg | k_concat | k_path | k_hard | k_clang},
    {"-MM", k_special},
    {"-MMD", k_special},
    {"-MP", k_special},
    {"-MQ", k_arg | k_concat | k_special},
    {"-MT", k_arg | k_concat | k_special},
    {"-S", k_special},
    {"-T", k_arg | k_concat | k_path | k_link},
    {"-U", k_arg | k_concat | k_cpp},
    {"-Wa,", k_concat | k_comp | k_special},
    {"-Wl,", k_concat | k_link},
    {"-Wp,", k_concat | k_cpp | k_special},
    {"-Xarch_", k_arg | k_prefix | k_hard | k_clang},
    {"-Xassembler", k_arg | k_comp | k_special},
    {"-Xclang", k_arg | k_clang | k_special},
    {"-Xlinker", k_arg | k_link},
    {"-Xpreprocessor", k_arg | k_cpp | k_special},
    {"-arch", k_arg | k_comp | k_special},
    {"-aux-info", k_arg | k_path | k_out | k_gcc},
    {"-c", k_special},
    {"-cxx-isystem", k_arg | k_concat | k_path | k_cpp | k_clang},
    {"-dependency-dot", k_arg | k_hard | k_clang},
    {"-dependency-file", k_arg | k_hard | k_clang},
    {"-dumpbase", k_arg | k_hard | k_gcc},
    {"-dumpbase-ext", k_arg | k_hard | k_gcc},
    {"-dumpdir", k_arg | k_hard | k_gcc},
    {"-dumpfullversion", k_hard},
    {"-dumpmachine", k_hard},
    {"-dumpspecs", k_hard},
    {"-dumpversion", k_hard},
    {"-fauto-profile", k_hard | k_gcc},
    {"-fauto-profile=", k_concat | k_hard | k_gcc},
    {"-fcallgraph-info", k_hard | k_gcc},
    {"-fcallgraph-info=", k_concat | k_hard | k_gcc},
    {"-fcolor-diagnostics", k_special | k_clang},
    {"-fcompare-debug", k_hard | k_gcc},
    {"-fcompare-debug-second", k_hard | k_gcc},
    {"-fcompare-debug=", k_concat | k_hard | k_gcc},
    {"-fcoverage-compilation-dir=", k_concat | k_path | k_clang | k_special},
    {"-fcoverage-mapping", k_clang | k_special},
    {"-fcoverage-prefix-map=", k_concat | k_clang | k_special},
    {"-fcxx-modules", k_hard | k_clang},
    {"-fdebug-compilation-dir", k_arg | k_path | k_clang | k_special},
    {"-fdebug-compilation-dir=", k_concat | k_path | k_clang | k_special},
    {"-fdebug-prefix-map=", k_concat | k_special},
    {"-fdiagnostics-color", k_special},
    {"-fdiagnostics-color=", k_concat | k_special},
    {"-fdirectives-only", k_cpp | k_hard_direct | k_gcc},
    {"-fdump-", k_prefix | k_hard | k_gcc},
    {"-ffile-compilation-dir=", k_concat | k_path | k_clang | k_special},
    {"-ffile-prefix-map=", k_concat | k_special},
    {"-fmacro-prefix-map=", k_concat | k_cpp | k_special},
    {"-fmodule-file=", k_concat | k_hard},
    {"-fmodule-map-file=", k_concat | k_hard | k_clang},
    {"-fmodules", k_hard | k_clang},
    {"-fmodules-cache-path=", k_concat | k_hard | k_clang},
    {"-fmodules-ts", k_hard},
    {"-fno-color-diagnostics", k_special | k_clang},
    {"-fno-diagnostics-color", k_special},
    {"-fopt-info", k_prefix | k_special | k_gcc},
    {"-foptimization-record-file=", k_concat | k_hard | k_clang},
    {"-fplugin-arg-", k_prefix | k_hard},
    {"-fplugin=", k_concat | k_hard},
    {"-fproc-stat-report=", k_concat | k_hard | k_clang},
    {"-fprofile-arcs", k_special},
    {"-fprofile-dir=", k_concat | k_comp | k_gcc},
    {"-fprofile-generate", k_special},
    {"-fprofile-generate=", k_concat | k_special},
    {"-fprofile-instr-use", k_hard | k_clang},
    {"-fprofile-instr-use=", k_concat | k_path | k_in | k_clang},
    {"-fprofile-list=", k_concat | k_path | k_in | k_clang},
    {"-fprofile-note=", k_concat | k_hard | k_gcc},
    {"-fprofile-prefix-map=", k_concat | k_gcc | k_special},
    {"-fprofile-sample-use=", k_concat | k_path | k_in | k_clang},
    {"-fprofile-use", k_hard},
    {"-fprofile-use=", k_concat | k_hard},
    {"-framework", k_arg | k_link},
    {"-frandom-seed=", k_concat | k_comp},
    {"-fsanitize-blacklist=", k_concat | k_path | k_in | k_clang},
    {"-fsanitize-coverage-allowlist=", k_concat | k_path | k_in | k_clang},
    {"-fsanitize-coverage-blocklist=", k_concat | k_path | k_in | k_clang},
    {"-fsanitize-coverage-ignorelist=", k_concat | k_path | k_in | k_clang},
    {"-fsanitize-ignorelist=", k_concat | k_path | k_in | k_clang},
    {"-fsanitize-system-ignorelist=", k_concat | k_path | k_in | k_clang},
    {"-fsave-optimization-record", k_hard | k_clang},
    {"-fsave-optimization-record=", k_concat | k_hard | k_clang},
    {"-fstack-usage", k_special},
    {"-fsyntax-only", k_hard},
    {"-ftest-coverage", k_special},
    {"-ftime-trace", k_special | k_clang},
    {"-ftime-trace-granularity=", k_concat | k_comp | k_clang},
    {"-fxray-always-instrument=", k_concat | k_path | k_in | k_clang},
    {"-fxray-attr-list=", k_concat | k_path | k_in | k_clang},
    {"-fxray-never-instrument=", k_concat | k_path | k_in | k_clang},
    {"-gen-reproducer", k_hard | k_clang},
    {"-gsplit-dwarf", k_special},
    {"-gsplit-dwarf=", k_concat | k_special | k_clang},
    {"-idirafter", k_arg | k_concat | k_path | k_cpp},
    {"-iframework", k_arg | k_concat | k_path | k_cpp | k_hard_direct | k_clang},
    {"-imacros", k_arg | k_concat | k_path | k_cpp | k_in},
    {"-include", k_arg | k_concat | k_path | k_cpp | k_in},
    {"-include-pch", k_arg | k_path | k_cpp | k_in | k_clang},
    {"-iprefix", k_arg | k_concat | k_path | k_cpp | k_hard_direct},
    {"-iquote", k_arg | k_concat | k_path | k_cpp},
    {"-isysroot", k_arg | k_concat | k_path | k_cpp | k_special},
    {"-isystem", k_arg | k_concat | k_path | k_cpp},
    {"-isystem-after", k_arg | k_concat | k_path | k_cpp | k_clang},
    {"-iwithprefix", k_arg | k_concat | k_path | k_cpp | k_hard_direct},
    {"-iwithprefixbefore", k_arg | k_concat | k_path | k_cpp | k_hard_direct},
    {"-l", k_arg | k_concat | k_link},
    {"-march=native", k_hard},
    {"-mcpu=native", k_hard},
    {"-mtune=native", k_hard},
    {"-nobuiltininc", k_cpp | k_clang},
    {"-nostdinc", k_cpp},
    {"-nostdinc++", k_cpp},
    {"-nostdlibinc", k_cpp | k_clang},
    {"-o", k_arg | k_concat | k_path | k_out | k_special},
    {"-pipe", k_comp},
    {"-print-", k_prefix | k_hard},
    {"-save-stats", k_hard | k_clang},
    {"-save-stats=", k_concat | k_hard | k_clang},
    {"-save-temps", k_hard},
    {"-save-temps=", k_concat | k_hard},
    {"-specs", k_arg | k_path | k_gcc | k_special},
    {"-specs=", k_concat | k_path | k_gcc | k_special},
    {"-target", k_arg | k_comp | k_clang | k_special},
    {"-traditional-cpp", k_cpp | k_hard_direct},
    {"-trigraphs", k_cpp},
    {"-u", k_arg | k_concat | k_link},
    {"-undef", k_cpp},
    {"-v", k_hard},
    {"-wrapper", k_arg | k_hard | k_gcc},
    {"-x", k_arg | k_concat | k_special},
    {"-z", k_arg | k_link},
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
