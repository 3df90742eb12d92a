// How virtual devices map onto real ones when K ranks share each GPU (`ddrr run --ranks-per-gpu
// K`): virtual device v lives on real device v / K as that GPU's slot v % K, so a real count of
// R shows as R * K devices and `LOCAL_RANK % count` puts K ranks on each GPU. Pure arithmetic and
// string work, no CUDA: the preload shim (shim_*.cc) applies it to every runtime call that names
// a device, and the unit tests pin it.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace ddrr::gpushare {

constexpr int kMaxRanksPerGpu = 1024;

// A slot s > 0 adds s * kSlotDomainStride to its GPU's PCI domain (see VirtualBusId).
constexpr int kSlotDomainStride = 0x10000;

// DDRR_RANKS_PER_GPU's value: a decimal integer in [1, kMaxRanksPerGpu].
StatusOr<int> ParseRanksPerGpu(const char* text);

class DeviceMap {
 public:
  explicit DeviceMap(int ranks_per_gpu) : k_(ranks_per_gpu) {}

  int ranks_per_gpu() const { return k_; }
  int VirtualCount(int real_count) const { return real_count * k_; }
  // Negative ordinals pass unchanged, so the runtime rejects them as it would have (-1 / K
  // would be 0, a valid device). Ordinals past the end map past the real end: rejected too.
  int RealOf(int virtual_device) const {
    return virtual_device < 0 ? virtual_device : virtual_device / k_;
  }
  int SlotOf(int virtual_device) const { return virtual_device < 0 ? 0 : virtual_device % k_; }
  int VirtualOf(int real_device, int slot) const { return real_device * k_ + slot; }
  // What a real ordinal reported by the runtime (a pointer's or a stream's device) reads as:
  // `current` (the caller's virtual device) when it lives on that GPU, else the GPU's slot 0.
  // The runtime cannot tell slots of one GPU apart, so this is the best answer there is.
  int VirtualFor(int real_device, int current) const {
    if (real_device < 0) return real_device;
    return current >= 0 && RealOf(current) == real_device ? current : VirtualOf(real_device, 0);
  }

 private:
  int k_;
};

// Bus ids ("DDDD:BB:dd.f", hexadecimal). Slot 0 keeps its GPU's real id, so tools that look
// the GPU up by bus id (NVML) still find it. Slot s > 0 gets the real id with its PCI domain
// raised by s * 0x10000: "0000:3b:00.0" slot 2 is "20000:3b:00.0". Linux prints domains above
// 0xffff the same way (Intel VMD), code that parses bus ids as hex numbers (NCCL's
// busIdToInt64) reads them, and since real domains fit in 16 bits no virtual id equals a real
// one or another virtual one. Ids that do not parse are returned unchanged.
std::string VirtualBusId(std::string_view real_id, int slot);

// The inverse: the real GPU's id and the slot. An id without a domain above 0xffff (a real id,
// or something that does not parse) is slot 0, unchanged.
struct SplitBusId {
  std::string real_id;
  int slot = 0;
};
SplitBusId SplitVirtualBusId(std::string_view id);

// cudaDeviceProp::pciDomainID and cudaDevAttrPciDomainId of a slot, matching VirtualBusId.
inline int VirtualPciDomain(int real_domain, int slot) {
  return real_domain + slot * kSlotDomainStride;
}

// cudaDeviceProp::uuid of a slot: the real uuid with its last two bytes XORed with the slot
// (slot 0 unchanged), so code that tells devices apart by uuid sees distinct devices too.
void ApplySlotToUuid(char (&bytes)[16], int slot);

}  // namespace ddrr::gpushare
