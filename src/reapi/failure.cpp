#include "reapi/failure.h"

#include "reapi/digest.h"
#include "util/strings.h"

namespace ccrex::reapi {

std::string_view failure_kind_name(FailureKind kind) {
  switch (kind) {
  case FailureKind::error:
    return "error";
  case FailureKind::timeout:
    return "timeout";
  case FailureKind::unavailable:
    return "unavailable";
  case FailureKind::missing_blobs:
    return "missing_blobs";
  case FailureKind::cancelled:
    return "cancelled";
  }
  return "error";
}

std::string Failure::to_string() const {
  return std::string(failure_kind_name(kind)) + ": " + error.to_string();
}

bool parse_missing_blobs(const google::rpc::Status& status, std::vector<v2::Digest>& missing) {
  bool found = false;
  for (const auto& any : status.details()) {
    google::rpc::PreconditionFailure failure;
    if (!any.Is<google::rpc::PreconditionFailure>() || !any.UnpackTo(&failure)) {
      continue;
    }
    for (const auto& violation : failure.violations()) {
      if (violation.type() != "MISSING") {
        continue;
      }
      found = true;
      const auto parts = util::split(violation.subject(), '/');
      if (parts.size() != 3 || parts[0] != "blobs") {
        continue;
      }
      auto size = util::parse_int(parts[2]);
      v2::Digest d;
      d.set_hash(std::string(parts[1]));
      d.set_size_bytes(size ? *size : -1);
      if (size && validate(d)) {
        missing.push_back(std::move(d));
      }
    }
  }
  return found;
}

bool parse_missing_blobs(const grpc::Status& status, std::vector<v2::Digest>& missing) {
  google::rpc::Status details;
  if (status.error_details().empty() || !details.ParseFromString(status.error_details())) {
    return false;
  }
  return parse_missing_blobs(details, missing);
}

Failure failure_from_error(const util::Error& error) {
  Failure f;
  f.error = error;
  switch (error.code()) {
  case util::ErrorCode::deadline_exceeded:
    f.kind = FailureKind::timeout;
    break;
  case util::ErrorCode::unavailable:
    f.kind = FailureKind::unavailable;
    break;
  case util::ErrorCode::cancelled:
    f.kind = FailureKind::cancelled;
    break;
  default:
    f.kind = FailureKind::error;
    break;
  }
  return f;
}

Failure failure_from_status(const grpc::Status& status, std::string_view context) {
  Failure f = failure_from_error(from_grpc(status).with_context(context));
  if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION
      && parse_missing_blobs(status, f.missing)) {
    f.kind = FailureKind::missing_blobs;
  }
  return f;
}

} // namespace ccrex::reapi
