// Failures each rank saw, from its scan: NCCL calls that returned an error (nccl-error), CUDA
// runtime calls that did and stream errors the completion poller saw (cuda-error), errors
// ncclCommGetAsyncError reported (nccl-async-error), ncclCommAbort / ncclCommRevoke calls
// (comm-abort, one finding per communicator), and ops that never completed (not-completed).
// Each kind's earliest occurrence across ranks is marked "first to fail": the others usually
// follow from it.
#pragma once

#include "analysis/check_context.h"

namespace ddrr::analysis {

void CheckFailures(CheckContext& ctx);

}  // namespace ddrr::analysis
