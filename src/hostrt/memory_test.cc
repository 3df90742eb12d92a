// Allocation, pointer attributes, address ranges and copies (host libcudart, linked directly).
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "hostrt/ddrr_extensions.h"

extern "C" void __cudaRegisterVar(void** handle, char* host_var, char* device_address,
                                  const char* device_name, int ext, size_t size, int constant,
                                  int global);

namespace {

TEST(HostRtMemoryTest, MallocGivesZeroedAlignedMemory) {
  for (size_t size : {size_t{1}, size_t{1000}, size_t{3} << 20}) {
    void* p = nullptr;
    ASSERT_EQ(cudaMalloc(&p, size), cudaSuccess);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 256, 0u);
    std::vector<char> zeros(size, 0);
    EXPECT_EQ(memcmp(p, zeros.data(), size), 0);
    EXPECT_EQ(cudaFree(p), cudaSuccess);
  }
  void* p = reinterpret_cast<void*>(1);
  EXPECT_EQ(cudaMalloc(&p, 0), cudaSuccess);
  EXPECT_EQ(p, nullptr);
  EXPECT_EQ(cudaFree(nullptr), cudaSuccess);
}

TEST(HostRtMemoryTest, CopiesEveryKindBetweenAnyPointers) {
  int host_src[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  int host_dst[8] = {};
  int* device = nullptr;
  int* pinned = nullptr;
  ASSERT_EQ(cudaMalloc(&device, sizeof(host_src)), cudaSuccess);
  ASSERT_EQ(cudaMallocHost(&pinned, sizeof(host_src)), cudaSuccess);
  for (cudaMemcpyKind kind : {cudaMemcpyHostToHost, cudaMemcpyHostToDevice, cudaMemcpyDeviceToHost,
                              cudaMemcpyDeviceToDevice, cudaMemcpyDefault}) {
    memset(host_dst, 0, sizeof(host_dst));
    ASSERT_EQ(cudaMemcpy(device, host_src, sizeof(host_src), kind), cudaSuccess);
    ASSERT_EQ(cudaMemcpyAsync(pinned, device, sizeof(host_src), kind, nullptr), cudaSuccess);
    ASSERT_EQ(cudaMemcpy(host_dst, pinned, sizeof(host_src), kind), cudaSuccess);
    EXPECT_EQ(memcmp(host_src, host_dst, sizeof(host_src)), 0) << "kind " << kind;
  }
  EXPECT_EQ(cudaMemcpyPeer(host_dst, 1, device, 0, sizeof(host_src)), cudaSuccess);
  EXPECT_EQ(cudaMemcpyPeerAsync(host_dst, 1, device, 99, 4, nullptr), cudaErrorInvalidDevice);
  EXPECT_EQ(cudaFreeHost(pinned), cudaSuccess);
  EXPECT_EQ(cudaFree(device), cudaSuccess);
  cudaGetLastError();
}

TEST(HostRtMemoryTest, RejectsBadCopies) {
  int a = 1, b = 2;
  EXPECT_EQ(cudaMemcpy(&a, &b, sizeof(a), static_cast<cudaMemcpyKind>(9)),
            cudaErrorInvalidMemcpyDirection);
  EXPECT_EQ(cudaMemcpy(nullptr, &b, sizeof(a), cudaMemcpyDefault), cudaErrorInvalidValue);
  EXPECT_EQ(cudaMemcpy(nullptr, nullptr, 0, cudaMemcpyDefault), cudaSuccess);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
}

TEST(HostRtMemoryTest, MemsetAnd2DCopies) {
  unsigned char* device = nullptr;
  size_t pitch = 0;
  ASSERT_EQ(cudaMallocPitch(reinterpret_cast<void**>(&device), &pitch, 10, 3), cudaSuccess);
  EXPECT_GE(pitch, 10u);
  ASSERT_EQ(cudaMemset(device, 0xab, pitch * 3), cudaSuccess);
  EXPECT_EQ(device[pitch * 3 - 1], 0xab);
  ASSERT_EQ(cudaMemset2DAsync(device, pitch, 1, 4, 3, nullptr), cudaSuccess);
  EXPECT_EQ(device[pitch * 2 + 3], 1);
  EXPECT_EQ(device[pitch * 2 + 4], 0xab);

  unsigned char host[3][10];
  for (int row = 0; row < 3; ++row) memset(host[row], row + 10, 10);
  ASSERT_EQ(cudaMemcpy2D(device, pitch, host, 10, 10, 3, cudaMemcpyHostToDevice), cudaSuccess);
  EXPECT_EQ(device[pitch * 2 + 9], 12);
  unsigned char back[3][10] = {};
  ASSERT_EQ(cudaMemcpy2DAsync(back, 10, device, pitch, 10, 3, cudaMemcpyDeviceToHost, nullptr),
            cudaSuccess);
  EXPECT_EQ(memcmp(back, host, sizeof(host)), 0);
  EXPECT_EQ(cudaMemcpy2D(back, 5, device, pitch, 10, 3, cudaMemcpyDefault),
            cudaErrorInvalidPitchValue);
  cudaGetLastError();
  EXPECT_EQ(cudaFree(device), cudaSuccess);
}

TEST(HostRtMemoryTest, PointerAttributesReportKindAndDevice) {
  ASSERT_EQ(cudaSetDevice(2), cudaSuccess);
  char* device = nullptr;
  char* pinned = nullptr;
  char* managed = nullptr;
  ASSERT_EQ(cudaMalloc(&device, 4096), cudaSuccess);
  ASSERT_EQ(cudaHostAlloc(&pinned, 64, cudaHostAllocMapped), cudaSuccess);
  ASSERT_EQ(cudaMallocManaged(&managed, 64, cudaMemAttachGlobal), cudaSuccess);
  ASSERT_EQ(cudaSetDevice(0), cudaSuccess);

  cudaPointerAttributes attributes;
  ASSERT_EQ(cudaPointerGetAttributes(&attributes, device + 100), cudaSuccess);
  EXPECT_EQ(attributes.type, cudaMemoryTypeDevice);
  EXPECT_EQ(attributes.device, 2);
  EXPECT_EQ(attributes.devicePointer, device + 100);
  EXPECT_EQ(attributes.hostPointer, nullptr);

  ASSERT_EQ(cudaPointerGetAttributes(&attributes, pinned), cudaSuccess);
  EXPECT_EQ(attributes.type, cudaMemoryTypeHost);
  EXPECT_EQ(attributes.hostPointer, pinned);

  ASSERT_EQ(cudaPointerGetAttributes(&attributes, managed), cudaSuccess);
  EXPECT_EQ(attributes.type, cudaMemoryTypeManaged);

  int on_stack = 0;
  ASSERT_EQ(cudaPointerGetAttributes(&attributes, &on_stack), cudaSuccess);
  EXPECT_EQ(attributes.type, cudaMemoryTypeUnregistered);
  ASSERT_EQ(cudaPointerGetAttributes(&attributes, device + 4096), cudaSuccess);
  EXPECT_EQ(attributes.type, cudaMemoryTypeUnregistered) << "one past the end is not inside";

  EXPECT_EQ(cudaFree(pinned), cudaErrorInvalidValue) << "pinned memory is freed by cudaFreeHost";
  EXPECT_EQ(cudaFree(device + 1), cudaErrorInvalidValue);
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidValue);
  EXPECT_EQ(cudaFree(device), cudaSuccess);
  EXPECT_EQ(cudaFree(managed), cudaSuccess);
  EXPECT_EQ(cudaFreeHost(pinned), cudaSuccess);
}

TEST(HostRtMemoryTest, MemGetInfoCountsDeviceAllocations) {
  ASSERT_EQ(cudaSetDevice(5), cudaSuccess);
  size_t free_before = 0, total = 0, free_after = 0;
  ASSERT_EQ(cudaMemGetInfo(&free_before, &total), cudaSuccess);
  EXPECT_GT(total, 0u);
  void* p = nullptr;
  ASSERT_EQ(cudaMalloc(&p, 1 << 20), cudaSuccess);
  ASSERT_EQ(cudaMemGetInfo(&free_after, &total), cudaSuccess);
  EXPECT_EQ(free_before - free_after, size_t{1} << 20);
  EXPECT_EQ(cudaFree(p), cudaSuccess);
  ASSERT_EQ(cudaSetDevice(0), cudaSuccess);
}

TEST(HostRtMemoryTest, StreamOrderedAllocation) {
  cudaStream_t stream;
  ASSERT_EQ(cudaStreamCreate(&stream), cudaSuccess);
  void* p = nullptr;
  ASSERT_EQ(cudaMallocAsync(&p, 128, stream), cudaSuccess);
  ASSERT_EQ(cudaMemsetAsync(p, 3, 128, stream), cudaSuccess);
  EXPECT_EQ(static_cast<char*>(p)[127], 3);
  EXPECT_EQ(cudaFreeAsync(p, stream), cudaSuccess);
  EXPECT_EQ(cudaFreeAsync(p, stream), cudaErrorInvalidValue) << "double free is caught";
  cudaGetLastError();
  EXPECT_EQ(cudaStreamDestroy(stream), cudaSuccess);
}

TEST(HostRtMemoryTest, HostRegisterMakesMemoryPinned) {
  std::vector<char> buffer(256);
  ASSERT_EQ(cudaHostRegister(buffer.data(), buffer.size(), cudaHostRegisterDefault), cudaSuccess);
  cudaPointerAttributes attributes;
  ASSERT_EQ(cudaPointerGetAttributes(&attributes, buffer.data() + 10), cudaSuccess);
  EXPECT_EQ(attributes.type, cudaMemoryTypeHost);
  void* device_view = nullptr;
  EXPECT_EQ(cudaHostGetDevicePointer(&device_view, buffer.data(), 0), cudaSuccess);
  EXPECT_EQ(device_view, buffer.data());
  EXPECT_EQ(cudaHostRegister(buffer.data(), 8, 0), cudaErrorHostMemoryAlreadyRegistered);
  EXPECT_EQ(cudaHostUnregister(buffer.data()), cudaSuccess);
  EXPECT_EQ(cudaHostUnregister(buffer.data()), cudaErrorHostMemoryNotRegistered);
  cudaGetLastError();
}

TEST(HostRtMemoryTest, DeviceVariablesLiveInTheirHostShadow) {
  static int shadow[4];
  __cudaRegisterVar(nullptr, reinterpret_cast<char*>(shadow), nullptr, "shadow", 0, sizeof(shadow),
                    0, 0);
  int values[2] = {5, 6};
  ASSERT_EQ(cudaMemcpyToSymbol(shadow, values, sizeof(values), sizeof(int)), cudaSuccess);
  EXPECT_EQ(shadow[1], 5);
  EXPECT_EQ(shadow[2], 6);
  int back = 0;
  ASSERT_EQ(cudaMemcpyFromSymbol(&back, shadow, sizeof(int), 2 * sizeof(int)), cudaSuccess);
  EXPECT_EQ(back, 6);
  size_t size = 0;
  EXPECT_EQ(cudaGetSymbolSize(&size, shadow), cudaSuccess);
  EXPECT_EQ(size, sizeof(shadow));
  EXPECT_EQ(cudaMemcpyToSymbol(shadow, values, sizeof(values), 3 * sizeof(int)),
            cudaErrorInvalidValue);
  static int unregistered;
  EXPECT_EQ(cudaMemcpyToSymbol(&unregistered, values, sizeof(int)), cudaErrorInvalidSymbol);
  cudaGetLastError();
}

TEST(HostRtMemoryTest, AddressRangeOfEveryKindLeavesTheLastErrorAlone) {
  constexpr size_t kSize = size_t{1} << 20;
  char* device = nullptr;
  char* small = nullptr;
  char* pinned = nullptr;
  char* managed = nullptr;
  ASSERT_EQ(cudaMalloc(&device, kSize), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&small, 100), cudaSuccess);
  ASSERT_EQ(cudaHostAlloc(&pinned, 5000, cudaHostAllocDefault), cudaSuccess);
  ASSERT_EQ(cudaMallocManaged(&managed, 300, cudaMemAttachGlobal), cudaSuccess);
  std::vector<char> registered(777);
  ASSERT_EQ(cudaHostRegister(registered.data(), registered.size(), 0), cudaSuccess);

  struct Case {
    const char* ptr;
    const void* base;
    size_t size;
  };
  for (const Case& c :
       {Case{device + 4097, device, kSize}, Case{device, device, kSize},
        Case{small + 99, small, 100}, Case{pinned + 4999, pinned, 5000},
        Case{managed + 1, managed, 300}, Case{registered.data() + 776, registered.data(), 777}}) {
    void* base = nullptr;
    size_t size = 0;
    ASSERT_EQ(ddrrHostMemGetAddressRange(&base, &size, c.ptr), cudaSuccess);
    EXPECT_EQ(base, c.base);
    EXPECT_EQ(size, c.size);
  }
  void* base = nullptr;
  size_t size = 0;
  EXPECT_EQ(ddrrHostMemGetAddressRange(nullptr, &size, device + 1), cudaSuccess);
  EXPECT_EQ(size, kSize);
  EXPECT_EQ(ddrrHostMemGetAddressRange(&base, nullptr, device + 1), cudaSuccess);
  EXPECT_EQ(base, device);

  ASSERT_EQ(cudaGetLastError(), cudaSuccess);
  int on_stack = 0;
  base = &on_stack;
  EXPECT_EQ(ddrrHostMemGetAddressRange(&base, &size, &on_stack), cudaErrorInvalidValue);
  EXPECT_EQ(base, &on_stack) << "nothing stored";
  EXPECT_EQ(ddrrHostMemGetAddressRange(&base, &size, device + kSize), cudaErrorInvalidValue);
  EXPECT_EQ(ddrrHostMemGetAddressRange(&base, &size, nullptr), cudaErrorInvalidValue);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess) << "probing leaves the last error alone";

  EXPECT_EQ(cudaHostUnregister(registered.data()), cudaSuccess);
  EXPECT_EQ(cudaFreeHost(pinned), cudaSuccess);
  EXPECT_EQ(cudaFree(managed), cudaSuccess);
  EXPECT_EQ(cudaFree(small), cudaSuccess);
  EXPECT_EQ(cudaFree(device), cudaSuccess);
}

}  // namespace
