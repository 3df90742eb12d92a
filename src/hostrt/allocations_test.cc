// The allocation registry on its own (allocations.cc compiled in, so internals such as the
// shareable cap are reachable): which device allocations are shareable memfds, the cap, and the
// reference counting of imported mappings.
#include "hostrt/allocations.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstring>
#include <vector>

namespace ddrr::hostrt {
namespace {

bool IsOpen(int fd) { return fcntl(fd, F_GETFD) != -1; }

class AllocationsTest : public ::testing::Test {
 protected:
  void TearDown() override { SetShareableCapForTesting(0); }
};

TEST_F(AllocationsTest, LargeDeviceAllocationsAreOpenZeroedMemfds) {
  void* p = AllocateTracked(kShareableMinBytes, AllocationKind::kDevice, 3);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 256, 0u);
  std::vector<char> zeros(kShareableMinBytes, 0);
  EXPECT_EQ(memcmp(p, zeros.data(), zeros.size()), 0);
  auto allocation = FindAllocation(static_cast<char*>(p) + 100);
  ASSERT_TRUE(allocation);
  EXPECT_TRUE(allocation->shareable);
  EXPECT_EQ(allocation->base, p);
  EXPECT_EQ(allocation->device, 3);
  ASSERT_GE(allocation->fd, 0);
  EXPECT_EQ(fcntl(allocation->fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
  struct stat st;
  ASSERT_EQ(fstat(allocation->fd, &st), 0);
  EXPECT_EQ(st.st_ino, allocation->inode);
  EXPECT_EQ(st.st_dev, allocation->file_device);
  EXPECT_EQ(static_cast<size_t>(st.st_size), kShareableMinBytes);

  int fd = allocation->fd;
  ASSERT_TRUE(ReleaseTracked(p, KindBit(AllocationKind::kDevice)));
  EXPECT_FALSE(IsOpen(fd)) << "freeing closes the memfd";
}

TEST_F(AllocationsTest, SmallDeviceAndOtherKindsArePrivate) {
  void* small = AllocateTracked(kShareableMinBytes - 1, AllocationKind::kDevice, 0);
  void* pinned = AllocateTracked(size_t{1} << 20, AllocationKind::kPinnedHost, 0);
  void* managed = AllocateTracked(size_t{1} << 20, AllocationKind::kManaged, 0);
  for (void* p : {small, pinned, managed}) {
    auto allocation = FindAllocation(p);
    ASSERT_TRUE(allocation);
    EXPECT_FALSE(allocation->shareable);
    EXPECT_EQ(allocation->fd, -1);
  }
  EXPECT_TRUE(ReleaseTracked(small, KindBit(AllocationKind::kDevice)));
  EXPECT_TRUE(ReleaseTracked(pinned, KindBit(AllocationKind::kPinnedHost)));
  EXPECT_TRUE(ReleaseTracked(managed, KindBit(AllocationKind::kManaged)));
}

TEST_F(AllocationsTest, SerialNumbersGrow) {
  void* a = AllocateTracked(16, AllocationKind::kDevice, 0);
  void* b = AllocateTracked(kShareableMinBytes, AllocationKind::kDevice, 0);
  EXPECT_LT(FindAllocation(a)->serial, FindAllocation(b)->serial);
  ReleaseTracked(a, KindBit(AllocationKind::kDevice));
  ReleaseTracked(b, KindBit(AllocationKind::kDevice));
}

TEST_F(AllocationsTest, CapDefaultsFromTheDescriptorLimitAndPastItMemoryIsPrivate) {
  EXPECT_GE(ShareableCap(), 1u);
  EXPECT_LE(ShareableCap(), 256u);
  SetShareableCapForTesting(2);
  EXPECT_EQ(ShareableCap(), 2u);
  std::vector<void*> blocks;
  for (int i = 0; i < 4; ++i) {
    blocks.push_back(AllocateTracked(kShareableMinBytes, AllocationKind::kDevice, 0));
    ASSERT_NE(blocks.back(), nullptr);
    memset(blocks.back(), i + 1, kShareableMinBytes);  // private ones are just as usable
  }
  EXPECT_TRUE(FindAllocation(blocks[0])->shareable);
  EXPECT_TRUE(FindAllocation(blocks[1])->shareable);
  EXPECT_FALSE(FindAllocation(blocks[2])->shareable);
  EXPECT_FALSE(FindAllocation(blocks[3])->shareable);

  ASSERT_TRUE(ReleaseTracked(blocks[0], KindBit(AllocationKind::kDevice)));
  void* again = AllocateTracked(kShareableMinBytes, AllocationKind::kDevice, 0);
  EXPECT_TRUE(FindAllocation(again)->shareable) << "a freed slot is reused";
  blocks[0] = again;
  for (void* p : blocks) EXPECT_TRUE(ReleaseTracked(p, KindBit(AllocationKind::kDevice)));
}

TEST_F(AllocationsTest, ImportsAreReferenceCountedPerFile) {
  void* owner = AllocateTracked(kShareableMinBytes, AllocationKind::kDevice, 0);
  Allocation exported = *FindAllocation(owner);
  pid_t other_pid = 12345;  // any pid but ours: the key is (pid, device, inode)
  void* first =
      ImportShared(exported.fd, exported.size, 1, other_pid, exported.file_device, exported.inode);
  ASSERT_NE(first, nullptr);
  EXPECT_NE(first, owner);
  void* second =
      ImportShared(exported.fd, exported.size, 1, other_pid, exported.file_device, exported.inode);
  EXPECT_EQ(second, first);
  static_cast<char*>(owner)[10] = 42;
  EXPECT_EQ(static_cast<char*>(first)[10], 42) << "one set of pages";

  auto imported = FindAllocation(static_cast<char*>(first) + 5);
  ASSERT_TRUE(imported);
  EXPECT_EQ(imported->kind, AllocationKind::kIpcMapped);
  EXPECT_EQ(imported->device, 1);
  EXPECT_EQ(imported->references, 2u);
  EXPECT_FALSE(imported->shareable);
  EXPECT_FALSE(ReleaseTracked(first, ~0u)) << "cudaFree's path never frees an import";

  EXPECT_TRUE(ReleaseImport(first));
  EXPECT_TRUE(FindAllocation(first)) << "one reference left";
  EXPECT_TRUE(ReleaseImport(first));
  EXPECT_FALSE(FindAllocation(first));
  EXPECT_FALSE(ReleaseImport(first));
  EXPECT_FALSE(ReleaseImport(owner)) << "not an import";
  EXPECT_TRUE(ReleaseTracked(owner, KindBit(AllocationKind::kDevice)));
}

TEST_F(AllocationsTest, DeviceResetReleasesSharedMemoryAndImports) {
  void* owner = AllocateTracked(kShareableMinBytes, AllocationKind::kDevice, 6);
  Allocation exported = *FindAllocation(owner);
  void* import =
      ImportShared(exported.fd, exported.size, 7, 54321, exported.file_device, exported.inode);
  ASSERT_NE(import, nullptr);
  ReleaseDeviceAllocations(6);
  EXPECT_FALSE(FindAllocation(owner));
  EXPECT_FALSE(IsOpen(exported.fd));
  EXPECT_TRUE(FindAllocation(import)) << "the import belongs to device 7";
  ReleaseDeviceAllocations(7);
  EXPECT_FALSE(FindAllocation(import));
  EXPECT_FALSE(ReleaseImport(import));
}

}  // namespace
}  // namespace ddrr::hostrt
