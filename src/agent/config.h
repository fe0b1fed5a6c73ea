#pragma once

// agent::Config: every setting of the agent, with its default. Filled by load_config()
// from, in increasing priority: defaults, /etc/ccrex.conf, ~/.config/ccrex/ccrex.conf
// ($XDG_CONFIG_HOME honoured), recc's RECC_* variables, then CCREX_* variables.
// The environment is the one the client sent with the compile, so settings can differ per
// build. Nothing reads getenv() after loading.
//
// Config files hold `key = value` lines; '#' starts a comment. Keys are the lowercase
// names in the table printed by `ccrex --show-config` (e.g. `remote = grpc://host:8980`).

#include "util/result.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ccrex::agent {

struct Config {
  // REAPI endpoint: grpc://host:port, grpcs://host:port or unix:/path. Empty: the embedded
  // server in the agent (zero-config local caching and execution).
  std::string remote;
  // Instance name sent with every request.
  std::string instance;
  // Platform properties sent with every action ("OSFamily" -> "linux"). Default: the
  // host's OSFamily and ISA.
  std::map<std::string, std::string> platform;
  // TLS: a CA bundle to trust, and a client certificate and key (PEM files).
  std::string tls_ca_file;
  std::string tls_client_cert;
  std::string tls_client_key;
  // A bearer token sent as "authorization: Bearer ..." (for hosted engines).
  std::string access_token;
  // Extra request headers "name=value".
  std::vector<std::string> headers;
  // Send access_token and headers over plaintext TCP to a non-loopback engine. Without it
  // such an engine is not used (compiles run locally and say why).
  bool allow_plaintext_credentials = false;
  // Compile locally and only upload results to the remote ActionCache.
  bool cache_only = false;
  // Use the remote cache but never write to it.
  bool read_only = false;
  // Cache compiles that fail (non-zero exit) too.
  bool cache_failures = false;
  // Run everything locally, bypassing ccrex entirely.
  bool disable = false;
  // Write `<object>.ccrex-debug` for every compile (agent/compile_debug.h).
  bool debug = false;
  // Root of the project: paths below it are relative in actions. Empty: the top of the
  // enclosing git work tree, else the current directory.
  std::string project_root;
  // The agent's own directory (stats, embedded store, logs). Default ~/.cache/ccrex.
  std::string cache_dir;
  // Size cap of the embedded store, counted on disk (compressed blobs at their size there).
  int64_t max_size = int64_t{5} << 30;
  // Keep the embedded store's blobs compressed with zstd (ccache's `compression`), at
  // `compression_level`: 0 means the default (1, ccache's), negative levels are faster,
  // higher ones (to 19) smaller.
  bool compression = true;
  int compression_level = 0;
  // The agent holds one compile's outputs and streams in memory while it checks and writes
  // them: a result larger than this is not fetched (the compile runs locally) and a local
  // compile larger than this is not stored.
  int64_t max_result_size = int64_t{512} << 20;
  // How dependencies are found: "scanner" (built-in, default) or "compiler" (-M).
  std::string depend_mode = "scanner";
  // Stage remote compiles at the same absolute path as the local one when the output
  // would record it (debug info, absolute paths). "auto": on for the embedded server.
  std::string same_path = "auto";
  // Send the compiler's closure (toolchain/closure.h) with every remote compile and ask
  // for the input root as the action's `/` (agent/hermetic_toolchain.h).
  bool hermetic_toolchain = false;
  // Time limit of one remote execution and of one RPC.
  std::chrono::seconds execution_timeout{600};
  std::chrono::seconds rpc_timeout{60};
  // Retries of failed RPCs (UNAVAILABLE and friends).
  int retries = 3;
  // Calls to one remote engine in flight at once (reapi/call_limiter.h); 0: no limit.
  int max_remote_calls = 64;
  // Local compiles the agent runs at once; 0: number of cores.
  int local_jobs = 0;
  // Log file ("" = no logging) and level.
  std::string log_file;
  std::string log_level = "info";
  // Agent exits after this long without requests.
  std::chrono::seconds idle_timeout{600};

  // Where each field's value came from ("default", "/etc/ccrex.conf:3", "CCREX_REMOTE").
  std::map<std::string, std::string> origin;
};

// The zstd level the embedded store writes blobs at: 0 when compression is off.
int store_compression_level(const Config& config);

// Build the configuration from `env` ("NAME=value" strings) and the config files.
// Errors (a bad boolean, an unknown key in a file, an unparsable size) name the key and
// where it came from.
util::Result<Config> load_config(const std::vector<std::string>& env);

// Return "key = value (origin)" lines for every setting, for `ccrex --show-config`.
std::string describe(const Config& config);

// The value of setting `key` in `config` as --show-config prints it; invalid_argument for
// an unknown key.
util::Result<std::string> config_value(const Config& config, std::string_view key);

// The user's configuration file for `env` ($XDG_CONFIG_HOME/ccrex/ccrex.conf, else
// ~/.config/ccrex/ccrex.conf); "" when neither variable is set.
std::string user_config_path(const std::vector<std::string>& env);

// Set `key_value` ("key=value") in the user's configuration file, replacing the key's
// line or adding one, after checking the key and the value as loading would; the file is
// replaced atomically and keeps every other line (comments included).
util::Status set_user_config(const std::vector<std::string>& env, std::string_view key_value);

// Return the value of `name` in `env`, or "" when absent.
std::string env_value(const std::vector<std::string>& env, std::string_view name);

} // namespace ccrex::agent
