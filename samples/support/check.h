// Error checking for the samples: every CUDA, cuRAND and NCCL call goes through one of these
// macros, which print where it failed and why, then exit non-zero. A sample that dies with a
// readable message is much easier to diagnose (and to test) than one that crashes later on a
// bad pointer.
#ifndef DDRR_SAMPLES_COMMON_CHECK_H_
#define DDRR_SAMPLES_COMMON_CHECK_H_

#include <cuda_runtime_api.h>
#include <curand.h>
#include <nccl.h>

namespace ddrr_samples {

// Exit codes shared by all samples, so scripts can tell the failure kinds apart.
inline constexpr int kExitFailure = 1;  // a CUDA/NCCL error or a wrong result
inline constexpr int kExitUsage = 2;    // bad command line or environment
inline constexpr int kExitAborted = 3;  // the `abort` fault ran: the communicator was aborted

// Every message a sample prints to stderr starts with "[<sample> rank R] " once this is set, so
// the interleaved output of N processes stays readable (a negative rank leaves it out).
void SetLogIdentity(const char* sample, int rank);
const char* LogPrefix();

[[noreturn]] void DieCuda(cudaError_t error, const char* call, const char* file, int line);
[[noreturn]] void DieCurand(curandStatus_t status, const char* call, const char* file, int line);
[[noreturn]] void DieNccl(ncclResult_t result, const char* call, const char* file, int line);
// DieNccl's message from texts the caller looked up: samples that load NCCL with dlopen call their
// own ncclGetErrorString and ncclGetLastError (check_nccl.cc holds the linked DieNccl).
[[noreturn]] void DieNcclText(ncclResult_t result, const char* text, const char* detail,
                              const char* call, const char* file, int line);

}  // namespace ddrr_samples

// Evaluates `call` once; a result other than `success` dies through `die` with the call's text.
#define DDRR_SAMPLE_CHECK(call, success, die)                               \
  do {                                                                      \
    const auto sample_check_result_ = (call);                               \
    if (sample_check_result_ != (success)) {                                \
      ::ddrr_samples::die(sample_check_result_, #call, __FILE__, __LINE__); \
    }                                                                       \
  } while (0)

#define CUDA_CHECK(call) DDRR_SAMPLE_CHECK(call, cudaSuccess, DieCuda)
#define CURAND_CHECK(call) DDRR_SAMPLE_CHECK(call, CURAND_STATUS_SUCCESS, DieCurand)
#define NCCL_CHECK(call) DDRR_SAMPLE_CHECK(call, ncclSuccess, DieNccl)

#endif  // DDRR_SAMPLES_COMMON_CHECK_H_
