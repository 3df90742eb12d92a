// Error reporting entry points: cudaGetLastError, cudaPeekAtLastError, cudaGetErrorName,
// cudaGetErrorString.
#include "hostrt/errors.h"

#include <string>

#include "common/log.h"
#include "hostrt/unsupported.h"

namespace ddrr::hostrt {
namespace {

thread_local cudaError_t t_last_error = cudaSuccess;

struct ErrorText {
  cudaError_t code;
  const char* name;
  const char* message;
};

constexpr ErrorText kErrorTexts[] = {
#define DDRR_CUDA_ERROR(code, message) {code, #code, message},
#include "hostrt/error_table.inc"
#undef DDRR_CUDA_ERROR
};

// What the real runtime answers for a code it does not know.
constexpr char kUnrecognized[] = "unrecognized error code";

const ErrorText* FindErrorText(cudaError_t code) {
  for (const ErrorText& text : kErrorTexts) {
    if (text.code == code) return &text;
  }
  return nullptr;
}

}  // namespace

cudaError_t Finish(cudaError_t result) {
  if (result != cudaSuccess) t_last_error = result;
  return result;
}

cudaError_t Unsupported(const char* what, cudaError_t result) {
  if (log::FirstTime(what)) {
    const ErrorText* text = FindErrorText(result);
    DDRR_WARN("host runtime: %s is not supported without a GPU; it returns %s", what,
              text ? text->name : kUnrecognized);
  }
  return Finish(result);
}

}  // namespace ddrr::hostrt

using ddrr::hostrt::FindErrorText;

extern "C" {

cudaError_t cudaGetLastError() {
  cudaError_t error = ddrr::hostrt::t_last_error;
  ddrr::hostrt::t_last_error = cudaSuccess;
  return error;
}

cudaError_t cudaPeekAtLastError() { return ddrr::hostrt::t_last_error; }

const char* cudaGetErrorName(cudaError_t error) {
  const auto* text = FindErrorText(error);
  return text ? text->name : ddrr::hostrt::kUnrecognized;
}

const char* cudaGetErrorString(cudaError_t error) {
  const auto* text = FindErrorText(error);
  return text ? text->message : ddrr::hostrt::kUnrecognized;
}

}  // extern "C"

namespace ddrr::hostrt {

int ReportUnsupportedEntryPoint(const char* name) { return Unsupported(name); }

}  // namespace ddrr::hostrt
