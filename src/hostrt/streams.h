// Streams of the host runtime. Work runs to completion when issued, so a stream holds no queue:
// it only carries its flags and, while it is being captured, the capture its work goes to.
#pragma once

#include <cuda_runtime_api.h>

#include <memory>

#include "hostrt/graphs.h"

struct CUstream_st {
  int device = 0;
  unsigned flags = 0;
  int priority = 0;
  bool capturable = true;  // false for the legacy default stream, which cannot be captured
  std::shared_ptr<ddrr::hostrt::Capture> capture GUARDED_BY(ddrr::hostrt::CaptureMutex());
};

namespace ddrr::hostrt {

// The capture `stream` takes part in, or nullptr; forgets a capture that has ended (joined
// streams leave a capture when its origin ends it).
Capture* ActiveCapture(CUstream_st* stream) EXCLUSIVE_LOCKS_REQUIRED(CaptureMutex());

// Maps a handle (0, cudaStreamLegacy, cudaStreamPerThread or one from cudaStreamCreate*) to its
// stream; cudaErrorInvalidResourceHandle for anything else, e.g. a destroyed stream.
cudaError_t ResolveStream(cudaStream_t handle, CUstream_st** stream);

// Runs `work` now, or, when the stream is being captured, appends it to the capture's graph.
// Returns the error to report (not yet passed through Finish).
cudaError_t SubmitWork(cudaStream_t handle, HostWork work);

// Invalidates the capture `stream` takes part in, if any (the real runtime does so when a
// capturing stream is synchronised or queried).
void InvalidateCapture(CUstream_st* stream);

}  // namespace ddrr::hostrt
