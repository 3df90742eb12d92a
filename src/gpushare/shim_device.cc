// Device count and selection: the runtime shows real count * K devices, cudaSetDevice(v) makes
// real device v / K current and remembers v for the thread, and every real ordinal the runtime
// reports back (current device, a stream's, a pointer's, cudaChooseDevice's) reads as a virtual
// one. Out-of-range ordinals are forwarded out of range, so the runtime rejects them (and sets
// its last error) exactly as it would have.
#include <cuda_runtime_api.h>

#include "gpushare/shim_state.h"

using ddrr::gpushare::CurrentVirtualDevice;
using ddrr::gpushare::Map;

// The library is built with hidden visibility; only these are exported (and the version
// script keeps them to cuda*).
#pragma GCC visibility push(default)
extern "C" {

cudaError_t cudaGetDeviceCount(int* count) {
  DDRR_GPUSHARE_NEXT(cudaGetDeviceCount);
  cudaError_t err = next(count);
  if (err == cudaSuccess && count != nullptr) *count = Map().VirtualCount(*count);
  return err;
}

cudaError_t cudaSetDevice(int device) {
  DDRR_GPUSHARE_NEXT(cudaSetDevice);
  cudaError_t err = next(Map().RealOf(device));
  if (err == cudaSuccess) ddrr::gpushare::NoteCurrentVirtualDevice(device);
  return err;
}

cudaError_t cudaGetDevice(int* device) {
  if (device == nullptr) {
    DDRR_GPUSHARE_NEXT(cudaGetDevice);
    return next(device);  // the runtime's own error for a null pointer
  }
  return CurrentVirtualDevice(device);
}

cudaError_t cudaInitDevice(int device, unsigned int device_flags, unsigned int flags) {
  DDRR_GPUSHARE_NEXT(cudaInitDevice);
  return next(Map().RealOf(device), device_flags, flags);
}

cudaError_t cudaChooseDevice(int* device, const cudaDeviceProp* prop) {
  DDRR_GPUSHARE_NEXT(cudaChooseDevice);
  cudaError_t err = next(device, prop);
  if (err == cudaSuccess && device != nullptr) *device = Map().VirtualOf(*device, 0);
  return err;
}

// Which slot created the stream is not tracked: the caller's current device if it is on the
// stream's GPU, else that GPU's slot 0.
cudaError_t cudaStreamGetDevice(cudaStream_t stream, int* device) {
  DDRR_GPUSHARE_NEXT(cudaStreamGetDevice);
  cudaError_t err = next(stream, device);
  int current = -1;
  if (err == cudaSuccess && device != nullptr && CurrentVirtualDevice(&current) == cudaSuccess) {
    *device = Map().VirtualFor(*device, current);
  }
  return err;
}

// Same for the device that owns an allocation (host memory reports -2 and stays so).
cudaError_t cudaPointerGetAttributes(cudaPointerAttributes* attributes, const void* ptr) {
  DDRR_GPUSHARE_NEXT(cudaPointerGetAttributes);
  cudaError_t err = next(attributes, ptr);
  int current = -1;
  if (err == cudaSuccess && attributes != nullptr && attributes->device >= 0 &&
      CurrentVirtualDevice(&current) == cudaSuccess) {
    attributes->device = Map().VirtualFor(attributes->device, current);
  }
  return err;
}

}  // extern "C"
#pragma GCC visibility pop
