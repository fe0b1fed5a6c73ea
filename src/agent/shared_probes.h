#pragma once

// One compiler run for two askers. A compiler's identity (toolchain/toolchain_id.h) runs
// `<compiler> -x c -E -v /dev/null` and the same for c++; the scanner (deps-scanner/,
// CompilerProber) runs exactly that command to learn the built-in include directories. The
// runner returned here passes every identity probe on and hands the output of those two to
// the scanner's prober, so the first compile of a compiler does not wait for the scanner to
// run the compiler once more.
//
// The identity's environment is the one to trust for the scanner: the action's compiler
// runs with a fixed environment, and compiles whose environment sets what could move the
// built-in directories (GCC_EXEC_PREFIX, COMPILER_PATH: toolchain/environment.h) run
// locally and are never scanned.
//
// Thread safety: the runner may be called from any thread, as the prober may.

#include "depscan/builtin_probe.h"
#include "toolchain/probe.h"

namespace ccrex::agent {

// `runner`, also handing successful include-list probes to `prober`, which must outlive it.
toolchain::ProbeRunner sharing_include_probes(toolchain::ProbeRunner runner,
                                              depscan::CompilerProber& prober);

} // namespace ccrex::agent
