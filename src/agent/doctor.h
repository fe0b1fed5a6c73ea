#pragma once

// `ccrex --doctor [COMPILER]`: checks the whole setup a compile depends on and says, one
// line each, what works and what does not: the agent (it answered), the configuration, the
// cache directory, the engine (reachable, compatible, what it offers, whether this
// configuration's platform and mode can use it) and, when named, a compiler (found, its
// family and identity). Every check runs; a failed one never stops the next.
//
// Thread safety: run_doctor() may be called concurrently; it uses only its arguments.

#include "agent/backend.h"
#include "agent/config.h"
#include "toolchain/toolchain_id.h"
#include "util/result.h"

#include <string>
#include <vector>

namespace ccrex::agent {

struct DoctorInputs {
  const Config* config = nullptr;
  // The engine of `config` (embedded server or remote), or why there is none.
  util::Result<Executor*> executor = util::Error(util::ErrorCode::unavailable, "not set");
  // The client's environment (PATH for the compiler).
  std::vector<std::string> env;
  // The compiler to check ("" for none): an absolute path (the client resolves what the
  // user typed) or a name to look up in PATH.
  std::string compiler;
  toolchain::ToolchainIdCache* toolchains = nullptr;
};

struct DoctorReport {
  // "ok: ..." and "problem: ..." lines, each ending in '\n'.
  std::string text;
  // 0 when no check found a problem, 1 otherwise.
  int exit_code = 0;
};

DoctorReport run_doctor(const DoctorInputs& in);

} // namespace ccrex::agent
