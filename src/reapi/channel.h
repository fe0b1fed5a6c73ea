#pragma once

// Endpoints and gRPC channels to a REAPI server.
//
// Accepted endpoint forms:
//   grpc://host:port, http://host:port     plain TCP
//   grpcs://host:port, https://host:port   TLS
//   unix:/path, unix:///path               Unix domain socket (plain)
//   host:port                              plain TCP (what LocalServer::addresses() returns)
// IPv6 hosts are written in brackets: grpc://[::1]:8980.
//
// Thread safety: all functions are thread-safe; the returned channel is shared freely.

#include "util/result.h"

#include <grpcpp/channel.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace ccrex::reapi {

struct Endpoint {
  // Target string handed to gRPC ("host:port", "unix:/path", "unix:///path").
  std::string target;
  // Whether the channel uses TLS.
  bool tls = false;
  // Whether the target is a Unix domain socket.
  bool unix_socket = false;
};

// Parse `text` (one of the forms above). Errors are one line naming the endpoint.
util::Result<Endpoint> parse_endpoint(std::string_view text);

// Return the host part of a "host:port" target, without the brackets of an IPv6 address
// ("[::1]:8980" -> "::1"); the whole text when it has no port.
std::string_view target_host(std::string_view target);

// Return whether `host` can only mean this machine: "localhost", an IPv4 address in
// 127.0.0.0/8, or the IPv6 loopback address (also IPv4-mapped). Other names are not
// resolved: they count as remote.
bool is_loopback_host(std::string_view host);

// Return whether traffic to `endpoint` never leaves this machine: a Unix domain socket or a
// loopback address.
bool is_local(const Endpoint& endpoint);

struct ChannelOptions {
  // The server, in one of the forms above.
  std::string endpoint;
  // PEM file with the CA certificates to trust (TLS only); empty = system roots.
  std::string ca_file;
  // PEM files with a client certificate and its key for mutual TLS (both or neither).
  std::string client_cert_file;
  std::string client_key_file;
  // Override the TLS server name checked against the certificate (empty = host).
  std::string tls_server_name;
  // Keepalive pings while calls are active. Keep it at or above the server's minimum ping
  // interval (gRPC's default server policy is 5 minutes) or the server closes the connection
  // with "too_many_pings".
  std::chrono::seconds keepalive_time{360};
  std::chrono::seconds keepalive_timeout{20};
  // Upper bound of gRPC's reconnect backoff, so a restarted server is found again quickly.
  // A channel is one connection, shared by every call made on it; the agent's
  // reapi::ReconnectGate decides when compiles try an engine that was lost again.
  std::chrono::milliseconds max_reconnect_backoff{5000};
  // Whether calls on the channel carry secrets (a bearer token, extra headers such as API
  // keys). Such a channel is refused over plaintext TCP to anything but a loopback address,
  // unless `allow_plaintext_secrets`.
  bool carries_secrets = false;
  bool allow_plaintext_secrets = false;
};

// Create a channel for `options`: unlimited receive size, keepalive as configured. Does not
// connect; the first call does. Errors: bad endpoint, unreadable certificate files,
// permission_denied for secrets that would cross the network in plaintext.
util::Result<std::shared_ptr<grpc::Channel>> make_channel(const ChannelOptions& options);

} // namespace ccrex::reapi
