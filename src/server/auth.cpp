#include "server/auth.h"

#include "util/file.h"
#include "util/logging.h"
#include "util/sha256.h"
#include "util/strings.h"

#include <array>
#include <cctype>

namespace ccrex::server {
namespace {

constexpr std::string_view k_sha256_prefix = "sha256:";
constexpr std::string_view k_bearer = "bearer ";

constexpr std::array<Role, 5> k_roles = {
    Role::read, Role::write_cas, Role::write_ac, Role::execute, Role::write_asset};

unsigned bit(Role role) {
  return static_cast<unsigned>(role);
}

util::Result<unsigned> parse_roles(std::string_view text) {
  unsigned out = 0;
  for (const auto piece : util::split(text, ',', true)) {
    bool found = false;
    for (const Role r : k_roles) {
      if (piece == role_name(r)) {
        out |= bit(r);
        found = true;
      }
    }
    if (!found) {
      return util::invalid_argument("unknown role '" + std::string(piece)
                                    + "' (roles: read, write-cas, write-ac, execute, write-asset)");
    }
  }
  if (out == 0) {
    return util::invalid_argument("no role given");
  }
  return out;
}

// Compare two strings of equal length without a data-dependent early exit.
bool equal_in_constant_time(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = static_cast<unsigned char>(
        diff | (static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i])));
  }
  return diff == 0;
}

// The token of an "authorization: Bearer TOKEN" header; `presented` tells whether there was
// an authorization header at all.
std::string bearer_token(const grpc::ServerContext& context, bool& presented) {
  const auto& metadata = context.client_metadata();
  const auto it = metadata.find("authorization");
  presented = it != metadata.end();
  if (!presented) {
    return {};
  }
  const std::string value(it->second.data(), it->second.size());
  if (value.size() <= k_bearer.size()) {
    return {};
  }
  for (size_t i = 0; i < k_bearer.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(value[i])) != k_bearer[i]) {
      return {};
    }
  }
  return std::string(util::trim(std::string_view(value).substr(k_bearer.size())));
}

grpc::Status
denied(const grpc::ServerContext& context, grpc::StatusCode code, std::string message) {
  CCREX_LOG_INFO("access: denied a call from " << context.peer() << ": " << message);
  return {code, std::move(message)};
}

} // namespace

std::string_view role_name(Role role) {
  switch (role) {
  case Role::read:
    return "read";
  case Role::write_cas:
    return "write-cas";
  case Role::write_ac:
    return "write-ac";
  case Role::execute:
    return "execute";
  case Role::write_asset:
    return "write-asset";
  }
  return "unknown";
}

util::Result<std::vector<TokenGrant>> parse_token_file(std::string_view text,
                                                       std::string_view origin) {
  std::vector<TokenGrant> grants;
  int line_no = 0;
  for (const auto raw : util::split(text, '\n')) {
    ++line_no;
    const std::string where = std::string(origin) + ":" + std::to_string(line_no) + ": ";
    const std::string_view line = util::trim(raw.substr(0, raw.find('#')));
    if (line.empty()) {
      continue;
    }
    std::vector<std::string_view> fields;
    for (const auto f : util::split(line, ' ', true)) {
      for (const auto g : util::split(f, '\t', true)) {
        fields.push_back(g);
      }
    }
    TokenGrant grant;
    grant.name = "line " + std::to_string(line_no);
    const std::string_view token = fields.front();
    if (!token.starts_with(k_sha256_prefix)
        || !util::is_valid_sha256_hex(token.substr(k_sha256_prefix.size()))) {
      return util::invalid_argument(where
                                    + "a line must start with sha256:HEX, the SHA-256 of the "
                                      "token in 64 lowercase hex digits");
    }
    grant.token_sha256 = std::string(token.substr(k_sha256_prefix.size()));
    bool has_instance = false;
    bool has_roles = false;
    for (size_t i = 1; i < fields.size(); ++i) {
      const std::string_view f = fields[i];
      const size_t eq = f.find('=');
      const std::string_view key = f.substr(0, eq);
      const std::string_view value = eq == std::string_view::npos ? "" : f.substr(eq + 1);
      if (eq == std::string_view::npos) {
        return util::invalid_argument(where + "expected KEY=VALUE, got '" + std::string(f) + "'");
      }
      if (key == "instance") {
        grant.instance = std::string(value);
        has_instance = true;
      } else if (key == "roles") {
        auto roles = parse_roles(value);
        if (!roles) {
          return util::invalid_argument(where + roles.error().message());
        }
        grant.roles = *roles;
        has_roles = true;
      } else if (key == "name") {
        grant.name = std::string(value);
      } else {
        return util::invalid_argument(where + "unknown field '" + std::string(key)
                                      + "' (fields: instance, roles, name)");
      }
    }
    if (!has_instance || !has_roles) {
      return util::invalid_argument(where + "each token needs instance=NAME (or *) and roles=...");
    }
    grants.push_back(std::move(grant));
  }
  return grants;
}

Access::Access(std::vector<TokenGrant> grants, bool allow_ac_updates, bool allow_asset_pushes)
    : m_grants(std::make_shared<const std::vector<TokenGrant>>(std::move(grants))),
      m_tokens_required(!m_grants->empty()),
      m_allow_ac_updates(allow_ac_updates),
      m_allow_asset_pushes(allow_asset_pushes) {}

namespace {

// The grants of `config`'s token file, which must grant something.
util::Result<std::vector<TokenGrant>> read_token_file(const Config& config) {
  auto text = util::read_file(config.auth_tokens_file);
  if (!text) {
    return text.error().with_context("reading the token file");
  }
  CCREX_ASSIGN_OR_RETURN(auto grants, parse_token_file(*text, config.auth_tokens_file));
  if (grants.empty()) {
    return util::invalid_argument("the token file " + config.auth_tokens_file
                                  + " grants nothing: every call would be refused");
  }
  return grants;
}

} // namespace

util::Result<std::unique_ptr<Access>> Access::from_config(const Config& config) {
  std::vector<TokenGrant> grants;
  if (!config.auth_tokens_file.empty()) {
    CCREX_ASSIGN_OR_RETURN(grants, read_token_file(config));
  }
  return std::make_unique<Access>(
      std::move(grants), config.allow_ac_updates, config.allow_asset_pushes);
}

util::Status Access::reload(const Config& config) {
  if (config.auth_tokens_file.empty()) {
    return {};
  }
  CCREX_ASSIGN_OR_RETURN(auto grants, read_token_file(config));
  const size_t count = grants.size();
  auto fresh = std::make_shared<const std::vector<TokenGrant>>(std::move(grants));
  {
    const std::lock_guard lock(m_mutex);
    m_grants = std::move(fresh);
  }
  CCREX_LOG_INFO("access: reloaded " << config.auth_tokens_file << ", " << count << " grant(s)");
  return {};
}

std::shared_ptr<const std::vector<TokenGrant>> Access::grants() const {
  const std::lock_guard lock(m_mutex);
  return m_grants;
}

unsigned Access::roles_of(const grpc::ServerContext& context,
                          std::string_view instance,
                          bool& presented,
                          bool& known,
                          std::string& label) const {
  if (!m_tokens_required) {
    presented = false;
    known = true;
    unsigned all = bit(Role::read) | bit(Role::write_cas) | bit(Role::execute);
    if (m_allow_ac_updates) {
      all |= bit(Role::write_ac);
    }
    if (m_allow_asset_pushes) {
      all |= bit(Role::write_asset);
    }
    return all;
  }
  const std::string token = bearer_token(context, presented);
  known = false;
  if (token.empty()) {
    return 0;
  }
  const std::string hash = util::sha256_hex(token);
  unsigned roles = 0;
  // Every grant is compared, so the time taken does not depend on which one matches.
  const auto grants = this->grants();
  for (const auto& g : *grants) {
    if (equal_in_constant_time(hash, g.token_sha256)) {
      known = true;
      label = g.name;
      if (g.instance == "*" || g.instance == instance) {
        roles |= g.roles;
      }
    }
  }
  return roles;
}

grpc::Status Access::authenticate(const grpc::ServerContext& context, std::string_view rpc) const {
  bool presented = false;
  bool known = false;
  std::string label;
  (void)roles_of(context, "", presented, known, label);
  if (known) {
    return grpc::Status::OK;
  }
  if (!presented) {
    return denied(context,
                  grpc::StatusCode::UNAUTHENTICATED,
                  std::string(rpc)
                      + ": this server requires a bearer token (header 'authorization: Bearer "
                        "TOKEN')");
  }
  return denied(context,
                grpc::StatusCode::UNAUTHENTICATED,
                std::string(rpc) + ": the bearer token is not valid for this server");
}

grpc::Status Access::check(const grpc::ServerContext& context,
                           Role role,
                           std::string_view instance,
                           std::string_view rpc) const {
  bool presented = false;
  bool known = false;
  std::string label;
  const unsigned roles = roles_of(context, instance, presented, known, label);
  if (!known) {
    return authenticate(context, rpc);
  }
  if ((roles & bit(role)) != 0) {
    return grpc::Status::OK;
  }
  if (!m_tokens_required && role == Role::write_asset) {
    return denied(context,
                  grpc::StatusCode::PERMISSION_DENIED,
                  std::string(rpc)
                      + ": this server does not accept Remote Asset pushes from clients (start "
                        "it with --allow-asset-pushes, or give trusted writers a token with the "
                        "write-asset role)");
  }
  if (!m_tokens_required) {
    // Only write-ac and write-asset are ever withheld without tokens.
    return denied(context,
                  grpc::StatusCode::PERMISSION_DENIED,
                  std::string(rpc)
                      + ": this server does not accept action results from clients; its "
                        "action cache holds only results of its own executions (start it with "
                        "--allow-ac-updates, or give trusted writers a token with the write-ac "
                        "role)");
  }
  return denied(context,
                grpc::StatusCode::PERMISSION_DENIED,
                std::string(rpc) + " needs the " + std::string(role_name(role))
                    + " role on instance '" + std::string(instance) + "', which token '" + label
                    + "' does not have");
}

bool Access::allows(const grpc::ServerContext& context,
                    Role role,
                    std::string_view instance) const {
  bool presented = false;
  bool known = false;
  std::string label;
  const unsigned roles = roles_of(context, instance, presented, known, label);
  return known && (roles & bit(role)) != 0;
}

} // namespace ccrex::server
