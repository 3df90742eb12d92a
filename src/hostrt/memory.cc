// Allocation entry points: device, pinned, managed and stream-ordered memory (all host memory,
// tracked so that pointer attributes and cudaMemGetInfo answer as on a GPU), host registration,
// and device variables, whose storage is the host shadow nvcc registers (see launch.cc).
#include <algorithm>

#include "common/mutex.h"
#include "hostrt/aliases.h"
#include "hostrt/allocations.h"
#include "hostrt/ddrr_extensions.h"
#include "hostrt/device.h"
#include "hostrt/errors.h"
#include "hostrt/streams.h"

using ddrr::MutexLock;
using ddrr::hostrt::AllocateTracked;
using ddrr::hostrt::AllocationKind;
using ddrr::hostrt::CurrentDevice;
using ddrr::hostrt::Finish;
using ddrr::hostrt::KindBit;

namespace {

constexpr unsigned kDeviceKinds =
    KindBit(AllocationKind::kDevice) | KindBit(AllocationKind::kManaged);
constexpr unsigned kHostKinds = KindBit(AllocationKind::kPinnedHost);
constexpr size_t kPitchAlignment = 512;  // what cudaMallocPitch rounds rows to on current GPUs

cudaError_t Allocate(void** ptr, size_t size, AllocationKind kind) {
  if (ptr == nullptr) return Finish(cudaErrorInvalidValue);
  *ptr = AllocateTracked(size, kind, CurrentDevice());
  if (*ptr == nullptr && size != 0) return Finish(cudaErrorMemoryAllocation);
  return Finish(cudaSuccess);
}

}  // namespace

extern "C" {

cudaError_t cudaMalloc(void** dev_ptr, size_t size) {
  return Allocate(dev_ptr, size, AllocationKind::kDevice);
}

cudaError_t cudaMallocPitch(void** dev_ptr, size_t* pitch, size_t width, size_t height) {
  if (pitch == nullptr) return Finish(cudaErrorInvalidValue);
  *pitch = (width + kPitchAlignment - 1) / kPitchAlignment * kPitchAlignment;
  return Allocate(dev_ptr, *pitch * height, AllocationKind::kDevice);
}

cudaError_t cudaMallocManaged(void** dev_ptr, size_t size, unsigned int flags) {
  if (flags != cudaMemAttachGlobal && flags != cudaMemAttachHost) {
    return Finish(cudaErrorInvalidValue);
  }
  return Allocate(dev_ptr, size, AllocationKind::kManaged);
}

cudaError_t cudaMallocHost(void** ptr, size_t size) {
  return Allocate(ptr, size, AllocationKind::kPinnedHost);
}

cudaError_t cudaHostAlloc(void** ptr, size_t size, unsigned int flags) {
  constexpr unsigned kKnown =
      cudaHostAllocPortable | cudaHostAllocMapped | cudaHostAllocWriteCombined;
  if ((flags & ~kKnown) != 0) return Finish(cudaErrorInvalidValue);
  return Allocate(ptr, size, AllocationKind::kPinnedHost);
}

cudaError_t cudaFree(void* dev_ptr) {
  if (dev_ptr == nullptr) return Finish(cudaSuccess);
  return Finish(ddrr::hostrt::ReleaseTracked(dev_ptr, kDeviceKinds) ? cudaSuccess
                                                                    : cudaErrorInvalidValue);
}

cudaError_t cudaFreeHost(void* ptr) {
  if (ptr == nullptr) return Finish(cudaSuccess);
  return Finish(ddrr::hostrt::ReleaseTracked(ptr, kHostKinds) ? cudaSuccess
                                                              : cudaErrorInvalidValue);
}

// Stream-ordered allocation: memory is usable at once. Inside a capture the allocation happens at
// capture time and a free waits for the graph's destruction, so every replay sees the same
// live memory, as with the real runtime's graph-owned allocations.
cudaError_t cudaMallocAsync(void** dev_ptr, size_t size, cudaStream_t stream) {
  CUstream_st* resolved = nullptr;
  cudaError_t error = ddrr::hostrt::ResolveStream(stream, &resolved);
  if (error != cudaSuccess) return Finish(error);
  return Allocate(dev_ptr, size, AllocationKind::kDevice);
}

cudaError_t cudaMallocFromPoolAsync(void** ptr, size_t size, cudaMemPool_t pool,
                                    cudaStream_t stream) {
  return cudaMallocAsync(ptr, size, stream);
}

cudaError_t cudaFreeAsync(void* dev_ptr, cudaStream_t stream) {
  CUstream_st* resolved = nullptr;
  cudaError_t error = ddrr::hostrt::ResolveStream(stream, &resolved);
  if (error != cudaSuccess) return Finish(error);
  if (dev_ptr == nullptr) return Finish(cudaSuccess);
  {
    MutexLock lock(&ddrr::hostrt::CaptureMutex());
    if (ddrr::hostrt::Capture* capture = ddrr::hostrt::ActiveCapture(resolved)) {
      auto allocation = ddrr::hostrt::FindAllocation(dev_ptr);
      if (!allocation || allocation->base != dev_ptr ||
          (KindBit(allocation->kind) & kDeviceKinds) == 0) {
        return Finish(cudaErrorInvalidValue);
      }
      capture->graph->body->deferred_frees.push_back(dev_ptr);
      return Finish(cudaSuccess);
    }
  }
  return cudaFree(dev_ptr);
}

cudaError_t cudaMemGetInfo(size_t* free, size_t* total) {
  if (free == nullptr || total == nullptr) return Finish(cudaErrorInvalidValue);
  *total = ddrr::hostrt::DeviceMemoryBytes();
  size_t used = ddrr::hostrt::BytesAllocatedOn(CurrentDevice());
  *free = *total - std::min(used, *total);
  return Finish(cudaSuccess);
}

cudaError_t cudaPointerGetAttributes(cudaPointerAttributes* attributes, const void* ptr) {
  if (attributes == nullptr) return Finish(cudaErrorInvalidValue);
  *attributes = cudaPointerAttributes{};
  auto allocation = ddrr::hostrt::FindAllocation(ptr);
  void* address = const_cast<void*>(ptr);
  if (!allocation) {
    // What the real runtime answers for ordinary (pageable, unregistered) host memory.
    attributes->type = cudaMemoryTypeUnregistered;
    attributes->device = -2;
    return Finish(cudaSuccess);
  }
  attributes->device = allocation->device;
  switch (allocation->kind) {
    case AllocationKind::kDevice:
    case AllocationKind::kIpcMapped:  // of the device current when it was opened
      attributes->type = cudaMemoryTypeDevice;
      attributes->devicePointer = address;
      break;
    case AllocationKind::kPinnedHost:
    case AllocationKind::kRegistered:
      attributes->type = cudaMemoryTypeHost;
      attributes->devicePointer = address;
      attributes->hostPointer = address;
      break;
    case AllocationKind::kManaged:
      attributes->type = cudaMemoryTypeManaged;
      attributes->devicePointer = address;
      attributes->hostPointer = address;
      break;
  }
  return Finish(cudaSuccess);
}

cudaError_t cudaHostRegister(void* ptr, size_t size, unsigned int flags) {
  if (ptr == nullptr || size == 0) return Finish(cudaErrorInvalidValue);
  return Finish(ddrr::hostrt::RegisterExternal(ptr, size, CurrentDevice())
                    ? cudaSuccess
                    : cudaErrorHostMemoryAlreadyRegistered);
}

cudaError_t cudaHostUnregister(void* ptr) {
  return Finish(ddrr::hostrt::UnregisterExternal(ptr) ? cudaSuccess
                                                      : cudaErrorHostMemoryNotRegistered);
}

cudaError_t cudaHostGetDevicePointer(void** device_ptr, void* host_ptr, unsigned int flags) {
  if (device_ptr == nullptr || host_ptr == nullptr || flags != 0) {
    return Finish(cudaErrorInvalidValue);
  }
  *device_ptr = host_ptr;  // one address space: the host address is the device address
  return Finish(cudaSuccess);
}

cudaError_t cudaHostGetFlags(unsigned int* flags, void* host_ptr) {
  if (flags == nullptr) return Finish(cudaErrorInvalidValue);
  auto allocation = ddrr::hostrt::FindAllocation(host_ptr);
  if (!allocation || (allocation->kind != AllocationKind::kPinnedHost &&
                      allocation->kind != AllocationKind::kRegistered)) {
    return Finish(cudaErrorInvalidValue);
  }
  *flags = cudaHostAllocMapped;
  return Finish(cudaSuccess);
}

cudaError_t ddrrHostMemGetAddressRange(void** base, size_t* size, const void* ptr) {
  // Deliberately not through Finish: see ddrr_extensions.h.
  auto allocation = ddrr::hostrt::FindAllocation(ptr);
  if (!allocation) return cudaErrorInvalidValue;
  if (base != nullptr) *base = allocation->base;
  if (size != nullptr) *size = allocation->size;
  return cudaSuccess;
}

// Placement hints: memory has one home here.
cudaError_t cudaMemPrefetchAsync(const void* dev_ptr, size_t count, cudaMemLocation location,
                                 unsigned int flags, cudaStream_t stream) {
  CUstream_st* resolved = nullptr;
  return Finish(ddrr::hostrt::ResolveStream(stream, &resolved));
}

cudaError_t cudaMemAdvise(const void* dev_ptr, size_t count, cudaMemoryAdvise advice,
                          cudaMemLocation location) {
  return Finish(cudaSuccess);
}

}  // extern "C"

DDRR_HOSTRT_PTSZ(cudaMallocAsync)
DDRR_HOSTRT_PTSZ(cudaMallocFromPoolAsync)
DDRR_HOSTRT_PTSZ(cudaFreeAsync)
DDRR_HOSTRT_PTSZ(cudaMemPrefetchAsync)

extern "C" cudaChannelFormatDesc cudaCreateChannelDesc(int x, int y, int z, int w,
                                                       cudaChannelFormatKind f) {
  // Pure value construction (returned by value, so it cannot be one of the placeholder stubs).
  return cudaChannelFormatDesc{x, y, z, w, f};
}
