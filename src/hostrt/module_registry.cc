// Registration entry points of nvcc-generated code, and the registry they fill.
#include "hostrt/module_registry.h"

#include <map>
#include <memory>
#include <string>

#include "common/mutex.h"
#include "hostrt/allocations.h"
#include "hostrt/device.h"

struct CUkern_st {
  std::string name;
};

namespace ddrr::hostrt {
namespace {

struct Registry {
  Mutex mutex;
  std::map<const void*, std::unique_ptr<CUkern_st>> kernels_by_stub GUARDED_BY(mutex);
  std::map<const void*, size_t> variable_sizes GUARDED_BY(mutex);
};

Registry& GetRegistry() {
  static Registry* registry = new Registry();  // fat binaries unregister during exit
  return *registry;
}

// Stands in for the module handle; nvcc code only passes it back to us.
struct FatBinaryHandle {
  void* fat_cubin;
};

}  // namespace

cudaKernel_t KernelForStub(const void* host_stub) {
  Registry& registry = GetRegistry();
  MutexLock lock(&registry.mutex);
  auto& kernel = registry.kernels_by_stub[host_stub];
  if (kernel == nullptr) kernel = std::make_unique<CUkern_st>(CUkern_st{"<unregistered kernel>"});
  return kernel.get();
}

std::string KernelName(cudaKernel_t kernel) {
  if (kernel == nullptr) return "<null kernel>";
  Registry& registry = GetRegistry();
  MutexLock lock(&registry.mutex);
  return kernel->name;
}

std::optional<size_t> RegisteredVariableSize(const void* symbol) {
  Registry& registry = GetRegistry();
  MutexLock lock(&registry.mutex);
  auto it = registry.variable_sizes.find(symbol);
  if (it == registry.variable_sizes.end()) return std::nullopt;
  return it->second;
}

}  // namespace ddrr::hostrt

using ddrr::MutexLock;
using ddrr::hostrt::GetRegistry;

// Declared by crt/host_runtime.h only for nvcc's own compilation, so declared again here.
extern "C" {

void** __cudaRegisterFatBinary(void* fat_cubin) {
  auto* handle = new ddrr::hostrt::FatBinaryHandle{fat_cubin};
  return reinterpret_cast<void**>(handle);
}

void __cudaRegisterFatBinaryEnd(void** fat_cubin_handle) {}

void __cudaUnregisterFatBinary(void** fat_cubin_handle) {
  delete reinterpret_cast<ddrr::hostrt::FatBinaryHandle*>(fat_cubin_handle);
}

char __cudaInitModule(void** fat_cubin_handle) { return 1; }

void __cudaRegisterFunction(void** fat_cubin_handle, const char* host_fun, char* device_fun,
                            const char* device_name, int thread_limit, uint3* tid, uint3* bid,
                            dim3* block_dim, dim3* grid_dim, int* warp_size) {
  auto& registry = GetRegistry();
  MutexLock lock(&registry.mutex);
  auto& kernel = registry.kernels_by_stub[host_fun];
  if (kernel == nullptr) kernel = std::make_unique<CUkern_st>();
  kernel->name = device_name != nullptr ? device_name : "<unnamed kernel>";
}

void __cudaRegisterVar(void** fat_cubin_handle, char* host_var, char* device_address,
                       const char* device_name, int ext, size_t size, int constant, int global) {
  auto& registry = GetRegistry();
  MutexLock lock(&registry.mutex);
  registry.variable_sizes[host_var] = size;
}

// A __managed__ variable is reached through a pointer that the runtime sets: point it at managed
// memory of the variable's size.
void __cudaRegisterManagedVar(void** fat_cubin_handle, void** host_var_ptr_address,
                              char* device_address, const char* device_name, int ext, size_t size,
                              int constant, int global) {
  if (host_var_ptr_address == nullptr || size == 0) return;
  void* storage = ddrr::hostrt::AllocateTracked(size, ddrr::hostrt::AllocationKind::kManaged,
                                                ddrr::hostrt::CurrentDevice());
  *host_var_ptr_address = storage;
}

}  // extern "C"
