#pragma once

// Staging at a fixed absolute path. A Command whose environment sets CCREX_STAGE_ROOT=/abs
// asks for its input root to appear at /abs while it runs, so that a compile records the
// same paths (debug info's compile directory, __FILE__ of absolute sources, coverage data)
// as it would on the client. The runner bind-mounts the staged input root over /abs in a
// private mount namespace (`unshare --mount`, with a user namespace when not root) and
// starts the command in /abs/<working_directory>; other processes never see the mount.
//
// Other REAPI servers ignore the variable; it still keys the action by that path, so such
// an object is never served to a compile in another directory.

#include "reapi/proto.h"
#include "util/result.h"

#include <string>
#include <vector>

namespace ccrex::server {

inline constexpr const char* k_stage_root_variable = "CCREX_STAGE_ROOT";
// Exit codes of the wrapper when it cannot set the mount up (never a compiler's).
inline constexpr int k_stage_setup_failed = 213;

// Which stage roots a server accepts: an absolute, normalized path that is neither a
// system directory nor below one (/, /bin, /boot, /dev, /etc, /lib*, /proc, /run, /sbin,
// /sys, /usr, /var) and neither the server's store nor below it. The checks never touch the
// disk beyond the store's own path, and every refusal has the same wording, so a client
// learns nothing about which directories exist.

// Return the stage root `command` asks for, "" when none. invalid_argument when the value
// is refused (see above). `store_dir` is the server's store ("" skips that check).
util::Result<std::string> requested_stage_root(const reapi::v2::Command& command,
                                               const std::string& store_dir);

// Check, just before the mount, that `stage_root` (accepted by requested_stage_root) is a
// directory whose real path (symbolic links resolved) is accepted too. One
// failed_precondition message for every reason, so that again nothing tells a missing
// directory from a refused one.
util::Status check_stage_root_target(const std::string& stage_root, const std::string& store_dir);

// Return whether this machine lets the server create private mount namespaces (probed once).
bool stage_root_supported();

// Return the argv that runs `argv` with `staged` bind-mounted at `stage_root`, in
// `stage_root`/`working_directory`.
std::vector<std::string> stage_root_argv(const std::vector<std::string>& argv,
                                         const std::string& staged,
                                         const std::string& stage_root,
                                         const std::string& working_directory);

} // namespace ccrex::server
