// Result: how emu reports the outcome of an operation. It mirrors ncclResult_t (same numbers)
// because callers must be able to tell invalid arguments from bad usage from remote failures,
// which ddrr::StatusCode does not distinguish.
#pragma once

#include <string>
#include <utility>

#include "common/status.h"

namespace ddrr::emu {

enum class Code : int {
  kSuccess = 0,
  kUnhandledCudaError = 1,
  kSystemError = 2,
  kInternalError = 3,
  kInvalidArgument = 4,
  kInvalidUsage = 5,
  kRemoteError = 6,
  kInProgress = 7,
};

class Result {
 public:
  Result() = default;
  Result(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  static Result Ok() { return Result(); }
  static Result Pending() { return Result(Code::kInProgress, ""); }

  bool ok() const { return code_ == Code::kSuccess; }
  bool pending() const { return code_ == Code::kInProgress; }
  bool failed() const { return !ok() && !pending(); }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }

 private:
  Code code_ = Code::kSuccess;
  std::string message_;
};

// Returns the Result of `expr` from the enclosing function when it failed (NCCLCHECK style); a
// pending result goes on.
#define EMU_CHECK(expr)                                       \
  do {                                                        \
    ::ddrr::emu::Result emu_check_result_ = (expr);           \
    if (emu_check_result_.failed()) return emu_check_result_; \
  } while (0)

// Converts an infrastructure failure (shared memory, copies) into an emu Result.
inline Result FromStatus(const Status& status, Code code) {
  return status.ok() ? Result::Ok() : Result(code, status.message());
}

}  // namespace ddrr::emu
