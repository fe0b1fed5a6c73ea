#pragma once

// The canonical-form checks REAPI prescribes for single messages, as pure functions: no
// store, no configuration, nothing but the message (what each one checks is listed in
// tree_validation.h, which applies them to an action and its whole input tree). Kept apart
// so that code which only needs the checks (the Directory fuzz target) compiles and links
// them without the store and the server's configuration.

#include "reapi/proto.h"
#include "util/result.h"

#include <string_view>

namespace ccrex::server {

// Each returns invalid_argument on a violation.
util::Status validate_name(std::string_view name);
util::Status validate_directory(const reapi::v2::Directory& dir);
util::Status validate_command(const reapi::v2::Command& command);
util::Status validate_platform_order(const reapi::v2::Platform& platform);

} // namespace ccrex::server
