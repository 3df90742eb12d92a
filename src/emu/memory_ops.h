// The seam between emu and whatever memory the user's buffers live in. emu itself only touches
// host (shared) memory; every move of user data goes through these calls, so the same core
// serves plain host memory (tests, ddrr's host runtime) and device memory (the CUDA runtime).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "common/status.h"

namespace ddrr::emu {

// A user buffer as a peer rank names it. Plain data: it travels through the shared segment.
struct PeerRef {
  uint64_t process = 0;     // ThisProcessToken() of the owner: the same process uses `address`
  uint32_t exported = 0;    // 1: `handle` + `offset` let another process map it
  uint64_t address = 0;     // the buffer in its owner's address space
  uint64_t offset = 0;      // from the start of the shared allocation `handle` names
  uint8_t handle[64] = {};  // the runtime's IPC handle of that allocation
};

// The pid plus 32 random bits, fixed for the life of a process and new in a fork child: unlike
// a bare pid, two processes in different pid namespaces that meet in one /dev/shm do not share
// it (but for a 1 in 2^32 draw).
uint64_t ThisProcessToken();

// A peer's buffer mapped into this process; `keep` holds the mapping open.
struct PeerView {
  char* data = nullptr;
  std::shared_ptr<const void> keep;
};

class MemoryOps {
 public:
  virtual ~MemoryOps() = default;
  // Waits until work already queued on `stream` is done, so user buffers hold their inputs.
  virtual Status Sync(void* stream) = 0;
  // Copies `bytes` from a user buffer into host memory; complete when it returns.
  virtual Status CopyToHost(void* dst_host, const void* src_user, size_t bytes, void* stream) = 0;
  // Copies `bytes` from host memory into a user buffer; complete when it returns.
  virtual Status CopyFromHost(void* dst_user, const void* src_host, size_t bytes, void* stream) = 0;

  // True when user buffers are ordinary CPU memory, so a rank may read and write its peers'
  // buffers directly (no staging) once it can reach them.
  virtual bool HostAccessible() const { return false; }
  // Fills ref->handle/offset so that other processes can map `bytes` at `user`; false when the
  // memory cannot be shared across processes (ranks in the same process still reach it).
  virtual bool Export(const void* user, size_t bytes, PeerRef* ref) { return false; }
  // Maps `bytes` of a buffer another process exported.
  virtual Status Import(const PeerRef& ref, size_t bytes, PeerView* view) {
    return Status::Unimplemented("this memory cannot be shared between processes");
  }
};

// memcpy; user buffers are host memory. Never null, lives forever.
MemoryOps* HostMemoryOps();

}  // namespace ddrr::emu
