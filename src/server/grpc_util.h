#pragma once

// Helpers shared by the gRPC handlers of the server.

#include "reapi/digest.h"
#include "util/logging.h"

#include <grpcpp/support/status.h>

#include <exception>
#include <string>

namespace ccrex::server {

// Run a handler body, turning any escaped exception into INTERNAL so a bug in one request
// never takes the server down.
template <typename F>
grpc::Status guarded(const char* rpc, F&& body) {
  try {
    return body();
  } catch (const std::exception& e) {
    CCREX_LOG_ERROR(rpc << ": internal error: " << e.what());
    return {grpc::StatusCode::INTERNAL, std::string(rpc) + ": internal error: " + e.what()};
  } catch (...) {
    CCREX_LOG_ERROR(rpc << ": internal error");
    return {grpc::StatusCode::INTERNAL, std::string(rpc) + ": internal error"};
  }
}

// Return INVALID_ARGUMENT naming `what` if `d` is malformed, else OK.
inline grpc::Status check_digest(const reapi::v2::Digest& d, const char* what) {
  auto st = reapi::validate(d);
  if (!st) {
    return {grpc::StatusCode::INVALID_ARGUMENT, std::string(what) + ": " + st.error().message()};
  }
  return grpc::Status::OK;
}

// Return a google.rpc.Status for per-entry results in batch responses.
inline google::rpc::Status rpc_status(grpc::StatusCode code, const std::string& message) {
  google::rpc::Status s;
  s.set_code(static_cast<int>(code));
  s.set_message(message);
  return s;
}

} // namespace ccrex::server
