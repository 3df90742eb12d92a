// The seam between emu and whatever memory the user's buffers live in. emu itself only touches
// host (shared) memory; every move of user data goes through these calls, so the same core
// serves plain host memory (tests, ddrr's host runtime) and device memory (the CUDA runtime).
#pragma once

#include <cstddef>

#include "common/status.h"

namespace ddrr::emu {

class MemoryOps {
 public:
  virtual ~MemoryOps() = default;
  // Waits until work already queued on `stream` is done, so user buffers hold their inputs.
  virtual Status Sync(void* stream) = 0;
  // Copies `bytes` from a user buffer into host memory; complete when it returns.
  virtual Status CopyToHost(void* dst_host, const void* src_user, size_t bytes, void* stream) = 0;
  // Copies `bytes` from host memory into a user buffer; complete when it returns.
  virtual Status CopyFromHost(void* dst_user, const void* src_host, size_t bytes, void* stream) = 0;
};

// memcpy; user buffers are host memory. Never null, lives forever.
MemoryOps* HostMemoryOps();

}  // namespace ddrr::emu
