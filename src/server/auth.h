#pragma once

// Access control of the server: who may call what. Every gRPC handler asks one Access
// object, at its top, whether the caller may act in a role on an instance; nothing else in
// the server decides access.
//
// Roles:
//   read       GetCapabilities, FindMissingBlobs, BatchReadBlobs, GetTree, GetActionResult,
//              ByteStream Read
//   write-cas  BatchUpdateBlobs, ByteStream Write and QueryWriteStatus
//   write-ac   UpdateActionResult
//   execute    Execute, WaitExecution
//   write-asset  Remote Asset PushBlob and PushDirectory (FetchBlob and FetchDirectory
//              need read)
//
// Without a token file every caller has every role except write-ac and write-asset: it has
// write-ac only when `allow_ac_updates` is set (results otherwise enter the ActionCache only
// from the server's own executions), and write-asset only when `allow_asset_pushes` is set
// (a Remote Asset mapping decides what other clients get for a URI, as a result does for an
// action). With a token file, each call must carry "authorization: Bearer TOKEN" for a
// token listed there, and has exactly the roles listed for that token and the request's
// instance: a missing or unknown token gets UNAUTHENTICATED, a known token without the role
// PERMISSION_DENIED, both with a message.
//
// Token file: one grant per line, '#' starts a comment, fields separated by blanks:
//
//   sha256:HEX  instance=NAME  roles=ROLE[,ROLE...]  [name=LABEL]
//
// HEX is the SHA-256 (64 lowercase hex digits) of the token's bytes, so the file holds no
// secret (`printf %s "$TOKEN" | sha256sum`). NAME is an instance name, "*" for every
// instance, or empty (`instance=`) for the default instance. LABEL names the token in logs
// and messages (default: "line N"). A token may appear on several lines; its roles on an
// instance are those of every line that matches the instance.
//
// reload() re-reads the token file (ccrex-server does on SIGHUP): calls that start after it
// see the new grants; a file that cannot be read or parsed, or grants nothing, leaves the
// old grants in force.
//
// Thread safety: all methods may be called concurrently, reload() included.

#include "server/config.h"
#include "util/result.h"

#include <grpcpp/server_context.h>
#include <grpcpp/support/status.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace ccrex::server {

enum class Role : uint8_t { read = 1, write_cas = 2, write_ac = 4, execute = 8, write_asset = 16 };

// Return the name of `role` as written in token files ("write-cas").
std::string_view role_name(Role role);

// One line of a token file.
struct TokenGrant {
  // SHA-256 of the token, 64 lowercase hex digits.
  std::string token_sha256;
  // Instance name, or "*" for every instance.
  std::string instance;
  // Bit set of Role values.
  unsigned roles = 0;
  // Label for logs and messages.
  std::string name;
};

// Parse a token file's text; errors name `origin` and the line.
util::Result<std::vector<TokenGrant>> parse_token_file(std::string_view text,
                                                       std::string_view origin);

class Access {
public:
  // Access for `grants` (none: no token needed, see above).
  Access(std::vector<TokenGrant> grants, bool allow_ac_updates, bool allow_asset_pushes = false);

  // Build the Access `config` asks for, reading config.auth_tokens_file when set. A token
  // file with no grant is an error (it would lock everyone out).
  static util::Result<std::unique_ptr<Access>> from_config(const Config& config);

  // OK when the caller of `context` may act as `role` on `instance`; otherwise
  // UNAUTHENTICATED or PERMISSION_DENIED with a message naming `rpc`. Denials are logged.
  grpc::Status check(const grpc::ServerContext& context,
                     Role role,
                     std::string_view instance,
                     std::string_view rpc) const;

  // OK when the caller presents a valid token, or none is needed (the first step of calls
  // that learn their instance only from the stream, such as ByteStream Write).
  grpc::Status authenticate(const grpc::ServerContext& context, std::string_view rpc) const;

  // Return whether the caller of `context` may act as `role` on `instance` (for
  // Capabilities, which describes what this caller may do).
  bool allows(const grpc::ServerContext& context, Role role, std::string_view instance) const;

  // Whether calls must carry a token.
  bool tokens_required() const { return m_tokens_required; }

  // Read config.auth_tokens_file again (see above); nothing to do without one.
  util::Status reload(const Config& config);

private:
  // The roles of the caller on `instance`; `known` tells whether its token is valid (or none
  // is needed). `label` receives the token's name for messages.
  unsigned roles_of(const grpc::ServerContext& context,
                    std::string_view instance,
                    bool& presented,
                    bool& known,
                    std::string& label) const;

  std::shared_ptr<const std::vector<TokenGrant>> grants() const;

  mutable std::mutex m_mutex;
  std::shared_ptr<const std::vector<TokenGrant>> m_grants; // m_mutex; replaced by reload()
  const bool m_tokens_required;
  bool m_allow_ac_updates;
  bool m_allow_asset_pushes;
};

} // namespace ccrex::server
