// Status and Result<T>: the only way errors cross a module boundary.
//
// A Status carries a code from a small closed set and a message written for the user: what was
// wrong and what to do about it. Callers decide retry vs. permanent failure from the code, never
// from the message text. Exceptions from third-party libraries are caught at the adapter and
// converted here; none crosses a module boundary.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace vitrine {

// Stored and mapped to HTTP later: append only.
enum class Code {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kUnsupported,
  kResourceExhausted,
  kDeadlineExceeded,
  kCancelled,
  kModelFailure,
  kUnavailable,
  kInternal,
};

std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "InvalidArgument: message", for logs and the CLI.
  std::string ToString() const;

  // Returns a copy with `context` prepended to the message ("photo.jpg: ...").
  Status WithContext(std::string_view context) const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
inline Status Unsupported(std::string m) { return {Code::kUnsupported, std::move(m)}; }
inline Status ResourceExhausted(std::string m) { return {Code::kResourceExhausted, std::move(m)}; }
inline Status ModelFailure(std::string m) { return {Code::kModelFailure, std::move(m)}; }
inline Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
inline Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }
inline Status Cancelled(std::string m) { return {Code::kCancelled, std::move(m)}; }

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT
    assert(!status_.ok() && "a Result needs a value or an error");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace vitrine

#define VITRINE_CONCAT_INNER(a, b) a##b
#define VITRINE_CONCAT(a, b) VITRINE_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function if `expr` is not OK.
#define RETURN_IF_ERROR(expr)       \
  do {                              \
    ::vitrine::Status _st = (expr); \
    if (!_st.ok()) return _st;      \
  } while (0)

// `ASSIGN_OR_RETURN(auto x, Fn());` binds the value or returns the error.
#define ASSIGN_OR_RETURN(lhs, rexpr)                                                          \
  auto VITRINE_CONCAT(_res_, __LINE__) = (rexpr);                                             \
  if (!VITRINE_CONCAT(_res_, __LINE__).ok()) return VITRINE_CONCAT(_res_, __LINE__).status(); \
  lhs = std::move(VITRINE_CONCAT(_res_, __LINE__)).value()
