// CUDA IPC memory handles between processes on the host runtime. A shareable device allocation
// (allocations.h) is a memfd that its owner keeps open; the handle names it by owner pid and
// descriptor number, and the opener maps the same pages through /proc/<pid>/fd/<fd>, so both
// processes read and write one copy of the memory, as two processes do with one GPU's memory.
//
// Error codes follow NVIDIA's documentation of the CUDA 13 runtime (cuda_runtime_api.h, and
// https://docs.nvidia.com/cuda/cuda-runtime-api/group__CUDART__DEVICE.html):
// - cudaIpcGetMemHandle may return cudaErrorInvalidValue (used for null arguments and pointers
//   outside a shareable device allocation), cudaErrorMemoryAllocation,
//   cudaErrorMapBufferObjectFailed, cudaErrorNotSupported.
// - cudaIpcOpenMemHandle may return cudaErrorInvalidValue (null devPtr, flags other than
//   cudaIpcMemLazyEnablePeerAccess, which the docs require), cudaErrorInvalidResourceHandle
//   (used for a handle that names no live allocation: not ours, freed, owner gone),
//   cudaErrorMapBufferObjectFailed (used when the pages cannot be mapped, /proc access denied
//   included), cudaErrorDeviceUninitialized, cudaErrorTooManyPeers, cudaErrorNotSupported.
//   Opening a handle in the process that made it fails on a GPU: cuIpcOpenMemHandle answers
//   CUDA_ERROR_INVALID_CONTEXT (201, "invalid device context"; seen in openucx/ucx#11603), which
//   the runtime reports as cudaErrorDeviceUninitialized (also 201, same text). Opening a handle
//   already open in the calling context increments its reference count and returns the existing
//   pointer (the docs); here the count is per process rather than per context.
// - cudaIpcCloseMemHandle decrements that count and unmaps at zero (the docs); it may return
//   cudaErrorInvalidValue (used for any pointer that cudaIpcOpenMemHandle did not return),
//   cudaErrorMapBufferObjectFailed, cudaErrorNotSupported.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "hostrt/allocations.h"
#include "hostrt/device.h"
#include "hostrt/errors.h"

using ddrr::hostrt::AllocationKind;
using ddrr::hostrt::Finish;

namespace {

// What the 64 opaque bytes of a cudaIpcMemHandle_t hold; the rest are zero, so the handle of an
// allocation is the same bytes every time it is asked for.
struct HandleFields {
  char magic[8];
  uint64_t size;
  uint64_t file_device;  // st_dev and st_ino of the owner's memfd: the opener checks both
  uint64_t inode;
  uint64_t serial;  // the owner's allocation serial: distinct handles for reused addresses
  int32_t owner_pid;
  int32_t fd;
  int32_t device;
  uint32_t reserved;
};
static_assert(sizeof(HandleFields) <= sizeof(cudaIpcMemHandle_t::reserved));

constexpr char kMagic[8] = {'d', 'd', 'r', 'r', 'I', 'P', 'C', '1'};

bool Decode(const cudaIpcMemHandle_t& handle, HandleFields* fields) {
  memcpy(fields, handle.reserved, sizeof(*fields));
  return memcmp(fields->magic, kMagic, sizeof(kMagic)) == 0 && fields->owner_pid > 0 &&
         fields->fd >= 0 && fields->size > 0;
}

}  // namespace

extern "C" {

cudaError_t cudaIpcGetMemHandle(cudaIpcMemHandle_t* handle, void* dev_ptr) {
  if (handle == nullptr || dev_ptr == nullptr) return Finish(cudaErrorInvalidValue);
  auto allocation = ddrr::hostrt::FindAllocation(dev_ptr);
  // Interior pointers name their whole allocation, as on a GPU (the opener gets the base).
  if (!allocation || allocation->kind != AllocationKind::kDevice || !allocation->shareable) {
    return Finish(cudaErrorInvalidValue);
  }
  HandleFields fields{};
  memcpy(fields.magic, kMagic, sizeof(kMagic));
  fields.size = allocation->size;
  fields.file_device = allocation->file_device;
  fields.inode = allocation->inode;
  fields.serial = allocation->serial;
  fields.owner_pid = getpid();
  fields.fd = allocation->fd;
  fields.device = allocation->device;
  *handle = cudaIpcMemHandle_t{};
  memcpy(handle->reserved, &fields, sizeof(fields));
  return Finish(cudaSuccess);
}

cudaError_t cudaIpcOpenMemHandle(void** dev_ptr, cudaIpcMemHandle_t handle, unsigned int flags) {
  if (dev_ptr == nullptr || flags != cudaIpcMemLazyEnablePeerAccess) {
    return Finish(cudaErrorInvalidValue);
  }
  HandleFields fields;
  if (!Decode(handle, &fields)) return Finish(cudaErrorInvalidResourceHandle);
  if (fields.owner_pid == getpid()) return Finish(cudaErrorDeviceUninitialized);

  char path[64];
  snprintf(path, sizeof(path), "/proc/%d/fd/%d", fields.owner_pid, fields.fd);
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    // ENOENT: the owner is gone or closed it (freed). EACCES/EPERM: the owner is another user,
    // not dumpable, or /proc hides it; the memory exists but cannot be reached from here.
    return Finish(errno == EACCES || errno == EPERM ? cudaErrorMapBufferObjectFailed
                                                    : cudaErrorInvalidResourceHandle);
  }
  // The descriptor number may have been reused since (freed, or a new process with that pid):
  // only the very file the handle was made for will do.
  struct stat st;
  if (fstat(fd, &st) != 0 || static_cast<uint64_t>(st.st_dev) != fields.file_device ||
      static_cast<uint64_t>(st.st_ino) != fields.inode ||
      static_cast<uint64_t>(st.st_size) != fields.size) {
    close(fd);
    return Finish(cudaErrorInvalidResourceHandle);
  }
  void* mapped = ddrr::hostrt::ImportShared(fd, fields.size, ddrr::hostrt::CurrentDevice(),
                                            fields.owner_pid, st.st_dev, st.st_ino);
  close(fd);  // the mapping keeps the file alive
  if (mapped == nullptr) return Finish(cudaErrorMapBufferObjectFailed);
  *dev_ptr = mapped;
  return Finish(cudaSuccess);
}

cudaError_t cudaIpcCloseMemHandle(void* dev_ptr) {
  return Finish(ddrr::hostrt::ReleaseImport(dev_ptr) ? cudaSuccess : cudaErrorInvalidValue);
}

}  // extern "C"
