// The host runtime's devices: DDRR_HOST_DEVICES identical "devices" (default 8), all backed by
// host memory, and the calling thread's current device (per thread, as in the real runtime).
#pragma once

#include <cstddef>

namespace ddrr::hostrt {

// Number of devices: DDRR_HOST_DEVICES if it parses as an integer in [0, 1024], else 8. Read once.
int DeviceCount();

bool IsValidDevice(int device);

// The calling thread's current device; starts at 0 in every thread.
int CurrentDevice();
void SetCurrentDevice(int device);

// What each device reports as its total memory: the machine's physical memory, since device
// allocations are host allocations.
size_t DeviceMemoryBytes();

}  // namespace ddrr::hostrt
