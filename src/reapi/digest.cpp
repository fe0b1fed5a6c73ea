#include "reapi/digest.h"

#include "util/strings.h"

#include <vector>

namespace ccrex::reapi {
namespace {

// Segments that may not appear inside an instance name (REAPI §5.1).
bool is_keyword(std::string_view s) {
  return s == "blobs" || s == "uploads" || s == "actions" || s == "actionResults"
         || s == "operations" || s == "capabilities" || s == "compressed-blobs";
}

std::string join_segments(const std::vector<std::string_view>& parts, size_t begin, size_t end) {
  std::string out;
  for (size_t i = begin; i < end; ++i) {
    if (i > begin) {
      out += '/';
    }
    out += parts[i];
  }
  return out;
}

// Parse "{hash}/{size}" starting at parts[i]; `i` must leave exactly two segments
// (reads) or at least two (writes, which may carry trailing metadata).
util::Result<v2::Digest> parse_hash_size(const std::vector<std::string_view>& parts, size_t i) {
  if (i + 2 > parts.size()) {
    return util::invalid_argument("resource name has no hash/size");
  }
  if (parts[i] == "sha256tree" || parts[i] == "blake3" || parts[i] == "gitsha1") {
    return util::invalid_argument("unsupported digest function '" + std::string(parts[i]) + "'");
  }
  auto size = util::parse_int(parts[i + 1]);
  if (!size) {
    return util::invalid_argument("invalid blob size '" + std::string(parts[i + 1]) + "'");
  }
  v2::Digest d;
  d.set_hash(std::string(parts[i]));
  d.set_size_bytes(*size);
  CCREX_TRY(validate(d));
  return d;
}

} // namespace

v2::Digest to_proto(const util::Digest& d) {
  v2::Digest out;
  out.set_hash(d.hash);
  out.set_size_bytes(d.size);
  return out;
}

util::Digest from_proto(const v2::Digest& d) {
  return {d.hash(), d.size_bytes()};
}

v2::Digest digest_of(std::string_view data) {
  return to_proto(util::digest_of(data));
}

v2::Digest digest_of_message(const google::protobuf::Message& message) {
  return digest_of(message.SerializeAsString());
}

util::Status validate(const v2::Digest& d) {
  if (!util::is_valid_sha256_hex(d.hash())) {
    return util::invalid_argument("invalid digest hash '" + d.hash()
                                  + "' (expected 64 lowercase hex characters)");
  }
  if (d.size_bytes() < 0) {
    return util::invalid_argument("negative digest size " + std::to_string(d.size_bytes()));
  }
  return {};
}

bool is_empty_blob(const v2::Digest& d) {
  return d.size_bytes() == 0 && d.hash() == util::k_empty_sha256;
}

std::string to_string(const v2::Digest& d) {
  return d.hash() + "/" + std::to_string(d.size_bytes());
}

util::Result<ResourceName> parse_read_resource(std::string_view name) {
  const auto parts = util::split(name, '/');
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i] == "compressed-blobs") {
      return util::invalid_argument("compressed blobs are not supported");
    }
    if (parts[i] != "blobs") {
      continue;
    }
    if (i + 3 != parts.size()) {
      return util::invalid_argument("malformed read resource name '" + std::string(name) + "'");
    }
    ResourceName out;
    out.instance_name = join_segments(parts, 0, i);
    CCREX_ASSIGN_OR_RETURN(out.digest, parse_hash_size(parts, i + 1));
    return out;
  }
  return util::invalid_argument("malformed read resource name '" + std::string(name) + "'");
}

util::Result<ResourceName> parse_write_resource(std::string_view name) {
  const auto parts = util::split(name, '/');
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i] != "uploads") {
      if (is_keyword(parts[i])) {
        break;
      }
      continue;
    }
    if (i + 4 > parts.size() || parts[i + 1].empty()) {
      break;
    }
    if (parts[i + 2] == "compressed-blobs") {
      return util::invalid_argument("compressed uploads are not supported");
    }
    if (parts[i + 2] != "blobs") {
      break;
    }
    ResourceName out;
    out.instance_name = join_segments(parts, 0, i);
    out.upload_uuid = std::string(parts[i + 1]);
    CCREX_ASSIGN_OR_RETURN(out.digest, parse_hash_size(parts, i + 3));
    return out;
  }
  return util::invalid_argument("malformed write resource name '" + std::string(name) + "'");
}

std::string read_resource(std::string_view instance, const v2::Digest& d) {
  std::string out(instance);
  if (!out.empty()) {
    out += '/';
  }
  return out + "blobs/" + to_string(d);
}

std::string write_resource(std::string_view instance, std::string_view uuid, const v2::Digest& d) {
  std::string out(instance);
  if (!out.empty()) {
    out += '/';
  }
  out += "uploads/";
  out += uuid;
  return out + "/blobs/" + to_string(d);
}

grpc::Status to_grpc(const util::Error& e) {
  using util::ErrorCode;
  grpc::StatusCode code = grpc::StatusCode::INTERNAL;
  switch (e.code()) {
  case ErrorCode::invalid_argument:
    code = grpc::StatusCode::INVALID_ARGUMENT;
    break;
  case ErrorCode::not_found:
    code = grpc::StatusCode::NOT_FOUND;
    break;
  case ErrorCode::already_exists:
    code = grpc::StatusCode::ALREADY_EXISTS;
    break;
  case ErrorCode::failed_precondition:
    code = grpc::StatusCode::FAILED_PRECONDITION;
    break;
  case ErrorCode::out_of_range:
    code = grpc::StatusCode::OUT_OF_RANGE;
    break;
  case ErrorCode::permission_denied:
    code = grpc::StatusCode::PERMISSION_DENIED;
    break;
  case ErrorCode::resource_exhausted:
    code = grpc::StatusCode::RESOURCE_EXHAUSTED;
    break;
  case ErrorCode::unavailable:
    code = grpc::StatusCode::UNAVAILABLE;
    break;
  case ErrorCode::deadline_exceeded:
    code = grpc::StatusCode::DEADLINE_EXCEEDED;
    break;
  case ErrorCode::cancelled:
    code = grpc::StatusCode::CANCELLED;
    break;
  case ErrorCode::data_loss:
    code = grpc::StatusCode::DATA_LOSS;
    break;
  case ErrorCode::unsupported:
    code = grpc::StatusCode::UNIMPLEMENTED;
    break;
  case ErrorCode::io_error:
  case ErrorCode::internal:
    code = grpc::StatusCode::INTERNAL;
    break;
  }
  return {code, e.message()};
}

util::Error from_grpc(const grpc::Status& s) {
  using util::ErrorCode;
  ErrorCode code = ErrorCode::internal;
  switch (s.error_code()) {
  case grpc::StatusCode::INVALID_ARGUMENT:
    code = ErrorCode::invalid_argument;
    break;
  case grpc::StatusCode::NOT_FOUND:
    code = ErrorCode::not_found;
    break;
  case grpc::StatusCode::ALREADY_EXISTS:
    code = ErrorCode::already_exists;
    break;
  case grpc::StatusCode::FAILED_PRECONDITION:
    code = ErrorCode::failed_precondition;
    break;
  case grpc::StatusCode::OUT_OF_RANGE:
    code = ErrorCode::out_of_range;
    break;
  case grpc::StatusCode::PERMISSION_DENIED:
  case grpc::StatusCode::UNAUTHENTICATED:
    code = ErrorCode::permission_denied;
    break;
  case grpc::StatusCode::RESOURCE_EXHAUSTED:
    code = ErrorCode::resource_exhausted;
    break;
  case grpc::StatusCode::UNAVAILABLE:
    code = ErrorCode::unavailable;
    break;
  case grpc::StatusCode::DEADLINE_EXCEEDED:
    code = ErrorCode::deadline_exceeded;
    break;
  case grpc::StatusCode::CANCELLED:
    code = ErrorCode::cancelled;
    break;
  case grpc::StatusCode::DATA_LOSS:
    code = ErrorCode::data_loss;
    break;
  case grpc::StatusCode::UNIMPLEMENTED:
    code = ErrorCode::unsupported;
    break;
  default:
    code = ErrorCode::internal;
    break;
  }
  return {code, s.error_message()};
}

} // namespace ccrex::reapi
