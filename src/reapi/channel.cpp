#include "reapi/channel.h"

#include "util/file.h"
#include "util/strings.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <array>
#include <cctype>

namespace ccrex::reapi {
namespace {

util::Error bad_endpoint(std::string_view text, std::string_view why) {
  return util::invalid_argument("invalid endpoint '" + std::string(text)
                                + "': " + std::string(why));
}

// Check "host:port" (host may be a bracketed IPv6 address).
util::Status check_host_port(std::string_view full, std::string_view host_port) {
  if (host_port.empty()) {
    return bad_endpoint(full, "missing host and port");
  }
  if (host_port.find('/') != std::string_view::npos) {
    return bad_endpoint(full, "unexpected '/' after host:port");
  }
  size_t colon = std::string_view::npos;
  if (host_port.front() == '[') {
    const size_t close = host_port.find(']');
    if (close == std::string_view::npos) {
      return bad_endpoint(full, "unterminated '[' in IPv6 address");
    }
    if (close + 1 < host_port.size() && host_port[close + 1] == ':') {
      colon = close + 1;
    }
  } else {
    colon = host_port.rfind(':');
  }
  if (colon == std::string_view::npos || colon == 0) {
    return bad_endpoint(full, "expected host:port");
  }
  auto port = util::parse_int(host_port.substr(colon + 1));
  if (!port || *port < 1 || *port > 65535) {
    return bad_endpoint(full, "port must be a number from 1 to 65535");
  }
  return {};
}

struct Scheme {
  std::string_view prefix;
  bool tls;
};
constexpr std::array<Scheme, 4> k_schemes = {{
    {"grpc://", false},
    {"http://", false},
    {"grpcs://", true},
    {"https://", true},
}};

} // namespace

util::Result<Endpoint> parse_endpoint(std::string_view text) {
  if (text.empty()) {
    return util::invalid_argument("empty endpoint (expected grpc://host:port, grpcs://host:port "
                                  "or unix:/path)");
  }
  if (text.starts_with("unix:")) {
    std::string_view path = text.substr(5);
    if (path.starts_with("//")) {
      path = path.substr(2);
    }
    if (path.empty() || path.front() != '/') {
      return bad_endpoint(text, "unix socket path must be absolute");
    }
    return Endpoint{std::string(text), false, true};
  }
  for (const auto& scheme : k_schemes) {
    if (text.starts_with(scheme.prefix)) {
      std::string_view rest = text.substr(scheme.prefix.size());
      if (!rest.empty() && rest.back() == '/') {
        rest.remove_suffix(1);
      }
      CCREX_TRY(check_host_port(text, rest));
      return Endpoint{std::string(rest), scheme.tls, false};
    }
  }
  if (text.find("://") != std::string_view::npos) {
    return bad_endpoint(text, "unknown scheme (use grpc://, grpcs://, http://, https:// or unix:)");
  }
  CCREX_TRY(check_host_port(text, text));
  return Endpoint{std::string(text), false, false};
}

std::string_view target_host(std::string_view target) {
  if (target.starts_with('[')) {
    const size_t close = target.find(']');
    return close == std::string_view::npos ? target.substr(1) : target.substr(1, close - 1);
  }
  const size_t colon = target.rfind(':');
  if (colon == std::string_view::npos || target.find(':') != colon) {
    return target; // no port, or a bare IPv6 address
  }
  return target.substr(0, colon);
}

bool is_loopback_host(std::string_view host) {
  std::string lower(host);
  for (auto& c : lower) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (lower == "localhost") {
    return true;
  }
  in_addr v4{};
  if (::inet_pton(AF_INET, lower.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, lower.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) {
      return true;
    }
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

bool is_local(const Endpoint& endpoint) {
  return endpoint.unix_socket || is_loopback_host(target_host(endpoint.target));
}

namespace {

util::Result<std::shared_ptr<grpc::ChannelCredentials>> credentials(const Endpoint& endpoint,
                                                                    const ChannelOptions& o) {
  if (!endpoint.tls) {
    if (!o.ca_file.empty() || !o.client_cert_file.empty() || !o.client_key_file.empty()) {
      return util::invalid_argument("TLS files given for plain endpoint '" + o.endpoint
                                    + "' (use grpcs://)");
    }
    return grpc::InsecureChannelCredentials();
  }
  if (o.client_cert_file.empty() != o.client_key_file.empty()) {
    return util::invalid_argument("a TLS client certificate needs both a cert and a key file");
  }
  grpc::SslCredentialsOptions ssl;
  if (!o.ca_file.empty()) {
    auto ca = util::read_file(o.ca_file);
    if (!ca) {
      return ca.error().with_context("reading TLS CA file");
    }
    ssl.pem_root_certs = std::move(*ca);
  }
  if (!o.client_cert_file.empty()) {
    CCREX_ASSIGN_OR_RETURN(ssl.pem_cert_chain, util::read_file(o.client_cert_file));
    CCREX_ASSIGN_OR_RETURN(ssl.pem_private_key, util::read_file(o.client_key_file));
  }
  return grpc::SslCredentials(ssl);
}

} // namespace

util::Result<std::shared_ptr<grpc::Channel>> make_channel(const ChannelOptions& options) {
  CCREX_ASSIGN_OR_RETURN(const Endpoint endpoint, parse_endpoint(options.endpoint));
  if (options.carries_secrets && !endpoint.tls && !is_local(endpoint)
      && !options.allow_plaintext_secrets) {
    return util::Error(util::ErrorCode::permission_denied,
                       "not sending the access token or headers to " + options.endpoint
                           + " in plaintext: use grpcs:// (tls_ca_file for a private CA), or "
                             "set allow_plaintext_credentials on a network you trust");
  }
  CCREX_ASSIGN_OR_RETURN(auto creds, credentials(endpoint, options));
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, static_cast<int>(options.keepalive_time.count() * 1000));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
              static_cast<int>(options.keepalive_timeout.count() * 1000));
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
              static_cast<int>(options.max_reconnect_backoff.count()));
  if (!options.tls_server_name.empty()) {
    args.SetSslTargetNameOverride(options.tls_server_name);
  }
  return grpc::CreateCustomChannel(endpoint.target, creds, args);
}

} // namespace ccrex::reapi
