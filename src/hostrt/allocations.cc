#include "hostrt/allocations.h"

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <map>
#include <tuple>
#include <vector>

#include "common/mutex.h"

namespace ddrr::hostrt {
namespace {

constexpr size_t kAlignment = 256;
// From this size on, private memory comes from mmap: zero pages cost nothing until touched, which
// matters for programs that reserve large pools up front (caching allocators).
constexpr size_t kMmapThreshold = size_t{1} << 20;
constexpr size_t kMaxShareable = 256;

using ImportKey = std::tuple<pid_t, dev_t, ino_t>;

struct Table {
  Mutex mutex;
  // Ordered: FindAllocation looks up the predecessor.
  std::map<uintptr_t, Allocation> by_base GUARDED_BY(mutex);
  std::map<ImportKey, uintptr_t> imports GUARDED_BY(mutex);  // kIpcMapped mappings by file
  size_t shareable_live GUARDED_BY(mutex) = 0;
  uint64_t last_serial GUARDED_BY(mutex) = 0;
};

Table& GetTable() {
  static Table* table = new Table();  // never destroyed: frees may run during exit
  return *table;
}

std::atomic<size_t> cap_for_testing{0};

void* AcquireZeroed(size_t size) {
  if (size >= kMmapThreshold) {
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? nullptr : p;
  }
  size_t rounded = (size + kAlignment - 1) / kAlignment * kAlignment;
  void* p = aligned_alloc(kAlignment, rounded);
  if (p != nullptr) memset(p, 0, rounded);
  return p;
}

// A fresh memfd is zero-filled and its mapping page-aligned, as cudaMalloc's memory must be.
// False (nothing left open) when any step fails; the caller then falls back to private memory.
bool AcquireShared(size_t size, Allocation* allocation) {
  int fd = memfd_create("ddrr-device-memory", MFD_CLOEXEC);
  if (fd < 0) return false;
  struct stat st;
  if (ftruncate(fd, static_cast<off_t>(size)) != 0 || fstat(fd, &st) != 0) {
    close(fd);
    return false;
  }
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    close(fd);
    return false;
  }
  allocation->base = p;
  allocation->shareable = true;
  allocation->fd = fd;
  allocation->file_device = st.st_dev;
  allocation->inode = st.st_ino;
  return true;
}

void ReleaseAcquired(const Allocation& allocation) {
  if (allocation.shareable) {
    munmap(allocation.base, allocation.size);
    close(allocation.fd);
  } else if (allocation.kind == AllocationKind::kIpcMapped || allocation.size >= kMmapThreshold) {
    munmap(allocation.base, allocation.size);
  } else {
    free(allocation.base);
  }
}

// Removes the entry at `it` and its bookkeeping; the memory is the caller's to release.
std::map<uintptr_t, Allocation>::iterator EraseLocked(Table& table,
                                                      std::map<uintptr_t, Allocation>::iterator it)
    EXCLUSIVE_LOCKS_REQUIRED(table.mutex) {
  const Allocation& allocation = it->second;
  if (allocation.shareable) --table.shareable_live;
  if (allocation.kind == AllocationKind::kIpcMapped) {
    table.imports.erase(ImportKey{allocation.owner_pid, allocation.file_device, allocation.inode});
  }
  return table.by_base.erase(it);
}

// The base of this process's mapping of that file with one more reference, or nullptr.
void* RetainImportLocked(Table& table, const ImportKey& key) EXCLUSIVE_LOCKS_REQUIRED(table.mutex) {
  auto found = table.imports.find(key);
  if (found == table.imports.end()) return nullptr;
  Allocation& allocation = table.by_base.at(found->second);
  ++allocation.references;
  return allocation.base;
}

}  // namespace

size_t ShareableCap() {
  if (size_t cap = cap_for_testing.load(std::memory_order_relaxed); cap != 0) return cap;
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) {
    return kMaxShareable;
  }
  return std::min<size_t>(kMaxShareable, limit.rlim_cur / 4);
}

void SetShareableCapForTesting(size_t cap) {
  cap_for_testing.store(cap, std::memory_order_relaxed);
}

void* AllocateTracked(size_t size, AllocationKind kind, int device) {
  if (size == 0) return nullptr;
  Table& table = GetTable();
  Allocation allocation{nullptr, size, kind, device};
  if (kind == AllocationKind::kDevice && size >= kShareableMinBytes) {
    size_t cap = ShareableCap();
    bool reserved = false;
    {
      MutexLock lock(&table.mutex);
      if (table.shareable_live < cap) {
        ++table.shareable_live;  // held while the memfd is made, so racing threads keep the cap
        reserved = true;
      }
    }
    if (reserved && !AcquireShared(size, &allocation)) {
      MutexLock lock(&table.mutex);
      --table.shareable_live;
    }
  }
  if (!allocation.shareable) {
    allocation.base = AcquireZeroed(size);
    if (allocation.base == nullptr) return nullptr;
  }
  MutexLock lock(&table.mutex);
  allocation.serial = ++table.last_serial;
  table.by_base[reinterpret_cast<uintptr_t>(allocation.base)] = allocation;
  return allocation.base;
}

bool ReleaseTracked(void* ptr, unsigned kinds) {
  Allocation allocation;
  {
    Table& table = GetTable();
    MutexLock lock(&table.mutex);
    auto it = table.by_base.find(reinterpret_cast<uintptr_t>(ptr));
    if (it == table.by_base.end() || (KindBit(it->second.kind) & kinds) == 0 ||
        it->second.kind == AllocationKind::kRegistered ||
        it->second.kind == AllocationKind::kIpcMapped) {
      return false;
    }
    allocation = it->second;
    EraseLocked(table, it);
  }
  ReleaseAcquired(allocation);
  return true;
}

bool RegisterExternal(void* base, size_t size, int device) {
  Table& table = GetTable();
  MutexLock lock(&table.mutex);
  uintptr_t begin = reinterpret_cast<uintptr_t>(base);
  auto next = table.by_base.lower_bound(begin);
  if (next != table.by_base.end() && next->first < begin + size) return false;
  if (next != table.by_base.begin()) {
    const Allocation& prev = std::prev(next)->second;
    if (reinterpret_cast<uintptr_t>(prev.base) + prev.size > begin) return false;
  }
  Allocation allocation{base, size, AllocationKind::kRegistered, device};
  allocation.serial = ++table.last_serial;
  table.by_base[begin] = allocation;
  return true;
}

bool UnregisterExternal(void* base) {
  Table& table = GetTable();
  MutexLock lock(&table.mutex);
  auto it = table.by_base.find(reinterpret_cast<uintptr_t>(base));
  if (it == table.by_base.end() || it->second.kind != AllocationKind::kRegistered) return false;
  table.by_base.erase(it);
  return true;
}

void* ImportShared(int fd, size_t size, int device, pid_t owner_pid, dev_t file_device,
                   ino_t inode) {
  Table& table = GetTable();
  ImportKey key{owner_pid, file_device, inode};
  {
    MutexLock lock(&table.mutex);
    if (void* existing = RetainImportLocked(table, key)) return existing;
  }
  // Mapped outside the lock; a thread that raced us to the same file wins and ours is dropped.
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return nullptr;
  void* existing = nullptr;
  {
    MutexLock lock(&table.mutex);
    existing = RetainImportLocked(table, key);
    if (existing == nullptr) {
      Allocation allocation{p, size, AllocationKind::kIpcMapped, device};
      allocation.serial = ++table.last_serial;
      allocation.file_device = file_device;
      allocation.inode = inode;
      allocation.owner_pid = owner_pid;
      allocation.references = 1;
      table.by_base[reinterpret_cast<uintptr_t>(p)] = allocation;
      table.imports[key] = reinterpret_cast<uintptr_t>(p);
      return p;
    }
  }
  munmap(p, size);
  return existing;
}

bool ReleaseImport(void* ptr) {
  Allocation allocation;
  {
    Table& table = GetTable();
    MutexLock lock(&table.mutex);
    auto it = table.by_base.find(reinterpret_cast<uintptr_t>(ptr));
    if (it == table.by_base.end() || it->second.kind != AllocationKind::kIpcMapped) return false;
    if (--it->second.references > 0) return true;
    allocation = it->second;
    EraseLocked(table, it);
  }
  ReleaseAcquired(allocation);
  return true;
}

std::optional<Allocation> FindAllocation(const void* ptr) {
  Table& table = GetTable();
  MutexLock lock(&table.mutex);
  uintptr_t address = reinterpret_cast<uintptr_t>(ptr);
  auto it = table.by_base.upper_bound(address);
  if (it == table.by_base.begin()) return std::nullopt;
  --it;
  if (address >= it->first + it->second.size) return std::nullopt;
  return it->second;
}

size_t BytesAllocatedOn(int device) {
  Table& table = GetTable();
  MutexLock lock(&table.mutex);
  size_t total = 0;
  for (const auto& [base, allocation] : table.by_base) {
    if (allocation.device == device && (allocation.kind == AllocationKind::kDevice ||
                                        allocation.kind == AllocationKind::kManaged)) {
      total += allocation.size;
    }
  }
  return total;
}

void ReleaseDeviceAllocations(int device) {
  std::vector<Allocation> released;
  {
    Table& table = GetTable();
    MutexLock lock(&table.mutex);
    for (auto it = table.by_base.begin(); it != table.by_base.end();) {
      if (it->second.device == device && (it->second.kind == AllocationKind::kDevice ||
                                          it->second.kind == AllocationKind::kIpcMapped)) {
        released.push_back(it->second);
        it = EraseLocked(table, it);
      } else {
        ++it;
      }
    }
  }
  for (const Allocation& allocation : released) ReleaseAcquired(allocation);
}

}  // namespace ddrr::hostrt
