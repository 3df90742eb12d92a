// Every allocation the host runtime hands out, so that cudaPointerGetAttributes, cudaFree and
// cudaMemGetInfo can answer as the real runtime does. All memory is ordinary host memory; the
// kind only decides what is reported. Thread-safe.
//
// Device allocations of kShareableMinBytes or more are "shareable": backed by a memfd mapped
// MAP_SHARED whose descriptor stays open, so that another process can map the same pages through
// /proc/<pid>/fd/<fd> (cudaIpcOpenMemHandle, see ipc.cc).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>

namespace ddrr::hostrt {

enum class AllocationKind {
  kDevice,      // cudaMalloc, cudaMallocAsync, cudaMallocPitch
  kPinnedHost,  // cudaMallocHost, cudaHostAlloc
  kManaged,     // cudaMallocManaged, __managed__ variables
  kRegistered,  // cudaHostRegister: memory the program owns
  kIpcMapped,   // cudaIpcOpenMemHandle: another process's shareable device allocation
};

struct Allocation {
  void* base = nullptr;
  size_t size = 0;
  AllocationKind kind = AllocationKind::kDevice;
  int device = 0;
  uint64_t serial = 0;     // per process, in allocation order; never reused
  bool shareable = false;  // kDevice backed by a memfd that `fd` keeps open
  int fd = -1;
  // The memfd's identity: of our own memfd when shareable, of the owner's for kIpcMapped.
  dev_t file_device = 0;
  ino_t inode = 0;
  pid_t owner_pid = 0;      // kIpcMapped: the process that exported it
  unsigned references = 0;  // kIpcMapped: opens not yet closed
};

// Device allocations from this size on are shareable (while under the cap below). Smaller ones
// are numerous and cheap to copy, and would use up the descriptor budget.
constexpr size_t kShareableMinBytes = size_t{64} << 10;

// Live shareable allocations are capped at min(256, RLIMIT_NOFILE soft limit / 4) so that the
// descriptors they hold open leave the program most of its limit; past the cap device memory is
// private (not shareable), as it is when memfd_create, ftruncate or mmap fail.
size_t ShareableCap();
// Replaces the cap (tests); 0 restores the default.
void SetShareableCapForTesting(size_t cap);

// Returns zero-filled memory aligned to at least 256 bytes (cudaMalloc's guarantee), recorded
// as `kind` on `device`; nullptr when the host is out of memory. Zero-filled rather than
// garbage so that runs are reproducible. size 0 returns nullptr (as cudaMalloc does).
void* AllocateTracked(size_t size, AllocationKind kind, int device);

// Releases memory from AllocateTracked whose base is `ptr` and whose kind is one of `kinds`
// (a bit set of 1 << AllocationKind). False when `ptr` is no such allocation. Never releases
// kRegistered or kIpcMapped memory (see ReleaseImport).
bool ReleaseTracked(void* ptr, unsigned kinds);

// Records memory the program owns (cudaHostRegister); false if it overlaps a known allocation.
bool RegisterExternal(void* base, size_t size, int device);
bool UnregisterExternal(void* base);

// Maps `size` bytes of the shared file `fd` (another process's shareable allocation, identified
// by owner_pid, file_device and inode) and records it as kIpcMapped on `device` with one
// reference. If that file is already mapped in this process, takes one more reference on that
// mapping instead and returns its base (the real runtime's reference counting per context; here
// per process). The caller keeps `fd`. nullptr when mmap fails.
void* ImportShared(int fd, size_t size, int device, pid_t owner_pid, dev_t file_device,
                   ino_t inode);

// Drops one reference on the kIpcMapped mapping whose base is `ptr`, unmapping it at the last.
// False when `ptr` is no such mapping.
bool ReleaseImport(void* ptr);

// The allocation containing `ptr`, if any.
std::optional<Allocation> FindAllocation(const void* ptr);

// Bytes of kDevice and kManaged allocations on `device`.
size_t BytesAllocatedOn(int device);

// Frees every kDevice allocation made on `device` and unmaps every kIpcMapped mapping opened on
// it, whatever its reference count (cudaDeviceReset destroys the context that held them).
void ReleaseDeviceAllocations(int device);

constexpr unsigned KindBit(AllocationKind kind) { return 1u << static_cast<unsigned>(kind); }

}  // namespace ddrr::hostrt
