#pragma once

// What the server's sandbox may do, set once per server (Config::sandbox). The sandbox
// itself is in sandbox.h; this header is light so that config.h can include it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ccrex::server {

// Which file system an action sees (README "Sandbox"), chosen per action by the platform
// property k_root_property, else by SandboxSettings::default_root.
enum class RootMode {
  // The host's system directories read-only, the input root at its staging path (or at
  // CCREX_STAGE_ROOT), the command in <root>/<working_directory>.
  host,
  // The input root is `/`, with only a minimal /dev, a new /proc and a private /tmp added;
  // the command runs in /<working_directory>.
  input,
};

// Platform property names the sandbox adds to what the server offers.
inline constexpr const char* k_root_property = "ccrex-root";       // host | input
inline constexpr const char* k_network_property = "ccrex-network"; // off | on

// A directory of the host mounted read-only into an action's root in place of a staged
// copy (tree_cache.h): `rel` relative to the input root, `source` on the host.
struct ReadOnlyMount {
  std::string rel;
  std::string source;
};

// "host" / "input"; nullopt for anything else.
std::optional<RootMode> parse_root_mode(std::string_view text);
const char* root_mode_name(RootMode mode);

// Which program builds an action's namespaces and mounts (sandbox.h).
enum class SandboxBackend {
  automatic, // native, else bwrap, whichever first works on this machine
  native,    // ccrex-action-init --sandbox, beside the server
  bwrap,     // bubblewrap
};

// "auto" / "native" / "bwrap"; nullopt for anything else.
std::optional<SandboxBackend> parse_sandbox_backend(std::string_view text);

struct SandboxSettings {
  // Run actions in a sandbox. When false (or when no sandbox works on this machine), host-root
  // actions run as the server's user in a PID namespace of their own and input-root actions are
  // refused.
  bool enabled = true;
  // Who builds the sandbox, and the bwrap program when bubblewrap does.
  SandboxBackend backend = SandboxBackend::automatic;
  std::string bwrap = "/usr/bin/bwrap";
  // Root of actions that do not ask for one.
  RootMode default_root = RootMode::host;
  // Offer ccrex-network=on: actions asking for it keep the host's network.
  bool allow_network = false;
  // The user and group actions run as. A server running as root switches to them before
  // the sandbox starts; any other server runs actions as its own user on the host (the
  // sandbox shows them these ids).
  uint32_t uid = 65534;
  uint32_t gid = 65534;
  // Resource limits of every process of an action (0: none). CPU time is the action's
  // timeout plus one second. Processes count every process of the sandbox user.
  int64_t max_address_space = int64_t{16} << 30;
  int64_t max_processes = 4096;
  int64_t max_file_size = int64_t{4} << 30;
  // Size of the private /tmp (a tmpfs, so memory).
  int64_t tmp_size = int64_t{1} << 30;
  // Host directories visible read-only in the host root, besides the system directories
  // (/usr, /bin, /sbin, /lib*, /etc, /opt).
  std::vector<std::string> host_paths;
};

} // namespace ccrex::server
