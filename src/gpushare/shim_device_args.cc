// Runtime calls that take a device ordinal and nothing else device-specific: the ordinal is
// mapped to its GPU and the call forwarded. Virtual devices of one GPU therefore share what the
// GPU has once (default memory pool, graph memory, async notifications, kernel attributes).
#include <cuda_runtime_api.h>

#include "gpushare/shim_state.h"

using ddrr::gpushare::Map;

// The library is built with hidden visibility; only these are exported (and the version
// script keeps them to cuda*).
#pragma GCC visibility push(default)
extern "C" {

cudaError_t cudaDeviceGetTexture1DLinearMaxWidth(size_t* max_width,
                                                 const cudaChannelFormatDesc* desc, int device) {
  DDRR_GPUSHARE_NEXT(cudaDeviceGetTexture1DLinearMaxWidth);
  return next(max_width, desc, Map().RealOf(device));
}

cudaError_t cudaDeviceGetHostAtomicCapabilities(unsigned int* capabilities,
                                                const cudaAtomicOperation* operations,
                                                unsigned int count, int device) {
  DDRR_GPUSHARE_NEXT(cudaDeviceGetHostAtomicCapabilities);
  return next(capabilities, operations, count, Map().RealOf(device));
}

cudaError_t cudaDeviceGetP2PAtomicCapabilities(unsigned int* capabilities,
                                               const cudaAtomicOperation* operations,
                                               unsigned int count, int src_device, int dst_device) {
  DDRR_GPUSHARE_NEXT(cudaDeviceGetP2PAtomicCapabilities);
  return next(capabilities, operations, count, Map().RealOf(src_device), Map().RealOf(dst_device));
}

cudaError_t cudaDeviceGetDefaultMemPool(cudaMemPool_t* pool, int device) {
  DDRR_GPUSHARE_NEXT(cudaDeviceGetDefaultMemPool);
  return next(pool, Map().RealOf(device));
}

cudaError_t cudaDeviceSetMemPool(int device, cudaMemPool_t pool) {
  DDRR_GPUSHARE_NEXT(cudaDeviceSetMemPool);
  return next(Map().RealOf(device), pool);
}

cudaError_t cudaDeviceGetMemPool(cudaMemPool_t* pool, int device) {
  DDRR_GPUSHARE_NEXT(cudaDeviceGetMemPool);
  return next(pool, Map().RealOf(device));
}

cudaError_t cudaDeviceGetNvSciSyncAttributes(void* attributes, int device, int flags) {
  DDRR_GPUSHARE_NEXT(cudaDeviceGetNvSciSyncAttributes);
  return next(attributes, Map().RealOf(device), flags);
}

cudaError_t cudaDeviceGraphMemTrim(int device) {
  DDRR_GPUSHARE_NEXT(cudaDeviceGraphMemTrim);
  return next(Map().RealOf(device));
}

cudaError_t cudaDeviceGetGraphMemAttribute(int device, cudaGraphMemAttributeType attr,
                                           void* value) {
  DDRR_GPUSHARE_NEXT(cudaDeviceGetGraphMemAttribute);
  return next(Map().RealOf(device), attr, value);
}

cudaError_t cudaDeviceSetGraphMemAttribute(int device, cudaGraphMemAttributeType attr,
                                           void* value) {
  DDRR_GPUSHARE_NEXT(cudaDeviceSetGraphMemAttribute);
  return next(Map().RealOf(device), attr, value);
}

cudaError_t cudaKernelSetAttributeForDevice(cudaKernel_t kernel, cudaFuncAttribute attr, int value,
                                            int device) {
  DDRR_GPUSHARE_NEXT(cudaKernelSetAttributeForDevice);
  return next(kernel, attr, value, Map().RealOf(device));
}

cudaError_t cudaDeviceRegisterAsyncNotification(int device, cudaAsyncCallback callback,
                                                void* user_data,
                                                cudaAsyncCallbackHandle_t* handle) {
  DDRR_GPUSHARE_NEXT(cudaDeviceRegisterAsyncNotification);
  return next(Map().RealOf(device), callback, user_data, handle);
}

cudaError_t cudaDeviceUnregisterAsyncNotification(int device, cudaAsyncCallbackHandle_t handle) {
  DDRR_GPUSHARE_NEXT(cudaDeviceUnregisterAsyncNotification);
  return next(Map().RealOf(device), handle);
}

cudaError_t cudaArrayGetMemoryRequirements(cudaArrayMemoryRequirements* requirements,
                                           cudaArray_t array, int device) {
  DDRR_GPUSHARE_NEXT(cudaArrayGetMemoryRequirements);
  return next(requirements, array, Map().RealOf(device));
}

cudaError_t cudaMipmappedArrayGetMemoryRequirements(cudaArrayMemoryRequirements* requirements,
                                                    cudaMipmappedArray_t mipmap, int device) {
  DDRR_GPUSHARE_NEXT(cudaMipmappedArrayGetMemoryRequirements);
  return next(requirements, mipmap, Map().RealOf(device));
}

}  // extern "C"
#pragma GCC visibility pop
