// Per-thread "last error" of the host runtime, with the real runtime's semantics: every failing
// call records its error, cudaGetLastError returns and clears it, cudaPeekAtLastError only
// returns it, and successful calls leave it alone. Nothing is sticky: no host-runtime error
// corrupts a context, so later calls keep working.
#pragma once

#include <cuda_runtime_api.h>

namespace ddrr::hostrt {

// Records `result` as the calling thread's last error unless it is cudaSuccess, and returns it;
// every exported function returns through here.
cudaError_t Finish(cudaError_t result);

// Prints, once per process and name, "ddrr host runtime: <what> is not supported ..." and
// returns Finish(result). For entry points that exist only so that binaries load.
cudaError_t Unsupported(const char* what, cudaError_t result = cudaErrorNotSupported);

}  // namespace ddrr::hostrt
