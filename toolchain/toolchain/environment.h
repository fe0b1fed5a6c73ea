#pragma once

// The environment variables gcc and clang read that change what they do or what they write,
// and what ccrex does about each: forward it into the action (which makes it part of the
// action's key) or run the compile locally. The table in environment.cpp is the one place
// that decides; the agent's compile handler and action builder both read it.
//
// Variables that change nothing a `-c` compile produces are not listed: LIBRARY_PATH and
// MAKEFLAGS (linking only), TMPDIR/TMP/TEMP (temporary files only), GCOV_PREFIX* and
// LLVM_PROFILE_FILE (read by instrumented programs, not the compiler), TERM (colours need a
// terminal on stderr, which an action never has; ccrex decides colours itself), PATH (an
// action gets a fixed one) and PWD (part of the location handling of debug information).
//
// Thread safety: immutable data and pure functions.

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ccrex::toolchain {

enum class EnvPolicy {
  forward, // copied into the action's environment when set (so it is keyed)
  local,   // the compile runs locally when the variable is set at all (even empty)
};

struct EnvVariable {
  std::string_view name;
  EnvPolicy policy = EnvPolicy::forward;
  // For EnvPolicy::local: the counter of such local compiles, without "local_".
  std::string_view counter;
  // What the compiler does with it.
  std::string_view effect;
};

// The whole table, sorted by name.
std::span<const EnvVariable> compiler_environment();

// The names of the EnvPolicy::forward variables, sorted.
std::span<const char* const> forwarded_environment();

// Return the first variable set in `env` ("NAME=value" strings) whose policy is local, or
// nullptr when none is.
const EnvVariable* local_environment_variable(const std::vector<std::string>& env);

} // namespace ccrex::toolchain
