#include "toolchain/environment.h"

#include <algorithm>
#include <array>

namespace ccrex::toolchain {
namespace {

constexpr EnvPolicy k_forward = EnvPolicy::forward;
constexpr EnvPolicy k_local = EnvPolicy::local;

// Sorted by name; environment_test checks it and that every name is listed once.
constexpr auto k_table = std::to_array<EnvVariable>({
    // clang: "+opt"/"-opt"/"s/a/b/" edits of the driver's own command line.
    {"CCC_OVERRIDE_OPTIONS", k_local, "compiler_env", "edits the command line"},
    // clang: write the cc1 command line / the headers read / the diagnostics / process
    // statistics to stderr or to the file named by the matching *_FILE variable.
    {"CC_LOG_DIAGNOSTICS", k_local, "compiler_env", "writes diagnostics to a file"},
    {"CC_PRINT_HEADERS", k_local, "compiler_env", "prints every header read"},
    {"CC_PRINT_OPTIONS", k_local, "compiler_env", "writes the cc1 command line to a file"},
    {"CC_PRINT_PROC_STAT", k_local, "compiler_env", "writes process statistics to a file"},
    // gcc: the width of the source lines quoted in diagnostics.
    {"COLUMNS", k_forward, "", "sets the width of diagnostics"},
    // gcc and clang: a colon-separated list of programs' directories (cc1, as, ld) searched
    // before the compiler's own: another assembler or compiler proper than the identity says.
    {"COMPILER_PATH", k_local, "compiler_env", "chooses the programs the driver runs"},
    // gcc and clang: like -I after the command line's -I directories (the scanner reads it).
    {"CPATH", k_forward, "", "adds include directories"},
    // gcc and clang: like -isystem after the command line's, per language (the scanner
    // reads the one of the source's language).
    {"CPLUS_INCLUDE_PATH", k_forward, "", "adds C++ system include directories"},
    {"C_INCLUDE_PATH", k_forward, "", "adds C system include directories"},
    // gcc: write a make rule like -MD, to a file the action does not collect.
    {"DEPENDENCIES_OUTPUT", k_local, "dependencies_env", "writes a dependency file"},
    // gcc: the colours of diagnostics (when coloured at all).
    {"GCC_COLORS", k_forward, "", "sets the colours of diagnostics"},
    // gcc: compile a second time without debug information and compare (-fcompare-debug).
    {"GCC_COMPARE_DEBUG", k_local, "compiler_env", "compiles twice and compares the results"},
    // gcc: the prefix the driver finds cc1, as and its libraries under.
    {"GCC_EXEC_PREFIX", k_local, "compiler_env", "chooses the programs the driver runs"},
    // gcc: extra machine-readable fix-it hints on stderr.
    {"GCC_EXTRA_DIAGNOSTIC_OUTPUT", k_forward, "", "adds fix-it hints to diagnostics"},
    // gcc: hyperlinks in diagnostics.
    {"GCC_URLS", k_forward, "", "adds hyperlinks to diagnostics"},
    // clang (Apple targets): the minimum OS version built for.
    {"IPHONEOS_DEPLOYMENT_TARGET", k_forward, "", "sets the target OS version"},
    // gcc and clang (gettext): the language and character set of messages.
    {"LANG", k_forward, "", "sets the language of messages"},
    {"LANGUAGE", k_forward, "", "sets the language of messages"},
    {"LC_ALL", k_forward, "", "sets the language of messages"},
    {"LC_CTYPE", k_forward, "", "sets the character set of messages"},
    {"LC_MESSAGES", k_forward, "", "sets the language of messages"},
    // clang (Apple targets): the minimum OS version built for.
    {"MACOSX_DEPLOYMENT_TARGET", k_forward, "", "sets the target OS version"},
    // gcc and clang: like -isystem for Objective-C and Objective-C++ sources.
    {"OBJCPLUS_INCLUDE_PATH", k_forward, "", "adds Objective-C++ system include directories"},
    {"OBJC_INCLUDE_PATH", k_forward, "", "adds Objective-C system include directories"},
    // clang: the old name of CCC_OVERRIDE_OPTIONS.
    {"QA_OVERRIDE_GCC3_OPTIONS", k_local, "compiler_env", "edits the command line"},
    // clang (Apple targets): records the command line in the debug information.
    {"RC_DEBUG_OPTIONS", k_forward, "", "records the command line in debug information"},
    // clang (Apple targets): the SDK, hence the system include directories, which the
    // scanner does not model.
    {"SDKROOT", k_local, "compiler_env", "chooses the system headers"},
    // gcc and clang: the time __DATE__ and __TIME__ expand to (reproducible builds).
    {"SOURCE_DATE_EPOCH", k_forward, "", "pins __DATE__ and __TIME__"},
    // gcc: like DEPENDENCIES_OUTPUT, also listing system headers.
    {"SUNPRO_DEPENDENCIES", k_local, "dependencies_env", "writes a dependency file"},
    // gcc: how hyperlinks in diagnostics are written.
    {"TERM_URLS", k_forward, "", "adds hyperlinks to diagnostics"},
    // clang (Apple targets): the minimum OS version built for.
    {"TVOS_DEPLOYMENT_TARGET", k_forward, "", "sets the target OS version"},
    {"WATCHOS_DEPLOYMENT_TARGET", k_forward, "", "sets the target OS version"},
});

constexpr size_t count_forwarded() {
  size_t n = 0;
  for (const auto& v : k_table) {
    n += v.policy == k_forward ? 1 : 0;
  }
  return n;
}

constexpr auto k_forwarded = [] {
  std::array<const char*, count_forwarded()> names{};
  size_t i = 0;
  for (const auto& v : k_table) {
    if (v.policy == k_forward) {
      names[i++] = v.name.data(); // literals: NUL-terminated
    }
  }
  return names;
}();

bool is_set(const std::vector<std::string>& env, std::string_view name) {
  return std::any_of(env.begin(), env.end(), [&](const std::string& e) {
    return e.size() > name.size() && e[name.size()] == '=' && std::string_view(e).starts_with(name);
  });
}

} // namespace

std::span<const EnvVariable> compiler_environment() {
  return k_table;
}

std::span<const char* const> forwarded_environment() {
  return k_forwarded;
}

const EnvVariable* local_environment_variable(const std::vector<std::string>& env) {
  for (const auto& v : k_table) {
    if (v.policy == k_local && is_set(env, v.name)) {
      return &v;
    }
  }
  return nullptr;
}

} // namespace ccrex::toolchain
