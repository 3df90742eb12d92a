// Copy and fill entry points. Every pointer is a host pointer, so every copy is a memmove,
// whatever the cudaMemcpyKind says: that is what lets the emulated NCCL move data with
// cudaMemcpy* between any two buffers. Stream-ordered forms go through SubmitWork, so inside a
// capture they are recorded for replay instead of running.
#include <cstring>

#include "hostrt/aliases.h"
#include "hostrt/device.h"
#include "hostrt/errors.h"
#include "hostrt/module_registry.h"
#include "hostrt/streams.h"

using ddrr::hostrt::Finish;
using ddrr::hostrt::SubmitWork;

namespace {

bool IsCopyKind(cudaMemcpyKind kind) {
  return kind >= cudaMemcpyHostToHost && kind <= cudaMemcpyDefault;
}

cudaError_t CheckCopy(void* dst, const void* src, size_t count, cudaMemcpyKind kind) {
  if (!IsCopyKind(kind)) return cudaErrorInvalidMemcpyDirection;
  if (count != 0 && (dst == nullptr || src == nullptr)) return cudaErrorInvalidValue;
  return cudaSuccess;
}

// Rows of `width` bytes, `height` of them, `dpitch`/`spitch` bytes apart.
struct Copy2D {
  char* dst;
  size_t dpitch;
  const char* src;
  size_t spitch;
  size_t width;
  size_t height;

  void operator()() const {
    for (size_t row = 0; row < height; ++row)
      memmove(dst + row * dpitch, src + row * spitch, width);
  }
};

cudaError_t CheckCopy2D(const Copy2D& copy, cudaMemcpyKind kind) {
  if (!IsCopyKind(kind)) return cudaErrorInvalidMemcpyDirection;
  if (copy.width > copy.dpitch || copy.width > copy.spitch) return cudaErrorInvalidPitchValue;
  if (copy.width != 0 && copy.height != 0 && (copy.dst == nullptr || copy.src == nullptr)) {
    return cudaErrorInvalidValue;
  }
  return cudaSuccess;
}

// Device variables live in their host shadow (see module_registry.h).
cudaError_t ResolveSymbol(const void* symbol, size_t count, size_t offset, char** address) {
  auto size = ddrr::hostrt::RegisteredVariableSize(symbol);
  if (!size) return cudaErrorInvalidSymbol;
  if (offset > *size || count > *size - offset) return cudaErrorInvalidValue;
  *address = static_cast<char*>(const_cast<void*>(symbol)) + offset;
  return cudaSuccess;
}

}  // namespace

extern "C" {

cudaError_t cudaMemcpy(void* dst, const void* src, size_t count, cudaMemcpyKind kind) {
  cudaError_t error = CheckCopy(dst, src, count, kind);
  if (error == cudaSuccess && count != 0) memmove(dst, src, count);
  return Finish(error);
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t count, cudaMemcpyKind kind,
                            cudaStream_t stream) {
  cudaError_t error = CheckCopy(dst, src, count, kind);
  if (error != cudaSuccess) return Finish(error);
  return Finish(SubmitWork(stream, [dst, src, count] {
    if (count != 0) memmove(dst, src, count);
  }));
}

cudaError_t cudaMemcpyPeer(void* dst, int dst_device, const void* src, int src_device,
                           size_t count) {
  if (!ddrr::hostrt::IsValidDevice(dst_device) || !ddrr::hostrt::IsValidDevice(src_device)) {
    return Finish(cudaErrorInvalidDevice);
  }
  return cudaMemcpy(dst, src, count, cudaMemcpyDefault);
}

cudaError_t cudaMemcpyPeerAsync(void* dst, int dst_device, const void* src, int src_device,
                                size_t count, cudaStream_t stream) {
  if (!ddrr::hostrt::IsValidDevice(dst_device) || !ddrr::hostrt::IsValidDevice(src_device)) {
    return Finish(cudaErrorInvalidDevice);
  }
  return cudaMemcpyAsync(dst, src, count, cudaMemcpyDefault, stream);
}

cudaError_t cudaMemcpy2D(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width,
                         size_t height, cudaMemcpyKind kind) {
  Copy2D copy{
      static_cast<char*>(dst), dpitch, static_cast<const char*>(src), spitch, width, height};
  cudaError_t error = CheckCopy2D(copy, kind);
  if (error == cudaSuccess) copy();
  return Finish(error);
}

cudaError_t cudaMemcpy2DAsync(void* dst, size_t dpitch, const void* src, size_t spitch,
                              size_t width, size_t height, cudaMemcpyKind kind,
                              cudaStream_t stream) {
  Copy2D copy{
      static_cast<char*>(dst), dpitch, static_cast<const char*>(src), spitch, width, height};
  cudaError_t error = CheckCopy2D(copy, kind);
  if (error != cudaSuccess) return Finish(error);
  return Finish(SubmitWork(stream, copy));
}

cudaError_t cudaMemset(void* dev_ptr, int value, size_t count) {
  if (count != 0 && dev_ptr == nullptr) return Finish(cudaErrorInvalidValue);
  if (count != 0) memset(dev_ptr, value, count);
  return Finish(cudaSuccess);
}

cudaError_t cudaMemsetAsync(void* dev_ptr, int value, size_t count, cudaStream_t stream) {
  if (count != 0 && dev_ptr == nullptr) return Finish(cudaErrorInvalidValue);
  return Finish(SubmitWork(stream, [dev_ptr, value, count] {
    if (count != 0) memset(dev_ptr, value, count);
  }));
}

cudaError_t cudaMemset2D(void* dev_ptr, size_t pitch, int value, size_t width, size_t height) {
  return cudaMemset2DAsync(dev_ptr, pitch, value, width, height, cudaStreamLegacy);
}

cudaError_t cudaMemset2DAsync(void* dev_ptr, size_t pitch, int value, size_t width, size_t height,
                              cudaStream_t stream) {
  if (width > pitch) return Finish(cudaErrorInvalidPitchValue);
  if (width != 0 && height != 0 && dev_ptr == nullptr) return Finish(cudaErrorInvalidValue);
  char* base = static_cast<char*>(dev_ptr);
  return Finish(SubmitWork(stream, [base, pitch, value, width, height] {
    for (size_t row = 0; row < height; ++row) memset(base + row * pitch, value, width);
  }));
}

cudaError_t cudaMemcpyToSymbol(const void* symbol, const void* src, size_t count, size_t offset,
                               cudaMemcpyKind kind) {
  char* address = nullptr;
  cudaError_t error = ResolveSymbol(symbol, count, offset, &address);
  if (error != cudaSuccess) return Finish(error);
  return cudaMemcpy(address, src, count, kind);
}

cudaError_t cudaMemcpyFromSymbol(void* dst, const void* symbol, size_t count, size_t offset,
                                 cudaMemcpyKind kind) {
  char* address = nullptr;
  cudaError_t error = ResolveSymbol(symbol, count, offset, &address);
  if (error != cudaSuccess) return Finish(error);
  return cudaMemcpy(dst, address, count, kind);
}

cudaError_t cudaMemcpyToSymbolAsync(const void* symbol, const void* src, size_t count,
                                    size_t offset, cudaMemcpyKind kind, cudaStream_t stream) {
  char* address = nullptr;
  cudaError_t error = ResolveSymbol(symbol, count, offset, &address);
  if (error != cudaSuccess) return Finish(error);
  return cudaMemcpyAsync(address, src, count, kind, stream);
}

cudaError_t cudaMemcpyFromSymbolAsync(void* dst, const void* symbol, size_t count, size_t offset,
                                      cudaMemcpyKind kind, cudaStream_t stream) {
  char* address = nullptr;
  cudaError_t error = ResolveSymbol(symbol, count, offset, &address);
  if (error != cudaSuccess) return Finish(error);
  return cudaMemcpyAsync(dst, address, count, kind, stream);
}

cudaError_t cudaGetSymbolAddress(void** dev_ptr, const void* symbol) {
  char* address = nullptr;
  if (dev_ptr == nullptr) return Finish(cudaErrorInvalidValue);
  cudaError_t error = ResolveSymbol(symbol, 0, 0, &address);
  if (error == cudaSuccess) *dev_ptr = address;
  return Finish(error);
}

cudaError_t cudaGetSymbolSize(size_t* size, const void* symbol) {
  if (size == nullptr) return Finish(cudaErrorInvalidValue);
  auto registered = ddrr::hostrt::RegisteredVariableSize(symbol);
  if (!registered) return Finish(cudaErrorInvalidSymbol);
  *size = *registered;
  return Finish(cudaSuccess);
}

}  // extern "C"

DDRR_HOSTRT_PTDS(cudaMemcpy)
DDRR_HOSTRT_PTSZ(cudaMemcpyAsync)
DDRR_HOSTRT_PTDS(cudaMemcpy2D)
DDRR_HOSTRT_PTSZ(cudaMemcpy2DAsync)
DDRR_HOSTRT_PTDS(cudaMemset)
DDRR_HOSTRT_PTSZ(cudaMemsetAsync)
DDRR_HOSTRT_PTDS(cudaMemset2D)
DDRR_HOSTRT_PTSZ(cudaMemset2DAsync)
DDRR_HOSTRT_PTDS(cudaMemcpyToSymbol)
DDRR_HOSTRT_PTDS(cudaMemcpyFromSymbol)
DDRR_HOSTRT_PTSZ(cudaMemcpyToSymbolAsync)
DDRR_HOSTRT_PTSZ(cudaMemcpyFromSymbolAsync)
