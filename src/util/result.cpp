#include "util/result.h"

#include <cstring>

namespace ccrex::util {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
  case ErrorCode::invalid_argument:
    return "invalid_argument";
  case ErrorCode::not_found:
    return "not_found";
  case ErrorCode::already_exists:
    return "already_exists";
  case ErrorCode::failed_precondition:
    return "failed_precondition";
  case ErrorCode::out_of_range:
    return "out_of_range";
  case ErrorCode::permission_denied:
    return "permission_denied";
  case ErrorCode::resource_exhausted:
    return "resource_exhausted";
  case ErrorCode::unavailable:
    return "unavailable";
  case ErrorCode::deadline_exceeded:
    return "deadline_exceeded";
  case ErrorCode::cancelled:
    return "cancelled";
  case ErrorCode::data_loss:
    return "data_loss";
  case ErrorCode::io_error:
    return "io_error";
  case ErrorCode::unsupported:
    return "unsupported";
  case ErrorCode::internal:
    return "internal";
  }
  return "unknown";
}

Error Error::with_context(std::string_view context) const {
  std::string msg(context);
  msg += ": ";
  msg += m_message;
  return {m_code, std::move(msg)};
}

std::string Error::to_string() const {
  std::string out(error_code_name(m_code));
  out += ": ";
  out += m_message;
  return out;
}

Error errno_error(std::string_view what, int err) {
  std::string msg(what);
  msg += ": ";
  msg += std::strerror(err); // NOLINT(concurrency-mt-unsafe): message text only
  ErrorCode code = ErrorCode::io_error;
  if (err == ENOENT || err == ENOTDIR) {
    code = ErrorCode::not_found;
  } else if (err == EACCES || err == EPERM || err == EROFS) {
    code = ErrorCode::permission_denied;
  } else if (err == EEXIST) {
    code = ErrorCode::already_exists;
  } else if (err == ENOSPC || err == EDQUOT) {
    code = ErrorCode::resource_exhausted;
  }
  return {code, std::move(msg)};
}

} // namespace ccrex::util
