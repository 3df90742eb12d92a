#include "hostrt/allocations.h"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>

namespace ddrr::hostrt {
namespace {

constexpr size_t kAlignment = 256;
// From this size on, memory comes from mmap: zero pages cost nothing until touched, which
// matters for programs that reserve large pools up front (caching allocators).
constexpr size_t kMmapThreshold = size_t{1} << 20;

struct Table {
  std::mutex mutex;
  std::map<uintptr_t, Allocation> by_base;  // ordered: FindAllocation looks up the predecessor
};

Table& GetTable() {
  static Table* table = new Table();  // never destroyed: frees may run during exit
  return *table;
}

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

void ReleaseAcquired(void* p, size_t size) {
  if (size >= kMmapThreshold) {
    munmap(p, size);
  } else {
    free(p);
  }
}

}  // namespace

void* AllocateTracked(size_t size, AllocationKind kind, int device) {
  if (size == 0) return nullptr;
  void* p = AcquireZeroed(size);
  if (p == nullptr) return nullptr;
  Table& table = GetTable();
  std::lock_guard<std::mutex> lock(table.mutex);
  table.by_base[reinterpret_cast<uintptr_t>(p)] = Allocation{p, size, kind, device};
  return p;
}

bool ReleaseTracked(void* ptr, unsigned kinds) {
  Allocation allocation;
  {
    Table& table = GetTable();
    std::lock_guard<std::mutex> lock(table.mutex);
    auto it = table.by_base.find(reinterpret_cast<uintptr_t>(ptr));
    if (it == table.by_base.end() || (KindBit(it->second.kind) & kinds) == 0 ||
        it->second.kind == AllocationKind::kRegistered) {
      return false;
    }
    allocation = it->second;
    table.by_base.erase(it);
  }
  ReleaseAcquired(allocation.base, allocation.size);
  return true;
}

bool RegisterExternal(void* base, size_t size, int device) {
  Table& table = GetTable();
  std::lock_guard<std::mutex> lock(table.mutex);
  uintptr_t begin = reinterpret_cast<uintptr_t>(base);
  auto next = table.by_base.lower_bound(begin);
  if (next != table.by_base.end() && next->first < begin + size) return false;
  if (next != table.by_base.begin()) {
    const Allocation& prev = std::prev(next)->second;
    if (reinterpret_cast<uintptr_t>(prev.base) + prev.size > begin) return false;
  }
  table.by_base[begin] = Allocation{base, size, AllocationKind::kRegistered, device};
  return true;
}

bool UnregisterExternal(void* base) {
  Table& table = GetTable();
  std::lock_guard<std::mutex> lock(table.mutex);
  auto it = table.by_base.find(reinterpret_cast<uintptr_t>(base));
  if (it == table.by_base.end() || it->second.kind != AllocationKind::kRegistered) return false;
  table.by_base.erase(it);
  return true;
}

std::optional<Allocation> FindAllocation(const void* ptr) {
  Table& table = GetTable();
  std::lock_guard<std::mutex> lock(table.mutex);
  uintptr_t address = reinterpret_cast<uintptr_t>(ptr);
  auto it = table.by_base.upper_bound(address);
  if (it == table.by_base.begin()) return std::nullopt;
  --it;
  if (address >= it->first + it->second.size) return std::nullopt;
  return it->second;
}

size_t BytesAllocatedOn(int device) {
  Table& table = GetTable();
  std::lock_guard<std::mutex> lock(table.mutex);
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
    std::lock_guard<std::mutex> lock(table.mutex);
    for (auto it = table.by_base.begin(); it != table.by_base.end();) {
      if (it->second.device == device && it->second.kind == AllocationKind::kDevice) {
        released.push_back(it->second);
        it = table.by_base.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (const Allocation& allocation : released) ReleaseAcquired(allocation.base, allocation.size);
}

}  // namespace ddrr::hostrt
