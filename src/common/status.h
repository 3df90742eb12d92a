// Status / StatusOr: how every fallible function inside ddrr reports failure.
// LevelDB-style: named constructors, ok(), ToString(); no exceptions cross module or C ABI
// boundaries. A Status is cheap when ok (no allocation).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <variant>

namespace ddrr {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // caller passed something unusable (bad flag, bad config value)
  kNotFound,            // file, rank or object absent
  kCorruption,          // data exists but is damaged (bad checksum, truncated, bad magic)
  kUnsupportedVersion,  // written by a newer ddrr
  kIoError,             // the OS refused (disk full, permission denied)
  kUnimplemented,       // known input that this build cannot handle yet
  kUnavailable,         // in use by someone else right now (a live rank's spool); try later
  kInternal,            // a bug in ddrr
};

const char* StatusCodeName(StatusCode code);

class Status {
 public:
  Status() = default;  // ok
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) {
    return {StatusCode::kInvalidArgument, std::move(msg)};
  }
  static Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {StatusCode::kCorruption, std::move(msg)}; }
  static Status UnsupportedVersion(std::string msg) {
    return {StatusCode::kUnsupportedVersion, std::move(msg)};
  }
  static Status IoError(std::string msg) { return {StatusCode::kIoError, std::move(msg)}; }
  static Status Unimplemented(std::string msg) {
    return {StatusCode::kUnimplemented, std::move(msg)};
  }
  static Status Unavailable(std::string msg) { return {StatusCode::kUnavailable, std::move(msg)}; }
  static Status Internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }
  // Builds an IoError from errno, naming what was being done ("open rank-0.ddrr").
  static Status FromErrno(const std::string& what, int err);

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return state_ ? state_->code : StatusCode::kOk; }
  const std::string& message() const;
  std::string ToString() const;  // "Corruption: <message>" or "OK"

 private:
  struct State {
    StatusCode code;
    std::string message;
  };
  Status(StatusCode code, std::string msg)
      : state_(std::make_shared<const State>(State{code, std::move(msg)})) {}
  std::shared_ptr<const State> state_;
};

template <typename T>
class StatusOr {
 public:
  StatusOr(T value) : v_(std::move(value)) {}         // NOLINT: implicit by design
  StatusOr(Status status) : v_(std::move(status)) {}  // NOLINT: must not be ok
  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  T* operator->() { return &std::get<T>(v_); }
  const T* operator->() const { return &std::get<T>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace ddrr

#define DDRR_CONCAT_INNER(a, b) a##b
#define DDRR_CONCAT(a, b) DDRR_CONCAT_INNER(a, b)

#define DDRR_RETURN_IF_ERROR(expr)       \
  do {                                   \
    ::ddrr::Status _ddrr_st = (expr);    \
    if (!_ddrr_st.ok()) return _ddrr_st; \
  } while (0)

#define DDRR_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                               \
  if (!tmp.ok()) return tmp.status();              \
  lhs = std::move(tmp).value()

#define DDRR_ASSIGN_OR_RETURN(lhs, expr) \
  DDRR_ASSIGN_OR_RETURN_IMPL(DDRR_CONCAT(_ddrr_so_, __LINE__), lhs, expr)
