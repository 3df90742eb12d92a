// Device identity: properties, attributes and PCI bus ids of virtual device v are those of real
// device v / K, except that slots other than 0 get a distinct bus id, PCI domain and uuid
// (device_map.h), so code that tells GPUs apart by bus id or uuid (emu's device key, NCCL-style
// duplicate-GPU checks, peer matching) sees K distinct devices.
#include <cuda_runtime_api.h>

#include <cstdio>
#include <string>

#include "gpushare/shim_state.h"

using ddrr::gpushare::Map;

namespace {

// Big enough for any bus id the runtime writes (NVML's own buffer size is 32).
constexpr int kBusIdBytes = 64;

}  // namespace

// The library is built with hidden visibility; only these are exported (and the version
// script keeps them to cuda*).
#pragma GCC visibility push(default)
extern "C" {

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  DDRR_GPUSHARE_NEXT(cudaGetDeviceProperties);
  cudaError_t err = next(prop, Map().RealOf(device));
  const int slot = Map().SlotOf(device);
  if (err == cudaSuccess && prop != nullptr && slot > 0) {
    prop->pciDomainID = ddrr::gpushare::VirtualPciDomain(prop->pciDomainID, slot);
    ddrr::gpushare::ApplySlotToUuid(prop->uuid.bytes, slot);
  }
  return err;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  DDRR_GPUSHARE_NEXT(cudaDeviceGetAttribute);
  cudaError_t err = next(value, attr, Map().RealOf(device));
  if (err == cudaSuccess && value != nullptr && attr == cudaDevAttrPciDomainId) {
    *value = ddrr::gpushare::VirtualPciDomain(*value, Map().SlotOf(device));
  }
  return err;
}

cudaError_t cudaDeviceGetPCIBusId(char* pci_bus_id, int len, int device) {
  DDRR_GPUSHARE_NEXT(cudaDeviceGetPCIBusId);
  const int slot = Map().SlotOf(device);
  if (slot == 0 || pci_bus_id == nullptr || len <= 0) {
    return next(pci_bus_id, len, Map().RealOf(device));
  }
  char real_id[kBusIdBytes] = {0};
  cudaError_t err = next(real_id, sizeof(real_id), Map().RealOf(device));
  if (err != cudaSuccess) return err;
  // Truncated to len like the runtime's own answer; a slot > 0 needs 14 bytes (17 for K > 16).
  snprintf(pci_bus_id, static_cast<size_t>(len), "%s",
           ddrr::gpushare::VirtualBusId(real_id, slot).c_str());
  return cudaSuccess;
}

cudaError_t cudaDeviceGetByPCIBusId(int* device, const char* pci_bus_id) {
  DDRR_GPUSHARE_NEXT(cudaDeviceGetByPCIBusId);
  ddrr::gpushare::SplitBusId split;
  if (pci_bus_id != nullptr) split = ddrr::gpushare::SplitVirtualBusId(pci_bus_id);
  // A slot this map does not have: the id as given, which names no real GPU.
  if (pci_bus_id == nullptr || split.slot >= Map().ranks_per_gpu()) {
    return next(device, pci_bus_id);
  }
  cudaError_t err = next(device, split.real_id.c_str());
  if (err == cudaSuccess && device != nullptr) *device = Map().VirtualOf(*device, split.slot);
  return err;
}

}  // extern "C"
#pragma GCC visibility pop
