// Completion tracking: when did a collective finish on the GPU? After a successful collective
// or p2p call outside a group (or the outermost ncclGroupEnd of a group), a pooled timing-free
// CUDA event is recorded on its stream; a background poller queries them in order and appends
// a Completion event for each. An op that was enqueued but never completed has no Completion:
// the hang signature. Streams being captured into a CUDA graph are skipped (events recorded
// during capture cannot be queried). Every failure passes through: no completions, a warning.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "interpose/data_capture.h"

namespace ddrr::interpose {

// True when `stream` is capturing a CUDA graph (the real runtime is asked; false on error).
bool StreamIsCapturing(cudaStream_t stream);

// A collective or p2p call that returned success, as recorded under `seq`, on a stream that was
// not capturing.
// `data`: its staged buffers (digests and payloads levels); outputs are copied here, or at the
// outermost ncclGroupEnd for grouped calls, right before the completion event.
void OnCollectiveIssued(uint64_t seq, uint64_t comm_key, uint64_t op_seq, cudaStream_t stream,
                        uint32_t group_depth, StagedBuffers data);
// An ncclGroupEnd recorded under `seq`, leaving the group nesting at `depth_after`; `ok`: it
// returned success (or ncclInProgress).
void OnGroupEnded(uint64_t seq, uint32_t depth_after, bool ok);

}  // namespace ddrr::interpose
