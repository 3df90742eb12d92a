// Device entry points: count, selection, properties, attributes, PCI ids, versions, peer access
// and the synchronisation calls, which have nothing to wait for because all work runs at issue.
#include "hostrt/device.h"

#include <cuda_runtime_api.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "common/params.h"
#include "hostrt/allocations.h"
#include "hostrt/errors.h"

namespace ddrr::hostrt {
namespace {

constexpr int kRuntimeVersion = 13000;  // what CUDA 13.0's cudaRuntimeGetVersion reports
// PCI bus numbers start here so that no device claims bus 0 (a host bridge on real machines).
constexpr int kFirstPciBus = 1;

thread_local int t_current_device = 0;

int ParseDeviceCount() { return static_cast<int>(param::Int(param::kHostDevices)); }

// A stable identity per device index, so that every process of a job (and every run) sees the
// same uuid for "device 3": NCCL-style code hashes uuids and bus ids to match peers.
cudaUUID_t DeviceUuid(int device) {
  cudaUUID_t uuid;
  uint64_t state = 0x6464727220686f73ull ^ (static_cast<uint64_t>(device) * 0x9e3779b97f4a7c15ull);
  for (int i = 0; i < 16; ++i) {
    state ^= state >> 33;
    state *= 0xff51afd7ed558ccdull;
    state ^= state >> 29;
    uuid.bytes[i] = static_cast<char>(state & 0xff);
  }
  return uuid;
}

void FillProperties(int device, cudaDeviceProp* prop) {
  memset(prop, 0, sizeof(*prop));
  snprintf(prop->name, sizeof(prop->name), "ddrr host device %d", device);
  prop->uuid = DeviceUuid(device);
  prop->totalGlobalMem = DeviceMemoryBytes();
  // A Hopper-class shape: programs size launches and buffers from these, and any values a real
  // GPU could report keep them on their ordinary paths.
  prop->major = 9;
  prop->minor = 0;
  prop->multiProcessorCount = 132;
  prop->warpSize = 32;
  prop->maxThreadsPerBlock = 1024;
  prop->maxThreadsDim[0] = 1024;
  prop->maxThreadsDim[1] = 1024;
  prop->maxThreadsDim[2] = 64;
  prop->maxGridSize[0] = 0x7fffffff;
  prop->maxGridSize[1] = 65535;
  prop->maxGridSize[2] = 65535;
  prop->sharedMemPerBlock = 48 << 10;
  prop->sharedMemPerBlockOptin = 227 << 10;
  prop->sharedMemPerMultiprocessor = 228 << 10;
  prop->regsPerBlock = 65536;
  prop->regsPerMultiprocessor = 65536;
  prop->maxThreadsPerMultiProcessor = 2048;
  prop->maxBlocksPerMultiProcessor = 32;
  prop->totalConstMem = 64 << 10;
  prop->memPitch = 0x7fffffff;
  prop->textureAlignment = 512;
  prop->texturePitchAlignment = 32;
  prop->surfaceAlignment = 512;
  prop->l2CacheSize = 50 << 20;
  prop->memoryBusWidth = 5120;
  prop->pciBusID = kFirstPciBus + device;
  prop->pciDeviceID = 0;
  prop->pciDomainID = 0;
  prop->asyncEngineCount = 2;
  prop->concurrentKernels = 1;
  prop->canMapHostMemory = 1;
  prop->unifiedAddressing = 1;
  prop->managedMemory = 1;
  prop->concurrentManagedAccess = 1;
  prop->pageableMemoryAccess = 1;  // true here: device memory is host memory
  prop->hostNativeAtomicSupported = 1;
  prop->streamPrioritiesSupported = 1;
  prop->globalL1CacheSupported = 1;
  prop->localL1CacheSupported = 1;
  prop->computePreemptionSupported = 1;
  prop->canUseHostPointerForRegisteredMem = 1;
  prop->cooperativeLaunch = 1;
  prop->directManagedMemAccessFromHost = 1;
  prop->hostRegisterSupported = 1;
  prop->memoryPoolsSupported = 1;
  prop->ipcEventSupported = 0;
  prop->clusterLaunch = 1;
  prop->deviceNumaId = -1;
  prop->hostNumaId = -1;
}

bool ParsePciBusId(const char* text, int* domain, int* bus, int* device) {
  unsigned d = 0, b = 0, dev = 0, fn = 0;
  if (sscanf(text, "%x:%x:%x.%x", &d, &b, &dev, &fn) == 4 ||
      sscanf(text, "%x:%x:%x", &d, &b, &dev) == 3) {
    *domain = static_cast<int>(d);
    *bus = static_cast<int>(b);
    *device = static_cast<int>(dev);
    return true;
  }
  return false;
}

}  // namespace

int DeviceCount() {
  static const int count = ParseDeviceCount();
  return count;
}

bool IsValidDevice(int device) { return device >= 0 && device < DeviceCount(); }

int CurrentDevice() { return t_current_device; }

void SetCurrentDevice(int device) { t_current_device = device; }

size_t DeviceMemoryBytes() {
  static const size_t bytes = [] {
    long pages = sysconf(_SC_PHYS_PAGES);
    long page_size = sysconf(_SC_PAGE_SIZE);
    return pages > 0 && page_size > 0 ? static_cast<size_t>(pages) * page_size : size_t{16} << 30;
  }();
  return bytes;
}

}  // namespace ddrr::hostrt

using ddrr::hostrt::CurrentDevice;
using ddrr::hostrt::DeviceCount;
using ddrr::hostrt::Finish;
using ddrr::hostrt::IsValidDevice;

extern "C" {

cudaError_t cudaGetDeviceCount(int* count) {
  if (count == nullptr) return Finish(cudaErrorInvalidValue);
  *count = DeviceCount();
  return Finish(*count == 0 ? cudaErrorNoDevice : cudaSuccess);
}

cudaError_t cudaGetDevice(int* device) {
  if (device == nullptr) return Finish(cudaErrorInvalidValue);
  *device = CurrentDevice();
  return Finish(cudaSuccess);
}

cudaError_t cudaSetDevice(int device) {
  if (!IsValidDevice(device)) return Finish(cudaErrorInvalidDevice);
  ddrr::hostrt::SetCurrentDevice(device);
  return Finish(cudaSuccess);
}

cudaError_t cudaInitDevice(int device, unsigned int device_flags, unsigned int flags) {
  return Finish(IsValidDevice(device) ? cudaSuccess : cudaErrorInvalidDevice);
}

cudaError_t cudaSetDeviceFlags(unsigned int flags) { return Finish(cudaSuccess); }

cudaError_t cudaGetDeviceFlags(unsigned int* flags) {
  if (flags == nullptr) return Finish(cudaErrorInvalidValue);
  *flags = cudaDeviceMapHost;
  return Finish(cudaSuccess);
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (prop == nullptr) return Finish(cudaErrorInvalidValue);
  if (!IsValidDevice(device)) return Finish(cudaErrorInvalidDevice);
  ddrr::hostrt::FillProperties(device, prop);
  return Finish(cudaSuccess);
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (value == nullptr) return Finish(cudaErrorInvalidValue);
  if (!IsValidDevice(device)) return Finish(cudaErrorInvalidDevice);
  if (attr < 1 || attr >= cudaDevAttrMax) return Finish(cudaErrorInvalidValue);
  cudaDeviceProp p;
  ddrr::hostrt::FillProperties(device, &p);
  switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock:
      *value = p.maxThreadsPerBlock;
      break;
    case cudaDevAttrMaxBlockDimX:
      *value = p.maxThreadsDim[0];
      break;
    case cudaDevAttrMaxBlockDimY:
      *value = p.maxThreadsDim[1];
      break;
    case cudaDevAttrMaxBlockDimZ:
      *value = p.maxThreadsDim[2];
      break;
    case cudaDevAttrMaxGridDimX:
      *value = p.maxGridSize[0];
      break;
    case cudaDevAttrMaxGridDimY:
      *value = p.maxGridSize[1];
      break;
    case cudaDevAttrMaxGridDimZ:
      *value = p.maxGridSize[2];
      break;
    case cudaDevAttrMaxSharedMemoryPerBlock:
      *value = static_cast<int>(p.sharedMemPerBlock);
      break;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin:
      *value = static_cast<int>(p.sharedMemPerBlockOptin);
      break;
    case cudaDevAttrMaxSharedMemoryPerMultiprocessor:
      *value = static_cast<int>(p.sharedMemPerMultiprocessor);
      break;
    case cudaDevAttrTotalConstantMemory:
      *value = static_cast<int>(p.totalConstMem);
      break;
    case cudaDevAttrWarpSize:
      *value = p.warpSize;
      break;
    case cudaDevAttrMaxPitch:
      *value = static_cast<int>(p.memPitch);
      break;
    case cudaDevAttrMaxRegistersPerBlock:
      *value = p.regsPerBlock;
      break;
    case cudaDevAttrMaxRegistersPerMultiprocessor:
      *value = p.regsPerMultiprocessor;
      break;
    case cudaDevAttrClockRate:
      *value = 1980000;
      break;  // kHz
    case cudaDevAttrMemoryClockRate:
      *value = 2619000;
      break;
    case cudaDevAttrTextureAlignment:
      *value = static_cast<int>(p.textureAlignment);
      break;
    case cudaDevAttrMultiProcessorCount:
      *value = p.multiProcessorCount;
      break;
    case cudaDevAttrMaxThreadsPerMultiProcessor:
      *value = p.maxThreadsPerMultiProcessor;
      break;
    case cudaDevAttrMaxBlocksPerMultiprocessor:
      *value = p.maxBlocksPerMultiProcessor;
      break;
    case cudaDevAttrComputeCapabilityMajor:
      *value = p.major;
      break;
    case cudaDevAttrComputeCapabilityMinor:
      *value = p.minor;
      break;
    case cudaDevAttrGlobalMemoryBusWidth:
      *value = p.memoryBusWidth;
      break;
    case cudaDevAttrL2CacheSize:
      *value = p.l2CacheSize;
      break;
    case cudaDevAttrPciBusId:
      *value = p.pciBusID;
      break;
    case cudaDevAttrPciDeviceId:
      *value = p.pciDeviceID;
      break;
    case cudaDevAttrPciDomainId:
      *value = p.pciDomainID;
      break;
    case cudaDevAttrAsyncEngineCount:
      *value = p.asyncEngineCount;
      break;
    case cudaDevAttrNumaId:
    case cudaDevAttrHostNumaId:
      *value = -1;
      break;
    // Capabilities that hold on host memory.
    case cudaDevAttrConcurrentKernels:
    case cudaDevAttrCanMapHostMemory:
    case cudaDevAttrUnifiedAddressing:
    case cudaDevAttrManagedMemory:
    case cudaDevAttrConcurrentManagedAccess:
    case cudaDevAttrPageableMemoryAccess:
    case cudaDevAttrHostNativeAtomicSupported:
    case cudaDevAttrStreamPrioritiesSupported:
    case cudaDevAttrGlobalL1CacheSupported:
    case cudaDevAttrLocalL1CacheSupported:
    case cudaDevAttrComputePreemptionSupported:
    case cudaDevAttrCanUseHostPointerForRegisteredMem:
    case cudaDevAttrCooperativeLaunch:
    case cudaDevAttrDirectManagedMemAccessFromHost:
    case cudaDevAttrHostRegisterSupported:
    case cudaDevAttrMemoryPoolsSupported:
    case cudaDevAttrClusterLaunch:
      *value = 1;
      break;
    default:
      *value = 0;
      break;  // a valid attribute this runtime does not model
  }
  return Finish(cudaSuccess);
}

cudaError_t cudaDeviceGetPCIBusId(char* pci_bus_id, int len, int device) {
  if (pci_bus_id == nullptr || len <= 0) return Finish(cudaErrorInvalidValue);
  if (!IsValidDevice(device)) return Finish(cudaErrorInvalidDevice);
  snprintf(pci_bus_id, static_cast<size_t>(len), "%04x:%02x:%02x.0", 0,
           ddrr::hostrt::kFirstPciBus + device, 0);
  return Finish(cudaSuccess);
}

cudaError_t cudaDeviceGetByPCIBusId(int* device, const char* pci_bus_id) {
  int domain = 0, bus = 0, dev = 0;
  if (device == nullptr || pci_bus_id == nullptr ||
      !ddrr::hostrt::ParsePciBusId(pci_bus_id, &domain, &bus, &dev)) {
    return Finish(cudaErrorInvalidValue);
  }
  int index = bus - ddrr::hostrt::kFirstPciBus;
  if (domain != 0 || dev != 0 || !IsValidDevice(index)) return Finish(cudaErrorInvalidDevice);
  *device = index;
  return Finish(cudaSuccess);
}

cudaError_t cudaChooseDevice(int* device, const cudaDeviceProp* prop) {
  if (device == nullptr || prop == nullptr) return Finish(cudaErrorInvalidValue);
  *device = 0;
  return Finish(cudaSuccess);
}

// All work runs to completion when issued, so there is never anything to wait for.
cudaError_t cudaDeviceSynchronize() { return Finish(cudaSuccess); }

cudaError_t cudaDeviceReset() {
  ddrr::hostrt::ReleaseDeviceAllocations(CurrentDevice());
  return Finish(cudaSuccess);
}

cudaError_t cudaRuntimeGetVersion(int* version) {
  if (version == nullptr) return Finish(cudaErrorInvalidValue);
  *version = ddrr::hostrt::kRuntimeVersion;
  return Finish(cudaSuccess);
}

cudaError_t cudaDriverGetVersion(int* version) {
  if (version == nullptr) return Finish(cudaErrorInvalidValue);
  *version = ddrr::hostrt::kRuntimeVersion;
  return Finish(cudaSuccess);
}

// Every device's memory is the same host memory, so all peers can access each other.
cudaError_t cudaDeviceCanAccessPeer(int* can_access, int device, int peer_device) {
  if (can_access == nullptr) return Finish(cudaErrorInvalidValue);
  if (!IsValidDevice(device) || !IsValidDevice(peer_device)) return Finish(cudaErrorInvalidDevice);
  *can_access = device != peer_device ? 1 : 0;
  return Finish(cudaSuccess);
}

cudaError_t cudaDeviceEnablePeerAccess(int peer_device, unsigned int flags) {
  if (!IsValidDevice(peer_device)) return Finish(cudaErrorInvalidDevice);
  return Finish(flags != 0 ? cudaErrorInvalidValue : cudaSuccess);
}

cudaError_t cudaDeviceDisablePeerAccess(int peer_device) {
  return Finish(IsValidDevice(peer_device) ? cudaSuccess : cudaErrorInvalidDevice);
}

cudaError_t cudaDeviceGetStreamPriorityRange(int* least_priority, int* greatest_priority) {
  // The real range on current GPUs; priorities are accepted and reported, never acted on.
  if (least_priority != nullptr) *least_priority = 0;
  if (greatest_priority != nullptr) *greatest_priority = -5;
  return Finish(cudaSuccess);
}

cudaError_t cudaDeviceGetLimit(size_t* value, cudaLimit limit) {
  if (value == nullptr) return Finish(cudaErrorInvalidValue);
  switch (limit) {
    case cudaLimitStackSize:
      *value = 1024;
      break;
    case cudaLimitPrintfFifoSize:
    case cudaLimitMallocHeapSize:
      *value = 8 << 20;
      break;
    case cudaLimitDevRuntimeSyncDepth:
      *value = 2;
      break;
    case cudaLimitDevRuntimePendingLaunchCount:
      *value = 2048;
      break;
    case cudaLimitMaxL2FetchGranularity:
      *value = 64;
      break;
    case cudaLimitPersistingL2CacheSize:
      *value = 0;
      break;
    default:
      return Finish(cudaErrorUnsupportedLimit);
  }
  return Finish(cudaSuccess);
}

cudaError_t cudaDeviceSetLimit(cudaLimit limit, size_t value) { return Finish(cudaSuccess); }

cudaError_t cudaDeviceGetCacheConfig(cudaFuncCache* config) {
  if (config == nullptr) return Finish(cudaErrorInvalidValue);
  *config = cudaFuncCachePreferNone;
  return Finish(cudaSuccess);
}

cudaError_t cudaDeviceSetCacheConfig(cudaFuncCache config) { return Finish(cudaSuccess); }

cudaError_t cudaProfilerStart() { return Finish(cudaSuccess); }
cudaError_t cudaProfilerStop() { return Finish(cudaSuccess); }

}  // extern "C"
