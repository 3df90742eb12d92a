// CUDA IPC memory handles between processes on the host runtime (ipc.cc). The other processes
// are forked children (which open the parent's handles through their own mappings) and an
// exec'd peer program (testdata/ipc_peer.cc).
#include <cuda_runtime.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "hostrt/ddrr_extensions.h"

namespace {

constexpr size_t kMiB = size_t{1} << 20;
constexpr size_t kShareableMinBytes = size_t{64} << 10;  // the documented threshold

void FillPattern(unsigned char* p, size_t size) {
  for (size_t i = 0; i < size; ++i) p[i] = static_cast<unsigned char>(i % 251);
}

bool HasPattern(const unsigned char* p, size_t size) {
  for (size_t i = 0; i < size; ++i) {
    if (p[i] != static_cast<unsigned char>(i % 251)) return false;
  }
  return true;
}

bool SameHandle(const cudaIpcMemHandle_t& a, const cudaIpcMemHandle_t& b) {
  return memcmp(&a, &b, sizeof(a)) == 0;
}

// Runs `body` in a forked child and returns what it wrote back: by convention "" when all its
// checks passed, else the failed check. gtest assertions would not reach the parent from there.
std::string RunInChild(const std::function<std::string()>& body) {
  int fds[2];
  if (pipe(fds) != 0) return "pipe failed";
  fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) return "fork failed";
  if (pid == 0) {
    close(fds[0]);
    std::string report = body();
    ssize_t written = write(fds[1], report.data(), report.size());
    _exit(written == static_cast<ssize_t>(report.size()) ? 0 : 1);
  }
  close(fds[1]);
  std::string report;
  char buffer[256];
  ssize_t n;
  while ((n = read(fds[0], buffer, sizeof(buffer))) > 0) report.append(buffer, n);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    report += " (child ended with status " + std::to_string(status) + ")";
  }
  return report;
}

#define CHILD_CHECK(condition)                                                     \
  do {                                                                             \
    if (!(condition)) return "line " + std::to_string(__LINE__) + ": " #condition; \
  } while (0)

size_t OpenDescriptors() {
  size_t count = 0;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  while (dirent* entry = readdir(dir)) count += entry->d_name[0] != '.';
  closedir(dir);
  return count;
}

// A MiB of device memory filled with the pattern, and its IPC handle; freed at the end.
class HostRtIpcHandleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(cudaMalloc(&device, kMiB), cudaSuccess);
    FillPattern(device, kMiB);
    ASSERT_EQ(cudaIpcGetMemHandle(&handle, device), cudaSuccess);
  }
  void TearDown() override { EXPECT_EQ(cudaFree(device), cudaSuccess); }

  unsigned char* device = nullptr;
  cudaIpcMemHandle_t handle{};
};

TEST_F(HostRtIpcHandleTest, ForkedChildOpensTheParentsMemory) {
  static const char kReply[] = "reply from the child";

  std::string report = RunInChild([&]() -> std::string {
    CHILD_CHECK(cudaSetDevice(1) == cudaSuccess);
    unsigned char* mapped = nullptr;
    CHILD_CHECK(cudaIpcOpenMemHandle(reinterpret_cast<void**>(&mapped), handle,
                                     cudaIpcMemLazyEnablePeerAccess) == cudaSuccess);
    // Its own mapping: the inherited one at `device` is never touched here.
    CHILD_CHECK(mapped != nullptr && mapped != device);
    CHILD_CHECK(HasPattern(mapped, kMiB));

    cudaPointerAttributes attributes;
    CHILD_CHECK(cudaPointerGetAttributes(&attributes, mapped + 77) == cudaSuccess);
    CHILD_CHECK(attributes.type == cudaMemoryTypeDevice);
    CHILD_CHECK(attributes.device == 1);
    CHILD_CHECK(attributes.devicePointer == mapped + 77);
    void* base = nullptr;
    size_t size = 0;
    CHILD_CHECK(ddrrHostMemGetAddressRange(&base, &size, mapped + kMiB - 1) == cudaSuccess);
    CHILD_CHECK(base == mapped && size == kMiB);

    void* again = nullptr;
    CHILD_CHECK(cudaIpcOpenMemHandle(&again, handle, cudaIpcMemLazyEnablePeerAccess) ==
                cudaSuccess);
    CHILD_CHECK(again == mapped);  // reference counted: the same pointer
    CHILD_CHECK(cudaMemcpy(mapped + 1000, kReply, sizeof(kReply), cudaMemcpyHostToDevice) ==
                cudaSuccess);
    CHILD_CHECK(cudaFree(mapped) == cudaErrorInvalidValue);
    CHILD_CHECK(cudaIpcGetMemHandle(&handle, mapped) == cudaErrorInvalidValue);
    CHILD_CHECK(cudaIpcCloseMemHandle(mapped + 1) == cudaErrorInvalidValue);
    CHILD_CHECK(cudaIpcCloseMemHandle(mapped) == cudaSuccess);
    CHILD_CHECK(mapped[5] == 5);  // still mapped: one reference left
    CHILD_CHECK(cudaIpcCloseMemHandle(mapped) == cudaSuccess);
    CHILD_CHECK(cudaIpcCloseMemHandle(mapped) == cudaErrorInvalidValue);

    // cudaDeviceReset unmaps what was opened on that device.
    CHILD_CHECK(cudaIpcOpenMemHandle(reinterpret_cast<void**>(&mapped), handle,
                                     cudaIpcMemLazyEnablePeerAccess) == cudaSuccess);
    CHILD_CHECK(cudaDeviceReset() == cudaSuccess);
    CHILD_CHECK(ddrrHostMemGetAddressRange(&base, &size, mapped) == cudaErrorInvalidValue);
    CHILD_CHECK(cudaIpcCloseMemHandle(mapped) == cudaErrorInvalidValue);
    return "";
  });
  EXPECT_EQ(report, "");
  EXPECT_STREQ(reinterpret_cast<char*>(device + 1000), kReply);
  EXPECT_EQ(device[999], 999 % 251);
}

TEST_F(HostRtIpcHandleTest, ExecedPeerOpensTheParentsMemory) {
  std::string hex;
  for (char byte : handle.reserved) {
    char digits[3];
    snprintf(digits, sizeof(digits), "%02x", static_cast<unsigned char>(byte));
    hex += digits;
  }
  std::string command =
      std::string(DDRR_HOSTRT_IPC_PEER) + " " + hex + " " + std::to_string(kMiB) + " 90 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[256];
  size_t n;
  while ((n = fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, n);
  EXPECT_EQ(pclose(pipe), 0) << output;
  EXPECT_EQ(output, "peer ok\n");
  EXPECT_EQ(device[0], 90);
  EXPECT_EQ(device[4095], 90);
  EXPECT_EQ(device[4096], 4096 % 251);
}

TEST_F(HostRtIpcHandleTest, OpeningOwnHandleFailsAsOnAGpu) {
  void* mapped = nullptr;
  EXPECT_EQ(cudaIpcOpenMemHandle(&mapped, handle, cudaIpcMemLazyEnablePeerAccess),
            cudaErrorDeviceUninitialized);
  EXPECT_EQ(mapped, nullptr);
  EXPECT_EQ(cudaGetLastError(), cudaErrorDeviceUninitialized);
}

TEST(HostRtIpcTest, InteriorPointerGivesTheWholeAllocationsHandle) {
  char* a = nullptr;
  char* b = nullptr;
  ASSERT_EQ(cudaMalloc(&a, kMiB), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&b, kMiB), cudaSuccess);
  cudaIpcMemHandle_t at_base, inside, at_end, of_b;
  ASSERT_EQ(cudaIpcGetMemHandle(&at_base, a), cudaSuccess);
  ASSERT_EQ(cudaIpcGetMemHandle(&inside, a + 12345), cudaSuccess);
  ASSERT_EQ(cudaIpcGetMemHandle(&at_end, a + kMiB - 1), cudaSuccess);
  ASSERT_EQ(cudaIpcGetMemHandle(&of_b, b), cudaSuccess);
  EXPECT_TRUE(SameHandle(at_base, inside));
  EXPECT_TRUE(SameHandle(at_base, at_end));
  EXPECT_FALSE(SameHandle(at_base, of_b));
  EXPECT_EQ(cudaFree(a), cudaSuccess);
  EXPECT_EQ(cudaFree(b), cudaSuccess);
}

TEST(HostRtIpcTest, HandleOfFreedMemoryIsStale) {
  void* old_memory = nullptr;
  ASSERT_EQ(cudaMalloc(&old_memory, kMiB), cudaSuccess);
  cudaIpcMemHandle_t stale;
  ASSERT_EQ(cudaIpcGetMemHandle(&stale, old_memory), cudaSuccess);
  ASSERT_EQ(cudaFree(old_memory), cudaSuccess);
  EXPECT_EQ(cudaIpcGetMemHandle(&stale, old_memory), cudaErrorInvalidValue) << "freed";
  // A new allocation of the same size most likely gets the same descriptor number (and maybe
  // address): its handle differs, and the old one must not open it.
  void* new_memory = nullptr;
  ASSERT_EQ(cudaMalloc(&new_memory, kMiB), cudaSuccess);
  cudaIpcMemHandle_t fresh;
  ASSERT_EQ(cudaIpcGetMemHandle(&fresh, new_memory), cudaSuccess);
  EXPECT_FALSE(SameHandle(stale, fresh));

  std::string report = RunInChild([&]() -> std::string {
    void* mapped = nullptr;
    CHILD_CHECK(cudaIpcOpenMemHandle(&mapped, stale, cudaIpcMemLazyEnablePeerAccess) ==
                cudaErrorInvalidResourceHandle);
    CHILD_CHECK(cudaIpcOpenMemHandle(&mapped, fresh, cudaIpcMemLazyEnablePeerAccess) ==
                cudaSuccess);
    CHILD_CHECK(cudaIpcCloseMemHandle(mapped) == cudaSuccess);
    return "";
  });
  EXPECT_EQ(report, "");
  EXPECT_EQ(cudaFree(new_memory), cudaSuccess);
}

TEST(HostRtIpcTest, HandleOfAnExitedProcessIsStale) {
  // The child's only output is its handle.
  std::string bytes = RunInChild([]() -> std::string {
    void* device = nullptr;
    cudaIpcMemHandle_t handle{};
    if (cudaMalloc(&device, kMiB) != cudaSuccess) return "malloc failed";
    if (cudaIpcGetMemHandle(&handle, device) != cudaSuccess) return "get failed";
    return std::string(handle.reserved, sizeof(handle.reserved));
  });
  ASSERT_EQ(bytes.size(), sizeof(cudaIpcMemHandle_t)) << bytes;
  cudaIpcMemHandle_t handle;
  memcpy(handle.reserved, bytes.data(), sizeof(handle.reserved));
  void* mapped = nullptr;
  EXPECT_EQ(cudaIpcOpenMemHandle(&mapped, handle, cudaIpcMemLazyEnablePeerAccess),
            cudaErrorInvalidResourceHandle);
  cudaGetLastError();
}

TEST(HostRtIpcTest, OnlyDeviceAllocationsFrom64KiBHaveHandles) {
  cudaIpcMemHandle_t handle;
  char* small = nullptr;
  char* threshold = nullptr;
  void* async = nullptr;
  void* pitched = nullptr;
  size_t pitch = 0;
  void* pinned = nullptr;
  void* managed = nullptr;
  ASSERT_EQ(cudaMalloc(&small, kShareableMinBytes - 1), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&threshold, kShareableMinBytes), cudaSuccess);
  ASSERT_EQ(cudaMallocAsync(&async, kMiB, nullptr), cudaSuccess);
  ASSERT_EQ(cudaMallocPitch(&pitched, &pitch, 1024, 128), cudaSuccess);
  ASSERT_EQ(cudaMallocHost(&pinned, kMiB), cudaSuccess);
  ASSERT_EQ(cudaMallocManaged(&managed, kMiB, cudaMemAttachGlobal), cudaSuccess);
  std::vector<char> registered(kMiB);
  ASSERT_EQ(cudaHostRegister(registered.data(), registered.size(), 0), cudaSuccess);

  EXPECT_EQ(cudaIpcGetMemHandle(&handle, small), cudaErrorInvalidValue) << "under 64 KiB";
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  EXPECT_EQ(cudaIpcGetMemHandle(&handle, threshold), cudaSuccess);
  EXPECT_EQ(cudaIpcGetMemHandle(&handle, async), cudaSuccess);
  EXPECT_EQ(cudaIpcGetMemHandle(&handle, pitched), cudaSuccess);
  EXPECT_EQ(cudaIpcGetMemHandle(&handle, pinned), cudaErrorInvalidValue);
  EXPECT_EQ(cudaIpcGetMemHandle(&handle, managed), cudaErrorInvalidValue);
  EXPECT_EQ(cudaIpcGetMemHandle(&handle, registered.data()), cudaErrorInvalidValue);
  int on_stack = 0;
  EXPECT_EQ(cudaIpcGetMemHandle(&handle, &on_stack), cudaErrorInvalidValue);
  EXPECT_EQ(cudaIpcGetMemHandle(&handle, threshold + kShareableMinBytes), cudaErrorInvalidValue)
      << "one past the end";
  EXPECT_EQ(cudaIpcGetMemHandle(&handle, nullptr), cudaErrorInvalidValue);
  EXPECT_EQ(cudaIpcGetMemHandle(nullptr, threshold), cudaErrorInvalidValue);
  cudaGetLastError();

  EXPECT_EQ(cudaHostUnregister(registered.data()), cudaSuccess);
  EXPECT_EQ(cudaFreeHost(pinned), cudaSuccess);
  for (void* p :
       {static_cast<void*>(small), static_cast<void*>(threshold), async, pitched, managed}) {
    EXPECT_EQ(cudaFree(p), cudaSuccess);
  }
}

TEST_F(HostRtIpcHandleTest, OpenAndCloseRejectBadArguments) {
  void* mapped = nullptr;
  EXPECT_EQ(cudaIpcOpenMemHandle(nullptr, handle, cudaIpcMemLazyEnablePeerAccess),
            cudaErrorInvalidValue);
  EXPECT_EQ(cudaIpcOpenMemHandle(&mapped, handle, 0), cudaErrorInvalidValue);
  EXPECT_EQ(cudaIpcOpenMemHandle(&mapped, handle, 3), cudaErrorInvalidValue);
  cudaIpcMemHandle_t garbage{};
  EXPECT_EQ(cudaIpcOpenMemHandle(&mapped, garbage, cudaIpcMemLazyEnablePeerAccess),
            cudaErrorInvalidResourceHandle);
  memset(garbage.reserved, 0x5a, sizeof(garbage.reserved));
  EXPECT_EQ(cudaIpcOpenMemHandle(&mapped, garbage, cudaIpcMemLazyEnablePeerAccess),
            cudaErrorInvalidResourceHandle);
  EXPECT_EQ(mapped, nullptr);

  int on_stack = 0;
  EXPECT_EQ(cudaIpcCloseMemHandle(nullptr), cudaErrorInvalidValue);
  EXPECT_EQ(cudaIpcCloseMemHandle(&on_stack), cudaErrorInvalidValue);
  EXPECT_EQ(cudaIpcCloseMemHandle(device), cudaErrorInvalidValue) << "not from an open";
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
}

TEST(HostRtIpcTest, DescriptorLimitCapsShareableAllocations) {
  rlimit saved;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &saved), 0);
  ASSERT_GE(saved.rlim_cur, 64u);
  ASSERT_LT(OpenDescriptors(), 40u) << "the lowered limit below must leave room";
  rlimit lowered = saved;
  lowered.rlim_cur = 64;  // cap: 64 / 4 = 16 shareable allocations
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lowered), 0);
  struct Restore {
    rlimit limit;
    ~Restore() { setrlimit(RLIMIT_NOFILE, &limit); }
  } restore{saved};

  std::vector<unsigned char*> blocks(20);
  size_t shareable = 0;
  cudaIpcMemHandle_t handle;
  for (size_t i = 0; i < blocks.size(); ++i) {
    ASSERT_EQ(cudaMalloc(&blocks[i], kShareableMinBytes), cudaSuccess) << i;
    blocks[i][kShareableMinBytes - 1] = 7;  // usable either way
    cudaError_t error = cudaIpcGetMemHandle(&handle, blocks[i]);
    EXPECT_TRUE(error == cudaSuccess || error == cudaErrorInvalidValue);
    if (error == cudaSuccess) ++shareable;
    EXPECT_EQ(error == cudaSuccess, i < 16) << i;
  }
  EXPECT_EQ(shareable, 16u);
  cudaGetLastError();
  // Freeing a shareable allocation makes room for one more.
  ASSERT_EQ(cudaFree(blocks[0]), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&blocks[0], kMiB), cudaSuccess);
  EXPECT_EQ(cudaIpcGetMemHandle(&handle, blocks[0]), cudaSuccess);
  for (unsigned char* p : blocks) EXPECT_EQ(cudaFree(p), cudaSuccess);
}

TEST(HostRtIpcTest, FreeAndDeviceResetCloseTheDescriptors) {
  size_t before = OpenDescriptors();
  void* a = nullptr;
  void* b = nullptr;
  ASSERT_EQ(cudaSetDevice(4), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&a, kMiB), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&b, kMiB), cudaSuccess);
  EXPECT_EQ(OpenDescriptors(), before + 2);
  ASSERT_EQ(cudaFree(a), cudaSuccess);
  EXPECT_EQ(OpenDescriptors(), before + 1);
  ASSERT_EQ(cudaDeviceReset(), cudaSuccess);
  EXPECT_EQ(OpenDescriptors(), before);
  ASSERT_EQ(cudaSetDevice(0), cudaSuccess);
}

TEST(HostRtIpcTest, ForkedChildSharesShareableAllocationsButCopiesSmallOnes) {
  char* shared = nullptr;
  char* small = nullptr;
  ASSERT_EQ(cudaMalloc(&shared, kMiB), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&small, 1024), cudaSuccess);
  std::string report = RunInChild([&]() -> std::string {
    shared[10] = 1;
    small[10] = 1;
    return "";
  });
  EXPECT_EQ(report, "");
  EXPECT_EQ(shared[10], 1) << "MAP_SHARED: the child wrote the parent's memory";
  EXPECT_EQ(small[10], 0) << "private memory: the child wrote its copy";
  EXPECT_EQ(cudaFree(shared), cudaSuccess);
  EXPECT_EQ(cudaFree(small), cudaSuccess);
}

}  // namespace
