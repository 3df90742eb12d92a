#include "common/status.h"

#include <cstring>

#include "common/enum_names.h"

namespace ddrr {

const char* StatusCodeName(StatusCode code) {
  static constexpr const char* kNames[] = {
      "OK",        "Invalid argument", "Not found",   "Corruption",    "Unsupported version",
      "I/O error", "Unimplemented",    "Unavailable", "Internal error"};
  static_assert(std::size(kNames) == static_cast<size_t>(StatusCode::kInternal) + 1);
  return NameIn(kNames, code, "Unknown");
}

Status Status::FromErrno(const std::string& what, int err) {
  return IoError(what + ": " + std::strerror(err));
}

const std::string& Status::message() const {
  static const std::string kEmpty;
  return state_ ? state_->message : kEmpty;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(StatusCodeName(state_->code)) + ": " + state_->message;
}

}  // namespace ddrr
