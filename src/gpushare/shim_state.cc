#include "gpushare/shim_state.h"

#include <dlfcn.h>

#include <atomic>
#include <cstdlib>

#include "common/log.h"
#include "common/params.h"
#include "common/symbol_resolver.h"

namespace ddrr::gpushare {
namespace {

// The thread's last successfully set virtual device; -1 until it sets one (the runtime's own
// default, device 0, then reads as virtual device 0).
thread_local int t_virtual_device = -1;

std::atomic<int> g_real_count{-1};

}  // namespace

const DeviceMap& Map() {
  static const DeviceMap map = [] {
    const char* text = getenv(param::Name(param::kRanksPerGpu));  // set but empty is an error
    StatusOr<int> k = ParseRanksPerGpu(text);
    if (k.ok()) return DeviceMap(*k);
    DDRR_WARN("gpushare: %s; devices are not shared (set it to the ranks per GPU, e.g. 4)",
              k.status().message().c_str());
    return DeviceMap(1);
  }();
  return map;
}

void* FindNext(const char* name) {
  return FindNextDefinition({name}, "libcudart.so.13", reinterpret_cast<const void*>(&FindNext),
                            dlsym);
}

cudaError_t NoNext(const char* name) {
  DDRR_WARN_ONCE(
      "gpushare: no CUDA runtime defines %s after libddrr_gpushare.so; returning an error", name);
  return cudaErrorSharedObjectSymbolNotFound;
}

cudaError_t CurrentVirtualDevice(int* device) {
  DDRR_GPUSHARE_NEXT(cudaGetDevice);
  int real = 0;
  cudaError_t err = next(&real);
  if (err == cudaSuccess) *device = Map().VirtualFor(real, t_virtual_device);
  return err;
}

void NoteCurrentVirtualDevice(int device) { t_virtual_device = device; }

int RealDeviceCount() {
  int cached = g_real_count.load(std::memory_order_relaxed);
  if (cached >= 0) return cached;
  static const auto next =
      reinterpret_cast<decltype(&cudaGetDeviceCount)>(FindNext("cudaGetDeviceCount"));
  int count = 0;
  if (next == nullptr || next(&count) != cudaSuccess) return -1;
  g_real_count.store(count, std::memory_order_relaxed);  // fixed for the process's lifetime
  return count;
}

bool IsVirtualDevice(int device) {
  int real_count = RealDeviceCount();
  return device >= 0 && real_count > 0 && device < Map().VirtualCount(real_count);
}

bool ShareOneGpu(int a, int b) {
  return a != b && IsVirtualDevice(a) && IsVirtualDevice(b) && Map().RealOf(a) == Map().RealOf(b);
}

}  // namespace ddrr::gpushare
