#pragma once

// Digests and ByteStream resource names: conversion between util::Digest and the proto,
// validation of client-supplied digests, and the resource-name grammar of REAPI §5.1.
// All functions are pure and thread-safe.

#include "reapi/proto.h"
#include "util/result.h"
#include "util/sha256.h"

#include <grpcpp/support/status.h>

#include <string>
#include <string_view>

namespace ccrex::reapi {

// Return the proto form of `d`.
v2::Digest to_proto(const util::Digest& d);
// Return the util form of `d` (no validation).
util::Digest from_proto(const v2::Digest& d);
// Return the digest (SHA-256 + size) of `data` as a proto.
v2::Digest digest_of(std::string_view data);
// Return the digest of the serialized bytes of `message` (canonical: freshly built protos
// serialize deterministically).
v2::Digest digest_of_message(const google::protobuf::Message& message);

// Return whether `d` is well formed: 64 lowercase hex characters and a non-negative size.
util::Status validate(const v2::Digest& d);
// Return whether `d` names the empty blob (the empty hash with size 0).
bool is_empty_blob(const v2::Digest& d);

// "hash/size", as used in logs and PreconditionFailure subjects after "blobs/".
std::string to_string(const v2::Digest& d);

// A parsed ByteStream resource name.
struct ResourceName {
  std::string instance_name; // may contain '/', empty for the default instance
  std::string upload_uuid;   // set for write resource names only
  v2::Digest digest;         // validated
};

// Parse "{instance}/blobs/{hash}/{size}" (reads).
util::Result<ResourceName> parse_read_resource(std::string_view name);
// Parse "{instance}/uploads/{uuid}/blobs/{hash}/{size}{/optional metadata}" (writes).
util::Result<ResourceName> parse_write_resource(std::string_view name);
// Build the read resource name for `d` in `instance`.
std::string read_resource(std::string_view instance, const v2::Digest& d);
// Build a write resource name for `d` in `instance` with the given upload id.
std::string write_resource(std::string_view instance, std::string_view uuid, const v2::Digest& d);

// Translate between util::Error and grpc::Status, keeping the code.
grpc::Status to_grpc(const util::Error& e);
util::Error from_grpc(const grpc::Status& s);

} // namespace ccrex::reapi
