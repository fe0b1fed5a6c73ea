#pragma once

// The `debug` setting (CCREX_DEBUG=1, ccache's CCACHE_DEBUG): for every compile the agent
// writes `<object>.ccrex-debug` beside the object, naming everything that went into the
// action's key, so two compiles that should have shared a result can be compared with
// `diff`: the compiler's identity, the arguments, the working directory, the environment
// and platform of the action, each input file with its digest, and the expected outputs.
//
// Thread safety: pure functions over their arguments (one file write).

#include "agent/action_builder.h"
#include "toolchain/toolchain_id.h"
#include "util/result.h"

#include <string>

namespace ccrex::agent {

// The text of the debug file for `built`.
std::string describe_action(const BuiltAction& built, const toolchain::ToolchainId& toolchain);

// Write describe_action() to `<object_path>.ccrex-debug` (atomically).
util::Status write_debug_file(const std::string& object_path,
                              const BuiltAction& built,
                              const toolchain::ToolchainId& toolchain);

} // namespace ccrex::agent
