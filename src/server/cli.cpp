#include "server/cli.h"

#include "server/blob_compression.h"
#include "util/file.h"
#include "util/strings.h"

#include <unistd.h>

#include <cstdlib>

namespace ccrex::server {
namespace {

std::string default_cache_dir() {
  const char* xdg = std::getenv("XDG_CACHE_HOME"); // NOLINT(concurrency-mt-unsafe)
  if (xdg != nullptr && *xdg != '\0') {
    return util::join_path(xdg, "ccrex-server");
  }
  // root's home is private (0700), so the sandbox user could not reach work directories
  // below it: a server run as root keeps its store where system services keep caches.
  if (::geteuid() == 0) {
    return "/var/cache/ccrex-server";
  }
  const char* home = std::getenv("HOME"); // NOLINT(concurrency-mt-unsafe)
  return util::join_path(home != nullptr ? home : "/tmp", ".cache/ccrex-server");
}

util::Result<std::chrono::seconds> parse_seconds(const std::string& text) {
  CCREX_ASSIGN_OR_RETURN(const int64_t n, util::parse_int(text));
  return std::chrono::seconds(n);
}

util::Status add_platform(Config& cfg, const std::string& spec) {
  const size_t eq = spec.find('=');
  if (eq == std::string::npos || eq == 0) {
    return util::invalid_argument("--platform expects NAME=VALUE, got '" + spec + "'");
  }
  cfg.platform[spec.substr(0, eq)].push_back(spec.substr(eq + 1));
  return {};
}

// One --sandbox-* option (or --no-sandbox); `next` reads its value.
template <typename Next>
util::Status parse_sandbox_option(SandboxSettings& sb, const std::string& opt, Next& next) {
  if (opt == "--no-sandbox") {
    sb.enabled = false;
  } else if (opt == "--sandbox-allow-network") {
    sb.allow_network = true;
  } else if (opt == "--sandbox-root") {
    CCREX_ASSIGN_OR_RETURN(auto v, next());
    const auto root = parse_root_mode(v);
    if (!root) {
      return util::invalid_argument("--sandbox-root expects host or input, got '" + v + "'");
    }
    sb.default_root = *root;
  } else if (opt == "--sandbox-uid" || opt == "--sandbox-gid") {
    CCREX_ASSIGN_OR_RETURN(auto v, next());
    CCREX_ASSIGN_OR_RETURN(const int64_t n, util::parse_int(v));
    if (n < 1 || n > 0xfffffffe) {
      return util::invalid_argument(opt + " must be a user or group id other than 0");
    }
    (opt == "--sandbox-uid" ? sb.uid : sb.gid) = static_cast<uint32_t>(n);
  } else if (opt == "--sandbox-max-memory" || opt == "--sandbox-max-file-size") {
    CCREX_ASSIGN_OR_RETURN(auto v, next());
    CCREX_ASSIGN_OR_RETURN(
        (opt == "--sandbox-max-memory" ? sb.max_address_space : sb.max_file_size),
        util::parse_size(v));
  } else if (opt == "--sandbox-max-processes") {
    CCREX_ASSIGN_OR_RETURN(auto v, next());
    CCREX_ASSIGN_OR_RETURN(sb.max_processes, util::parse_int(v));
  } else if (opt == "--sandbox-host-path") {
    CCREX_ASSIGN_OR_RETURN(auto v, next());
    if (v.empty() || v.front() != '/') {
      return util::invalid_argument("--sandbox-host-path needs an absolute path");
    }
    sb.host_paths.push_back(util::normalize_path(v));
  } else if (opt == "--sandbox-backend") {
    CCREX_ASSIGN_OR_RETURN(auto v, next());
    const auto backend = parse_sandbox_backend(v);
    if (!backend) {
      return util::invalid_argument("--sandbox-backend expects auto, native or bwrap, got '" + v
                                    + "'");
    }
    sb.backend = *backend;
  } else if (opt == "--sandbox-bwrap") {
    CCREX_ASSIGN_OR_RETURN(sb.bwrap, next());
  } else {
    return util::invalid_argument("unknown option '" + opt + "' (see --help)");
  }
  return {};
}

// One option of the command line, `opt` without any "=VALUE"; `next` reads its value.
template <typename Next>
util::Status
parse_option(CliOptions& out, Config& platform_overrides, const std::string& opt, Next& next) {
  if (opt == "--help" || opt == "-h") {
    out.help = true;
  } else if (opt == "--version") {
    out.version = true;
  } else if (opt == "--check") {
    out.check = true;
  } else if (opt == "--lenient-platform") {
    out.config.lenient_platform = true;
  } else if (opt == "--allow-ac-updates") {
    out.config.allow_ac_updates = true;
  } else if (opt == "--allow-asset-pushes") {
    out.config.allow_asset_pushes = true;
  } else if (opt == "--max-assets") {
    CCREX_ASSIGN_OR_RETURN(auto v, next());
    CCREX_ASSIGN_OR_RETURN(const int64_t n, util::parse_int(v));
    if (n < 1) {
      return util::invalid_argument("--max-assets must be at least 1");
    }
    out.config.max_assets = static_cast<size_t>(n);
  } else if (opt == "--status-listen") {
    CCREX_ASSIGN_OR_RETURN(out.config.status_listen, next());
  } else if (opt == "--no-compressed-blobs") {
    out.config.compressed_blobs = false;
  } else if (opt == "--allow-remote-status") {
    out.config.allow_remote_status = true;
  } else if (opt == "--allow-insecure-listen") {
    out.config.allow_insecure_listen = true;
  } else if (opt == "--tls-cert") {
    CCREX_ASSIGN_OR_RETURN(out.config.tls_cert_file, next());
  } else if (opt == "--tls-key") {
    CCREX_ASSIGN_OR_RETURN(out.config.tls_key_file, next());
  } else if (opt == "--tls-client-ca") {
    CCREX_ASSIGN_OR_RETURN(out.config.tls_client_ca_file, next());
  } else if (opt == "--auth-tokens") {
    CCREX_ASSIGN_OR_RETURN(out.config.auth_tokens_file, next());
  } else if (opt == "--listen") {
    CCREX_ASSIGN_OR_RETURN(auto v, next());
    out.config.listen.push_back(v);
  } else if (opt == "--cache-dir") {
    CCREX_ASSIGN_OR_RETURN(out.config.cache_dir, next());
  } else if (opt == "--max-size" || opt == "--max-blob-size" || opt == "--max-output-size") {
    CCREX_ASSIGN_OR_RETURN(auto v, next());
    CCREX_ASSIGN_OR_RETURN(const int64_t n, util::parse_size(v));
    if (n < 1) {
      return util::invalid_argument(opt + " must be at least one byte");
    }
    (opt == "--max-size"        ? out.config.max_size
     : opt == "--max-blob-size" ? out.config.max_blob_size
                                : out.config.max_output_size) = n;
  } else if (opt == "--compression-level") {
    CCREX_ASSIGN_OR_RETURN(auto v, next());
    CCREX_ASSIGN_OR_RETURN(out.config.compression_level, parse_compression_level(v));
  } else if (opt == "--workers") {
    CCREX_ASSIGN_OR_RETURN(auto v, next());
    CCREX_ASSIGN_OR_RETURN(const int64_t n, util::parse_int(v));
    if (n < 1 || n > 1024) {
      return util::invalid_argument("--workers must be between 1 and 1024");
    }
    out.config.workers = static_cast<int>(n);
  } else if (opt == "--platform") {
    CCREX_ASSIGN_OR_RETURN(auto v, next());
    CCREX_TRY(add_platform(platform_overrides, v));
  } else if (opt == "--default-timeout") {
    CCREX_ASSIGN_OR_RETURN(auto v, next());
    CCREX_ASSIGN_OR_RETURN(out.config.default_timeout, parse_seconds(v));
  } else if (opt == "--max-timeout") {
    CCREX_ASSIGN_OR_RETURN(auto v, next());
    CCREX_ASSIGN_OR_RETURN(out.config.max_timeout, parse_seconds(v));
  } else if (opt == "--api-versions") {
    CCREX_ASSIGN_OR_RETURN(auto v, next());
    CCREX_ASSIGN_OR_RETURN(out.config.api_versions, parse_api_versions(v));
  } else if (opt == "--max-queued" || opt == "--max-queued-per-client"
             || opt == "--max-streams-per-client") {
    CCREX_ASSIGN_OR_RETURN(auto v, next());
    CCREX_ASSIGN_OR_RETURN(const int64_t n, util::parse_int(v));
    if (n < 0) {
      return util::invalid_argument(opt + " must not be negative");
    }
    (opt == "--max-queued"              ? out.config.max_queued
     : opt == "--max-queued-per-client" ? out.config.max_queued_per_client
                                        : out.config.max_streams_per_client) =
        static_cast<size_t>(n);
  } else if (opt == "--tree-cache-size") {
    CCREX_ASSIGN_OR_RETURN(auto v, next());
    CCREX_ASSIGN_OR_RETURN(out.config.tree_cache_size, util::parse_size(v));
    if (out.config.tree_cache_size < 0) {
      return util::invalid_argument(opt + " must not be negative");
    }
  } else if (opt == "--tmp-dir") {
    CCREX_ASSIGN_OR_RETURN(out.config.tmp_dir, next());
    if (out.config.tmp_dir.empty() || out.config.tmp_dir[0] != '/') {
      return util::invalid_argument("--tmp-dir needs an absolute path");
    }
  } else if (opt == "--max-input-entries") {
    CCREX_ASSIGN_OR_RETURN(auto v, next());
    CCREX_ASSIGN_OR_RETURN(out.config.max_input_entries, util::parse_int(v));
  } else if (opt == "--abandoned-grace") {
    CCREX_ASSIGN_OR_RETURN(auto v, next());
    CCREX_ASSIGN_OR_RETURN(const auto sec, parse_seconds(v));
    out.config.abandoned_grace = sec;
  } else if (opt == "--stream-idle-timeout") {
    CCREX_ASSIGN_OR_RETURN(auto v, next());
    CCREX_ASSIGN_OR_RETURN(out.config.stream_idle_timeout, parse_seconds(v));
  } else if (opt == "--partial-upload-expiry") {
    CCREX_ASSIGN_OR_RETURN(auto v, next());
    CCREX_ASSIGN_OR_RETURN(out.config.partial_upload_expiry, parse_seconds(v));
  } else if (opt.starts_with("--sandbox-") || opt == "--no-sandbox") {
    CCREX_TRY(parse_sandbox_option(out.config.sandbox, opt, next));
  } else if (opt == "--log-level") {
    CCREX_ASSIGN_OR_RETURN(out.log_level, next());
  } else if (opt == "--log-file") {
    CCREX_ASSIGN_OR_RETURN(out.log_file, next());
  } else {
    return util::invalid_argument("unknown option '" + opt + "' (see --help)");
  }
  return {};
}

} // namespace

std::string usage() {
  return R"(Usage: ccrex-server [options]

A Remote Execution API v2 server: CAS, ActionCache, ByteStream, Capabilities and
Execution with a local worker pool.

Options:
  --listen ADDR          listen on ADDR: unix:/path or HOST:PORT (port 0 picks a free
                         port); repeatable; default 127.0.0.1:8980
  --cache-dir DIR        store directory (default ~/.cache/ccrex-server, and
                         /var/cache/ccrex-server for root)
  --max-size SIZE        CAS size cap, e.g. 500M, 5G (default 5G), counted on disk
  --compression-level N  zstd level of stored blobs, -5..19, 0 for none (default 1)
  --workers N            concurrent executions (default: number of cores)
  --platform NAME=VALUE  offer a platform property (repeatable); replaces the host
                         defaults (OSFamily, ISA) for that NAME
  --lenient-platform     ignore platform property names the server does not know
  --default-timeout SEC  execution time limit when an action sets none (default 600)
  --max-timeout SEC      largest action timeout accepted (default 3600)
  --api-versions RANGE   REAPI versions to advertise and honour: 2.0, 2.1, 2.2, a range
                         such as 2.1-2.2, or 2.1+ (2.1 up to the newest, 2.2); default
                         2.0-2.2. A range ending at 2.0 reads only the 2.0 output fields
                         (output_files, output_directories); one starting at 2.1 or later
                         reads only output_paths; a range covering both reads output_paths
                         when the Command sets it and the 2.0 fields otherwise
  --tls-cert FILE        serve TLS on every TCP address with this PEM certificate
                         chain (needs --tls-key); unix sockets stay plaintext
  --tls-key FILE         the PEM private key of --tls-cert
  --tls-client-ca FILE   require client certificates signed by a CA in this PEM file
                         (mutual TLS; needs --tls-cert)
  --auth-tokens FILE     require a bearer token listed in FILE on every call; each token
                         has roles per instance (read, write-cas, write-ac, execute,
                         write-asset); one
                         line per grant: sha256:HEX instance=NAME|* roles=ROLE,... [name=L]
                         where HEX is the SHA-256 of the token
  --allow-ac-updates     accept UpdateActionResult from every client (without it, and
                         without a token holding the write-ac role, only this server's own
                         executions enter the action cache)
  --allow-asset-pushes   accept Remote Asset PushBlob/PushDirectory from every client
                         (without it, and without a token holding the write-asset role,
                         Fetch finds nothing)
  --max-assets N         Remote Asset mappings kept; the oldest pushed are dropped beyond
                         it (default 100000)
  --allow-insecure-listen
                         allow plaintext listening on addresses other than loopback
                         (without TLS, anyone on the network can use the server)
  --max-queued N         actions waiting for a worker, in all (default 1024; 0: no
                         bound); beyond it Execute answers RESOURCE_EXHAUSTED
  --max-queued-per-client N
                         the same per client address and instance (default 256)
  --abandoned-grace SEC  cancel an execution nobody has waited for this long: dropped
                         while queued, killed while running (default 5)
  --max-input-entries N  files, directories and symlinks an input root may stage to
                         (default 1000000)
  --max-blob-size SIZE   largest blob accepted (default 1G, never above --max-size)
  --max-output-size SIZE
                         most bytes one action may leave in its outputs, stdout and
                         stderr together; beyond, RESOURCE_EXHAUSTED and nothing stored
                         (default 4G)
  --tmp-dir DIR           where actions run without a sandbox get a private TMPDIR each,
                         removed when the action ends (default: $TMPDIR, else /tmp)
  --tree-cache-size SIZE
                         bytes of large repeated input subtrees kept read-only in the
                         store and mounted into sandboxed actions instead of copied
                         (default 2G, 0 turns it off)
  --stream-idle-timeout SEC
                         end a ByteStream stream without a message for this long
                         (default 60)
  --partial-upload-expiry SEC
                         delete an unfinished upload not continued for this long
                         (default 300)
  --max-streams-per-client N
                         concurrent ByteStream streams per client address (default 64)
  --no-compressed-blobs  do not offer zstd-compressed ByteStream transfers (REAPI 2.1
                         compressed-blobs; offered by default when --api-versions
                         reaches 2.1)
  --sandbox-root ROOT    root of actions that do not ask for one with the platform
                         property ccrex-root: host (default; the host's system
                         directories read-only) or input (the input root as /)
  --sandbox-allow-network
                         offer ccrex-network=on: actions asking for it keep the network
  --sandbox-uid N        user actions run as (default 65534); --sandbox-gid N: group
  --sandbox-max-memory SIZE
                         address space of each action process (default 16G; 0: none)
  --sandbox-max-processes N
                         processes of the sandbox user (default 4096; 0: no limit)
  --sandbox-max-file-size SIZE
                         largest file an action may write (default 4G; 0: no limit)
  --sandbox-host-path DIR
                         also show DIR read-only in the host root (repeatable)
  --sandbox-backend WHO  who builds each action's sandbox: native (ccrex-action-init,
                         one program start fewer per action), bwrap (bubblewrap) or
                         auto (default: native, else bwrap, whichever works here)
  --sandbox-bwrap PATH   the bubblewrap program (default /usr/bin/bwrap)
  --no-sandbox           run actions unconfined as this server's user (host root only)
  --status-listen HOST:PORT
                         serve a status page (/), Prometheus metrics (/metrics) and
                         /healthz over HTTP on HOST:PORT (port 0 picks a free port);
                         no authentication, so loopback only unless
                         --allow-remote-status; off by default
  --allow-remote-status  allow --status-listen on an address other than loopback
  --log-level LEVEL      error, warn, info (default) or debug; logs go to stderr
  --log-file FILE        append stderr, and so the log, to FILE (created 0600) once the
                         server is listening; SIGHUP reopens it (for log rotation)
  --check                verify every stored blob against its digest and exit
  --help                 show this help
  --version              show the version

Each bound address is printed on stdout as "ccrex-server: listening on ADDR", the status
page's as "ccrex-server: status page at http://HOST:PORT/". SIGHUP reopens
--log-file and reloads the --auth-tokens file (a bad file leaves the old tokens in force);
SIGINT and SIGTERM stop.
One server per store directory: a second one on the same --cache-dir exits with an error.
)";
}

util::Result<CliOptions> parse_cli(const std::vector<std::string>& args) {
  CliOptions out;
  out.config.cache_dir = default_cache_dir();
  // A shared server's defaults: clients do not write the action cache, and a second server
  // on the same store stops at once.
  out.config.allow_ac_updates = false;
  out.config.allow_asset_pushes = false;
  out.config.store_lock_wait = std::chrono::milliseconds(0);
  // ... and no client can take the whole queue or every stream.
  out.config.max_queued = 1024;
  out.config.max_queued_per_client = 256;
  out.config.max_streams_per_client = 64;
  // Clients across a network gain from compressed transfers.
  out.config.compressed_blobs = true;
  Config platform_overrides;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string opt = args[i];
    std::string value;
    bool has_inline_value = false;
    if (const size_t eq = opt.find('='); opt.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = opt.substr(eq + 1);
      opt = opt.substr(0, eq);
      has_inline_value = true;
    }
    const auto next = [&]() -> util::Result<std::string> {
      if (has_inline_value) {
        return value;
      }
      if (i + 1 >= args.size()) {
        return util::invalid_argument(opt + " needs a value");
      }
      return args[++i];
    };
    if (auto st = parse_option(out, platform_overrides, opt, next); !st) {
      // Every message names the option it is about.
      const std::string& message = st.error().message();
      if (message.find(opt) != std::string::npos) {
        return st.error();
      }
      return util::invalid_argument(opt + ": " + message);
    }
  }
  if (out.config.listen.empty()) {
    out.config.listen.emplace_back("127.0.0.1:8980");
  }
  if (!platform_overrides.platform.empty()) {
    out.config.platform = host_platform();
    for (auto& [name, values] : platform_overrides.platform) {
      out.config.platform[name] = values;
    }
  }
  for (const auto& [name, value] :
       {std::pair{"--stream-idle-timeout", out.config.stream_idle_timeout},
        std::pair{"--partial-upload-expiry", out.config.partial_upload_expiry}}) {
    if (value.count() < 1) {
      return util::invalid_argument(std::string(name) + " must be at least 1 second");
    }
  }
  if (out.config.max_input_entries < 0 || out.config.abandoned_grace.count() < 0) {
    return util::invalid_argument("--max-input-entries and --abandoned-grace must not be negative");
  }
  if (out.config.default_timeout > out.config.max_timeout) {
    return util::invalid_argument("--default-timeout is larger than --max-timeout");
  }
  const Config& c = out.config;
  if (c.tls_cert_file.empty() != c.tls_key_file.empty()) {
    return util::invalid_argument("--tls-cert and --tls-key go together");
  }
  if (!c.tls_client_ca_file.empty() && c.tls_cert_file.empty()) {
    return util::invalid_argument("--tls-client-ca needs --tls-cert and --tls-key");
  }
  if (c.allow_ac_updates && !c.auth_tokens_file.empty()) {
    return util::invalid_argument("--allow-ac-updates does not combine with --auth-tokens: give "
                                  "the write-ac role to the tokens that may update the cache");
  }
  if (c.allow_asset_pushes && !c.auth_tokens_file.empty()) {
    return util::invalid_argument("--allow-asset-pushes does not combine with --auth-tokens: give "
                                  "the write-asset role to the tokens that may push");
  }
  return out;
}

} // namespace ccrex::server
