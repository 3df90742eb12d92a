/* Functions that ddrr's host runtime (libcudart.so.13 in build/lib/hostrt) exports beyond
   NVIDIA's CUDA runtime API. NVIDIA's library has none of them, so finding one (dlsym on the
   loaded libcudart, or a weak reference) tells a program that it runs on the host runtime,
   where device memory is ordinary host memory that the CPU can read and write. C linkage, no
   CUDA headers needed beyond cudaError_t. */
#ifndef DDRR_HOSTRT_DDRR_EXTENSIONS_H_
#define DDRR_HOSTRT_DDRR_EXTENSIONS_H_

#include <cuda_runtime_api.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Like the driver's cuMemGetAddressRange: when `ptr` lies inside any allocation the host runtime
   tracks (device, pinned, managed, registered host memory, or a mapping returned by
   cudaIpcOpenMemHandle), stores the allocation's first byte in *base and its size in bytes in
   *size and returns cudaSuccess; either output may be NULL. Otherwise returns
   cudaErrorInvalidValue and stores nothing. Thread-safe. Unlike the cuda* calls it never sets
   the thread's last error, so probing arbitrary pointers leaves cudaGetLastError untouched. */
cudaError_t ddrrHostMemGetAddressRange(void** base, size_t* size, const void* ptr);

#ifdef __cplusplus
}
#endif

#endif /* DDRR_HOSTRT_DDRR_EXTENSIONS_H_ */
