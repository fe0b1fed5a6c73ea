#pragma once

// Result<T>: a value or an Error, shaped like C++23's std::expected so that a later switch
// is mechanical. Used across every ccrex API instead of exceptions.
//
// Thread safety: a Result is a plain value; const methods may be called concurrently.

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace ccrex::util {

// Error categories. They follow gRPC's codes where one exists so that the REAPI layer can
// translate without losing meaning (the retrier and the fallback decision depend on it).
enum class ErrorCode {
  invalid_argument,
  not_found,
  already_exists,
  failed_precondition,
  out_of_range,
  permission_denied,
  resource_exhausted,
  unavailable,
  deadline_exceeded,
  cancelled,
  data_loss,
  io_error,
  unsupported,
  internal,
};

// Return a short lowercase name for `code` ("not_found").
std::string_view error_code_name(ErrorCode code);

class Error {
public:
  Error(ErrorCode code, std::string message) : m_code(code), m_message(std::move(message)) {}

  ErrorCode code() const { return m_code; }
  const std::string& message() const { return m_message; }

  // Return a copy whose message is prefixed with `context` ("uploading input root: ...").
  Error with_context(std::string_view context) const;

  // Return "code: message".
  std::string to_string() const;

private:
  ErrorCode m_code;
  std::string m_message;
};

// Named constructors, LevelDB style.
inline Error invalid_argument(std::string msg) {
  return {ErrorCode::invalid_argument, std::move(msg)};
}
inline Error not_found(std::string msg) {
  return {ErrorCode::not_found, std::move(msg)};
}
inline Error io_error(std::string msg) {
  return {ErrorCode::io_error, std::move(msg)};
}
inline Error internal_error(std::string msg) {
  return {ErrorCode::internal, std::move(msg)};
}
inline Error unsupported(std::string msg) {
  return {ErrorCode::unsupported, std::move(msg)};
}
// Return an io_error naming `what` and the text of `err` (an errno value).
Error errno_error(std::string_view what, int err);

// Wraps an error for implicit conversion into any Result<T, E>.
template <typename E>
struct Unexpected {
  E error;
};
template <typename E>
Unexpected<E> unexpected(E e) {
  return Unexpected<E>{std::move(e)};
}

template <typename T, typename E = Error>
class [[nodiscard]] Result {
public:
  Result(T value) : m_data(std::in_place_index<0>, std::move(value)) {}
  Result(E error) : m_data(std::in_place_index<1>, std::move(error)) {}
  template <typename U>
  Result(Unexpected<U> u) : m_data(std::in_place_index<1>, std::move(u.error)) {}

  bool has_value() const { return m_data.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    assert(has_value() && "value() on an error Result");
    return std::get<0>(m_data);
  }
  const T& value() const& {
    assert(has_value() && "value() on an error Result");
    return std::get<0>(m_data);
  }
  T&& value() && {
    assert(has_value() && "value() on an error Result");
    return std::get<0>(std::move(m_data));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const E& error() const& {
    assert(!has_value() && "error() on a value Result");
    return std::get<1>(m_data);
  }
  E&& error() && {
    assert(!has_value() && "error() on a value Result");
    return std::get<1>(std::move(m_data));
  }

  template <typename U>
  T value_or(U&& fallback) const& {
    return has_value() ? std::get<0>(m_data) : static_cast<T>(std::forward<U>(fallback));
  }

private:
  std::variant<T, E> m_data;
};

template <typename E>
class [[nodiscard]] Result<void, E> {
public:
  Result() = default;
  Result(E error) : m_error(std::move(error)) {}
  template <typename U>
  Result(Unexpected<U> u) : m_error(std::move(u.error)) {}

  bool has_value() const { return !m_error.has_value(); }
  explicit operator bool() const { return has_value(); }
  void value() const { assert(has_value() && "value() on an error Result"); }
  const E& error() const& {
    assert(!has_value() && "error() on a value Result");
    return *m_error;
  }
  E&& error() && {
    assert(!has_value() && "error() on a value Result");
    return std::move(*m_error);
  }

private:
  std::optional<E> m_error;
};

using Status = Result<void>;

} // namespace ccrex::util

#define CCREX_CONCAT_INNER(a, b) a##b
#define CCREX_CONCAT(a, b) CCREX_CONCAT_INNER(a, b)

// Evaluate `expr` (a Result); on error return that error from the enclosing function.
#define CCREX_TRY(expr)                                                                            \
  do {                                                                                             \
    auto&& ccrex_try_result_ = (expr);                                                             \
    if (!ccrex_try_result_) {                                                                      \
      return ::ccrex::util::unexpected(std::move(ccrex_try_result_).error());                      \
    }                                                                                              \
  } while (false)

// Evaluate `expr` (a Result<T>); on error return it, else move the value into `lhs`
// (which may be a declaration: CCREX_ASSIGN_OR_RETURN(auto data, read_file(p))).
#define CCREX_ASSIGN_OR_RETURN(lhs, expr)                                                          \
  CCREX_ASSIGN_OR_RETURN_IMPL(CCREX_CONCAT(ccrex_aor_, __LINE__), lhs, expr)
#define CCREX_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr)                                                \
  auto tmp = (expr);                                                                               \
  if (!tmp) {                                                                                      \
    return ::ccrex::util::unexpected(std::move(tmp).error());                                      \
  }                                                                                                \
  lhs = std::move(tmp).value()
