// What every interposed function of libddrr_gpushare.so shares: the device map read once from
// DDRR_RANKS_PER_GPU, the next definition of each runtime function (the real libcudart, ddrr's
// host runtime, or whatever comes after the shim), the calling thread's virtual device and the
// real device count.
#pragma once

#include <cuda_runtime_api.h>

#include "gpushare/device_map.h"

namespace ddrr::gpushare {

// K from DDRR_RANKS_PER_GPU; when it is unset or invalid, one warning and K = 1, under which
// every function is a pure pass-through.
const DeviceMap& Map();

// The next definition of `name` after this library: dlsym(RTLD_NEXT), else libcudart.so.13 if
// it was loaded RTLD_LOCAL. Never one of the shim's own functions; nullptr if there is none.
void* FindNext(const char* name);
// What a function returns when there is nothing to forward to (one warning per process).
cudaError_t NoNext(const char* name);

// The calling thread's current device as a virtual ordinal: the one it last set if the runtime's
// current device is still that GPU, else the GPU's slot 0.
cudaError_t CurrentVirtualDevice(int* device);
void NoteCurrentVirtualDevice(int device);

// The runtime's real device count (cached after the first success), or -1 if it fails.
int RealDeviceCount();
// A virtual ordinal that exists: 0 <= v < real count * K.
bool IsVirtualDevice(int device);
// Two distinct virtual devices on one GPU: the case the shim answers itself for peer calls.
bool ShareOneGpu(int a, int b);

}  // namespace ddrr::gpushare

// Declares `next`, the next definition of `name` with name's own type, looked up once; returns
// NoNext from the enclosing function when there is none.
#define DDRR_GPUSHARE_NEXT(name)                                                                 \
  static const auto next = reinterpret_cast<decltype(&name)>(::ddrr::gpushare::FindNext(#name)); \
  if (next == nullptr) return ::ddrr::gpushare::NoNext(#name)
