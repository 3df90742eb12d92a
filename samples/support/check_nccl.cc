// DieNccl apart from the rest of check.cc: it calls NCCL, and the samples that load NCCL with
// dlopen (dlopen_nccl) must link no NCCL symbol at all.
#include <cstdio>
#include <cstdlib>

#include "support/check.h"

namespace ddrr_samples {

void DieNccl(ncclResult_t result, const char* call, const char* file, int line) {
  // ncclGetLastError holds NCCL's own explanation (e.g. which argument was invalid).
  DieNcclText(result, ncclGetErrorString(result), ncclGetLastError(nullptr), call, file, line);
}

}  // namespace ddrr_samples
