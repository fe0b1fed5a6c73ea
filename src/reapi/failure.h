#pragma once

// Failure: why a remote operation did not produce a result, sorted into the kinds a caller
// reacts to differently (ccache's RemoteStorage failure kinds, extended for REAPI):
//   timeout        our deadline passed (the server may still be working)
//   unavailable    the server could not be reached or kept refusing after retries
//   missing_blobs  FAILED_PRECONDITION with MISSING violations: upload `missing` and retry
//   cancelled      the caller cancelled
//   error          anything else (bad request, server bug, protocol violation)
//
// Thread safety: plain values.

#include "reapi/proto.h"
#include "util/result.h"

#include <grpcpp/support/status.h>

#include <string_view>
#include <vector>

namespace ccrex::reapi {

enum class FailureKind { error, timeout, unavailable, missing_blobs, cancelled };

// Return "error", "timeout", ...
std::string_view failure_kind_name(FailureKind kind);

struct Failure {
  FailureKind kind = FailureKind::error;
  util::Error error{util::ErrorCode::internal, ""};
  // For missing_blobs: the digests the server named. Empty when it named none that parse;
  // the caller should then upload everything it has.
  std::vector<v2::Digest> missing;

  // Return "kind: code: message".
  std::string to_string() const;
};

// Classify a call status (with its google.rpc.Status details) prefixed by `context`.
Failure failure_from_status(const grpc::Status& status, std::string_view context);
// Classify a util::Error: deadline_exceeded -> timeout, unavailable -> unavailable, ...
Failure failure_from_error(const util::Error& error);

// Return whether `status` carries a PreconditionFailure with MISSING violations, and put the
// digests of the "blobs/{hash}/{size}" subjects that parse into `missing`.
bool parse_missing_blobs(const google::rpc::Status& status, std::vector<v2::Digest>& missing);
// Same for the details of a call status (grpc::Status::error_details()).
bool parse_missing_blobs(const grpc::Status& status, std::vector<v2::Digest>& missing);

template <typename T>
using RemoteResult = util::Result<T, Failure>;

} // namespace ccrex::reapi
