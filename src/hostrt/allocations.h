// Every allocation the host runtime hands out, so that cudaPointerGetAttributes, cudaFree and
// cudaMemGetInfo can answer as the real runtime does. All memory is ordinary host memory; the
// kind only decides what is reported. Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

namespace ddrr::hostrt {

enum class AllocationKind {
  kDevice,      // cudaMalloc, cudaMallocAsync, cudaMallocPitch
  kPinnedHost,  // cudaMallocHost, cudaHostAlloc
  kManaged,     // cudaMallocManaged, __managed__ variables
  kRegistered,  // cudaHostRegister: memory the program owns
};

struct Allocation {
  void* base = nullptr;
  size_t size = 0;
  AllocationKind kind = AllocationKind::kDevice;
  int device = 0;
};

// Returns zero-filled memory aligned to at least 256 bytes (cudaMalloc's guarantee), recorded
// as `kind` on `device`; nullptr when the host is out of memory. Zero-filled rather than
// garbage so that runs are reproducible. size 0 returns nullptr (as cudaMalloc does).
void* AllocateTracked(size_t size, AllocationKind kind, int device);

// Releases memory from AllocateTracked whose base is `ptr` and whose kind is one of `kinds`
// (a bit set of 1 << AllocationKind). False when `ptr` is no such allocation.
bool ReleaseTracked(void* ptr, unsigned kinds);

// Records memory the program owns (cudaHostRegister); false if it overlaps a known allocation.
bool RegisterExternal(void* base, size_t size, int device);
bool UnregisterExternal(void* base);

// The allocation containing `ptr`, if any.
std::optional<Allocation> FindAllocation(const void* ptr);

// Bytes of kDevice and kManaged allocations on `device`.
size_t BytesAllocatedOn(int device);

// Frees every allocation made on `device` (cudaDeviceReset).
void ReleaseDeviceAllocations(int device);

constexpr unsigned KindBit(AllocationKind kind) { return 1u << static_cast<unsigned>(kind); }

}  // namespace ddrr::hostrt
