#pragma once

// Platform properties: what the host offers and whether an action's request can be served.
//
// The server offers a map name -> values (Config::platform, by default host_platform()).
// An action asks for a list of (name, value) pairs (Action.platform, else Command.platform);
// every pair must be offered. A name the server does not know is a malformed request
// (INVALID_ARGUMENT) unless the server is lenient; a known name with a value the server
// does not offer cannot be served (FAILED_PRECONDITION).
//
// All functions are pure and thread-safe.

#include "reapi/proto.h"
#include "util/result.h"

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ccrex::server {

using PlatformOffer = std::map<std::string, std::vector<std::string>>;

// Return the REAPI ISA name for a `uname -m` machine string ("x86_64" -> "x86-64",
// "aarch64" -> "arm-a64"); unknown machines are returned unchanged.
std::string isa_for_machine(std::string_view machine);

// Return the REAPI x86 extension names ("x86-avx", "x86-avx2", "x86-avx-512",
// "x86-sse4.1", "x86-sse4.2") whose CPU flags appear in the "flags" line(s) of
// /proc/cpuinfo content `cpuinfo`, sorted. Extensions count only when every core lists them.
std::vector<std::string> x86_extensions_from_cpuinfo(std::string_view cpuinfo);

// Return the platform a host with the given `uname -s`, `uname -m` and cpuinfo offers:
// OSFamily = lowercase system name, ISA = architecture plus its extensions (x86 only).
PlatformOffer
platform_for(std::string_view sysname, std::string_view machine, std::string_view cpuinfo);

// Return "OSFamily=linux, ISA=x86-64, ISA=x86-avx" for messages.
std::string describe_offer(const PlatformOffer& offer);

// Check that every property of `requested` is offered. invalid_argument for unknown names
// (unless `lenient`, which skips them), failed_precondition for values not offered.
util::Status
check_platform(const reapi::v2::Platform& requested, const PlatformOffer& offer, bool lenient);

// Return the value of the last property named `name` in `platform`, or nullopt.
std::optional<std::string> platform_value(const reapi::v2::Platform& platform,
                                          std::string_view name);

// Add the sandbox's properties to `offer`, unless the server's configuration already names
// them: ccrex-root (host, plus input when `input_root`), ccrex-network (off, plus on when
// `network`).
void add_sandbox_offer(PlatformOffer& offer, bool input_root, bool network);

} // namespace ccrex::server
