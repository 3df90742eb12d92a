// Kernel launch entry points. There is no device to run kernels on: every launch fails with
// cudaErrorNoKernelImageForDevice ("no kernel image is available for execution on the device",
// the answer a GPU gives for a binary without code for it) and the first one prints one line
// saying why. The call-configuration pair that nvcc's <<<>>> expands to is kept working so that
// the failure surfaces through the launch itself and cudaGetLastError, as programs expect.
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include "common/log.h"
#include "hostrt/aliases.h"
#include "hostrt/errors.h"
#include "hostrt/module_registry.h"

using ddrr::hostrt::Finish;

namespace {

constexpr cudaError_t kNoGpuError = cudaErrorNoKernelImageForDevice;

struct CallConfiguration {
  dim3 grid;
  dim3 block;
  size_t shared_mem;
  cudaStream_t stream;
};

thread_local std::vector<CallConfiguration> t_call_configurations;

cudaError_t FailLaunch(const std::string& kernel_name) {
  DDRR_WARN_ONCE(
      "host runtime: kernel launches need a GPU; launching %s returns "
      "cudaErrorNoKernelImageForDevice (as will every later launch)",
      kernel_name.c_str());
  return Finish(kNoGpuError);
}

}  // namespace

extern "C" {

unsigned __cudaPushCallConfiguration(dim3 grid_dim, dim3 block_dim, size_t shared_mem,
                                     CUstream_st* stream) {
  t_call_configurations.push_back({grid_dim, block_dim, shared_mem, stream});
  return 0;
}

cudaError_t __cudaPopCallConfiguration(dim3* grid_dim, dim3* block_dim, size_t* shared_mem,
                                       void* stream) {
  if (t_call_configurations.empty()) return Finish(cudaErrorMissingConfiguration);
  CallConfiguration config = t_call_configurations.back();
  t_call_configurations.pop_back();
  if (grid_dim != nullptr) *grid_dim = config.grid;
  if (block_dim != nullptr) *block_dim = config.block;
  if (shared_mem != nullptr) *shared_mem = config.shared_mem;
  if (stream != nullptr) *static_cast<cudaStream_t*>(stream) = config.stream;
  return cudaSuccess;
}

cudaError_t __cudaGetKernel(cudaKernel_t* kernel, const void* host_stub) {
  if (kernel == nullptr) return Finish(cudaErrorInvalidValue);
  *kernel = ddrr::hostrt::KernelForStub(host_stub);
  return cudaSuccess;
}

cudaError_t cudaGetKernel(cudaKernel_t* kernel, const void* entry_func) {
  if (kernel == nullptr || entry_func == nullptr) return Finish(cudaErrorInvalidValue);
  *kernel = ddrr::hostrt::KernelForStub(entry_func);
  return Finish(cudaSuccess);
}

cudaError_t __cudaLaunchKernel(cudaKernel_t kernel, dim3 grid_dim, dim3 block_dim, void** args,
                               size_t shared_mem, cudaStream_t stream) {
  return FailLaunch(ddrr::hostrt::KernelName(kernel));
}

cudaError_t cudaLaunchKernel(const void* func, dim3 grid_dim, dim3 block_dim, void** args,
                             size_t shared_mem, cudaStream_t stream) {
  return FailLaunch(ddrr::hostrt::KernelName(ddrr::hostrt::KernelForStub(func)));
}

cudaError_t cudaLaunchKernelExC(const cudaLaunchConfig_t* config, const void* func, void** args) {
  return FailLaunch(ddrr::hostrt::KernelName(ddrr::hostrt::KernelForStub(func)));
}

cudaError_t cudaLaunchCooperativeKernel(const void* func, dim3 grid_dim, dim3 block_dim,
                                        void** args, size_t shared_mem, cudaStream_t stream) {
  return FailLaunch(ddrr::hostrt::KernelName(ddrr::hostrt::KernelForStub(func)));
}

}  // extern "C"

DDRR_HOSTRT_PTSZ(__cudaLaunchKernel)
DDRR_HOSTRT_PTSZ(cudaLaunchKernel)
DDRR_HOSTRT_PTSZ(cudaLaunchKernelExC)
DDRR_HOSTRT_PTSZ(cudaLaunchCooperativeKernel)

// Per-function settings: accepted, since there is no code they could tune.
extern "C" {

cudaError_t cudaFuncSetAttribute(const void* func, cudaFuncAttribute attr, int value) {
  return Finish(func == nullptr ? cudaErrorInvalidDeviceFunction : cudaSuccess);
}

cudaError_t cudaFuncSetCacheConfig(const void* func, cudaFuncCache cache_config) {
  return Finish(func == nullptr ? cudaErrorInvalidDeviceFunction : cudaSuccess);
}

}  // extern "C"
