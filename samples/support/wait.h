// Waiting for NCCL work the way NCCL recommends for robust programs: poll the stream and the
// communicator's asynchronous error instead of blocking in cudaStreamSynchronize, so a peer's
// failure is reported instead of hanging forever, and a hang says what it is waiting for.
#ifndef DDRR_SAMPLES_COMMON_WAIT_H_
#define DDRR_SAMPLES_COMMON_WAIT_H_

#include <cuda_runtime_api.h>
#include <nccl.h>

namespace ddrr_samples {

// Returns once all work on `stream` has finished. While waiting, checks `comm` (may be null)
// for an asynchronous NCCL error (then prints it, aborts the communicator and exits 1), and
// prints "still waiting for <what>" every $DDRR_SAMPLE_WAIT_REPORT seconds (default 30; 0 turns
// it off). The caller must have selected the stream's device.
void WaitStream(cudaStream_t stream, ncclComm_t comm, const char* what);

// The `stall` fault: a rank stuck in its own code (a data loader, a lock) never gets to its next
// collective. Prints a note naming `what` it never reaches and sleeps until it is killed.
[[noreturn]] void StallForever(const char* what);

}  // namespace ddrr_samples

#endif  // DDRR_SAMPLES_COMMON_WAIT_H_
