#pragma once

// Settings of the REAPI server library, shared by `ccrex-server` and the server embedded in
// ccrexd. A plain struct: every field has its default here and is documented.

#include "server/sandbox_settings.h"
#include "util/result.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ccrex::server {

// A range of REAPI versions 2.low..2.high, both ends included, as minor numbers.
struct ApiVersions {
  // The newest version this server speaks.
  static constexpr int k_newest_minor = 2;
  int low_minor = 0;
  int high_minor = k_newest_minor;

  // "2.0", "2.1-2.2", "2.1+" (2.1 up to the newest): the spelling parse_api_versions reads.
  std::string to_string() const;
  bool operator==(const ApiVersions&) const = default;
};

// Parse "2.N" (only that version), "2.N-2.M" or "2.N+" (2.N up to the newest). Versions
// outside 2.0..2.<newest>, a low end above the high end, or anything else is invalid.
util::Result<ApiVersions> parse_api_versions(std::string_view text);

struct Config {
  // Addresses to listen on: "unix:/path", "HOST:PORT" (port 0 picks a free port).
  std::vector<std::string> listen;
  // Root of the on-disk store (CAS blobs, action results, temporary files, work dirs).
  std::string cache_dir;
  // Size cap of the CAS in bytes; least recently used blobs are evicted beyond it.
  int64_t max_size = int64_t{5} << 30;
  // zstd level of blobs the store keeps compressed (blob_compression.h); 0 stores every
  // blob raw. The cap counts bytes on disk.
  int compression_level = 1;
  // Number of concurrent executions; 0 means the number of cores.
  int workers = 0;
  // Largest total of blob bytes accepted in one Batch* request, and advertised as
  // max_batch_total_size_bytes. gRPC's receive limit is set well above it.
  int64_t max_batch_bytes = int64_t{4} << 20;
  // Platform properties this server's workers offer: name -> accepted values. An action may
  // ask for any subset; a name may repeat (ISA) and each value must be offered.
  std::map<std::string, std::vector<std::string>> platform;
  // Ignore platform property names that are not in `platform` (Bazel setups often send
  // e.g. container-image) instead of rejecting the action.
  bool lenient_platform = false;
  // Execution time limit when the Action sets none, and the largest one accepted.
  std::chrono::seconds default_timeout{600};
  std::chrono::seconds max_timeout{3600};
  // How long finished operations stay available to WaitExecution.
  std::chrono::seconds operation_retention{600};
  // How often an Execute/WaitExecution stream re-sends the current state of an operation
  // that did not change, so idle streams survive proxies and client deadlines.
  std::chrono::milliseconds operation_resend_interval{30000};
  // Limits no client can exhaust (README "Security"); zero turns a bound off. The counts
  // are unbounded here, for the server embedded in ccrexd (its one client is the agent,
  // which runs every compile through it); ccrex-server's command line sets the bounds
  // (1024 queued, 256 per client, 64 streams per client) unless told otherwise.
  // Actions waiting for a worker, in all and per client (peer address and instance);
  // beyond either, Execute answers RESOURCE_EXHAUSTED at once.
  size_t max_queued = 0;
  size_t max_queued_per_client = 0;
  // An operation nobody waits for (every Execute/WaitExecution stream gone) this long is
  // cancelled: dropped while queued, its processes killed while running.
  std::chrono::milliseconds abandoned_grace{5000};
  // Files, directories and symlinks one input root may expand to when staged (shared
  // subtrees count once per place they appear).
  int64_t max_input_entries = 1000000;
  // Bytes of large repeated input subtrees kept read-only under <cache_dir>/trees and
  // mounted into sandboxed actions instead of staged as copies (tree_cache.h); 0: off.
  int64_t tree_cache_size = int64_t{2} << 30;
  // Largest blob accepted (a ByteStream Write declaring more is refused at once); never
  // more than max_size.
  int64_t max_blob_size = int64_t{1} << 30;
  // Bytes one action may leave as outputs, stdout and stderr together (output_limit.h).
  int64_t max_output_size = int64_t{4} << 30;
  // Where actions run without a sandbox get a private TMPDIR each (action_tmpdir.h); empty:
  // this process's $TMPDIR, else /tmp.
  std::string tmp_dir;
  // A ByteStream stream without a message for this long is ended; a partial upload not
  // continued for this long is deleted.
  std::chrono::seconds stream_idle_timeout{60};
  std::chrono::seconds partial_upload_expiry{300};
  // Concurrent ByteStream streams per client (peer address).
  size_t max_streams_per_client = 0;
  // Offer zstd-compressed ByteStream transfers (REAPI 2.1's compressed-blobs resource
  // names, announced in CacheCapabilities.supported_compressors) when api_versions reaches
  // 2.1. Off here: the embedded server's one client is on the same machine, where
  // compression only costs time; ccrex-server's command line turns it on unless
  // --no-compressed-blobs.
  bool compressed_blobs = false;
  // REAPI versions advertised by GetCapabilities (deprecated = low) and honoured by
  // Execute: when the range stops at 2.0, only Command.output_files/output_directories are
  // read and output_paths is ignored; when it starts at 2.1 or later, only output_paths is
  // read and the 2.0 fields are ignored; a range spanning both reads output_paths when it is
  // non-empty and the 2.0 fields otherwise (see output_fields.h).
  ApiVersions api_versions;

  // How actions are confined: bubblewrap, root modes, user, limits (sandbox_settings.h).
  SandboxSettings sandbox;

  // Security (see auth.h and the README's "Security" section). The defaults suit the server
  // embedded in ccrexd, which only its own process reaches; ccrex-server's command line
  // sets allow_ac_updates and allow_asset_pushes to false and store_lock_wait to zero unless
  // told otherwise.

  // TLS on every TCP address: PEM files with the certificate chain and its private key
  // (both or neither). Unix sockets stay plaintext; their file permissions guard them.
  std::string tls_cert_file;
  std::string tls_key_file;
  // PEM file of the CAs that sign client certificates: with it (and TLS), every client must
  // present a certificate they signed (mutual TLS).
  std::string tls_client_ca_file;
  // Token file (format in auth.h): when set, every call needs a listed bearer token and has
  // only that token's roles.
  std::string auth_tokens_file;
  // Accept UpdateActionResult from any caller when there is no token file. Without it the
  // ActionCache holds only results of this server's own executions.
  bool allow_ac_updates = true;
  // Accept Remote Asset PushBlob/PushDirectory from any caller when there is no token file
  // (with one, the write-asset role decides). Without it the asset store stays empty.
  bool allow_asset_pushes = true;
  // Listen without TLS on TCP addresses other than loopback ones (a loud warning at start).
  bool allow_insecure_listen = false;
  // Remote Asset API (asset_store.h): URIs and qualifiers one request may carry, their
  // sizes, and the mappings kept (the oldest pushed are dropped beyond it).
  size_t max_asset_uris = 64;
  size_t max_asset_qualifiers = 64;
  size_t max_asset_string_bytes = 8192;
  size_t max_assets = 100000;
  // How long start() waits for another process to release the store directory before it
  // gives up with an error naming that process.
  std::chrono::milliseconds store_lock_wait{10000};

  // ccrex-server's status port (status_http.h): "HOST:PORT" serving the status page and
  // Prometheus metrics over HTTP, or empty for none. Loopback hosts only, unless
  // allow_remote_status (it has no authentication).
  std::string status_listen;
  bool allow_remote_status = false;
};

// Return whether the server offers zstd-compressed ByteStream transfers: asked for, and
// the advertised range reaches 2.1, where the spec introduced them (a client of a 2.0-only
// server never sees them).
inline bool offers_compressed_blobs(const Config& config) {
  return config.compressed_blobs && config.api_versions.high_minor >= 1;
}

// Return the platform properties the host offers: OSFamily from uname (lowercase), ISA from
// the machine type (x86-64, arm-a64, ...) plus the x86 extensions the CPU reports.
std::map<std::string, std::vector<std::string>> host_platform();

} // namespace ccrex::server
