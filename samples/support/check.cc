#include "support/check.h"

#include <cstdio>
#include <cstdlib>

namespace ddrr_samples {
namespace {

char g_prefix[128] = "";

// cuRAND has no status-to-string function; the names are what a user would search for.
const char* CurandStatusName(curandStatus_t status) {
  switch (status) {
    case CURAND_STATUS_SUCCESS:
      return "CURAND_STATUS_SUCCESS";
    case CURAND_STATUS_VERSION_MISMATCH:
      return "CURAND_STATUS_VERSION_MISMATCH";
    case CURAND_STATUS_NOT_INITIALIZED:
      return "CURAND_STATUS_NOT_INITIALIZED";
    case CURAND_STATUS_ALLOCATION_FAILED:
      return "CURAND_STATUS_ALLOCATION_FAILED";
    case CURAND_STATUS_TYPE_ERROR:
      return "CURAND_STATUS_TYPE_ERROR";
    case CURAND_STATUS_OUT_OF_RANGE:
      return "CURAND_STATUS_OUT_OF_RANGE";
    case CURAND_STATUS_LENGTH_NOT_MULTIPLE:
      return "CURAND_STATUS_LENGTH_NOT_MULTIPLE";
    case CURAND_STATUS_DOUBLE_PRECISION_REQUIRED:
      return "CURAND_STATUS_DOUBLE_PRECISION_REQUIRED";
    case CURAND_STATUS_LAUNCH_FAILURE:
      return "CURAND_STATUS_LAUNCH_FAILURE";
    case CURAND_STATUS_PREEXISTING_FAILURE:
      return "CURAND_STATUS_PREEXISTING_FAILURE";
    case CURAND_STATUS_INITIALIZATION_FAILED:
      return "CURAND_STATUS_INITIALIZATION_FAILED";
    case CURAND_STATUS_ARCH_MISMATCH:
      return "CURAND_STATUS_ARCH_MISMATCH";
    case CURAND_STATUS_INTERNAL_ERROR:
      return "CURAND_STATUS_INTERNAL_ERROR";
  }
  return "unknown curandStatus_t";
}

}  // namespace

void SetLogIdentity(const char* sample, int rank) {
  if (rank < 0) {
    snprintf(g_prefix, sizeof(g_prefix), "[%s] ", sample);
  } else {
    snprintf(g_prefix, sizeof(g_prefix), "[%s rank %d] ", sample, rank);
  }
}

const char* LogPrefix() { return g_prefix; }

void DieCuda(cudaError_t error, const char* call, const char* file, int line) {
  fprintf(stderr, "%s%s:%d: CUDA error %s (%d): %s\n  in %s\n", g_prefix, file, line,
          cudaGetErrorName(error), static_cast<int>(error), cudaGetErrorString(error), call);
  exit(kExitFailure);
}

void DieCurand(curandStatus_t status, const char* call, const char* file, int line) {
  fprintf(stderr, "%s%s:%d: cuRAND error %s (%d)\n  in %s\n", g_prefix, file, line,
          CurandStatusName(status), static_cast<int>(status), call);
  exit(kExitFailure);
}

void DieNcclText(ncclResult_t result, const char* text, const char* detail, const char* call,
                 const char* file, int line) {
  fprintf(stderr, "%s%s:%d: NCCL error %d: %s%s%s\n  in %s\n", g_prefix, file, line,
          static_cast<int>(result), text, (detail != nullptr && *detail != '\0') ? "; " : "",
          detail != nullptr ? detail : "", call);
  exit(kExitFailure);
}

}  // namespace ddrr_samples
