// Kernel launches fail cleanly on the host libcudart; nvcc's registration calls are accepted.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

extern "C" {
void** __cudaRegisterFatBinary(void* fat_cubin);
void __cudaRegisterFunction(void** handle, const char* host_fun, char* device_fun,
                            const char* device_name, int thread_limit, uint3* tid, uint3* bid,
                            dim3* block_dim, dim3* grid_dim, int* warp_size);
void __cudaUnregisterFatBinary(void** handle);
unsigned __cudaPushCallConfiguration(dim3 grid, dim3 block, size_t shared_mem, cudaStream_t stream);
cudaError_t __cudaPopCallConfiguration(dim3* grid, dim3* block, size_t* shared_mem, void* stream);
cudaError_t __cudaGetKernel(cudaKernel_t* kernel, const void* host_stub);
cudaError_t __cudaLaunchKernel(cudaKernel_t kernel, dim3 grid, dim3 block, void** args,
                               size_t shared_mem, cudaStream_t stream);
}

namespace {

void FakeKernelStub() {}

TEST(HostRtLaunchTest, EveryLaunchPathReturnsNoKernelImage) {
  cudaGetLastError();
  void** module = __cudaRegisterFatBinary(nullptr);
  __cudaRegisterFunction(module, reinterpret_cast<const char*>(&FakeKernelStub), nullptr,
                         "_Z14FakeKernelStubv", -1, nullptr, nullptr, nullptr, nullptr, nullptr);
  cudaKernel_t kernel = nullptr;
  ASSERT_EQ(__cudaGetKernel(&kernel, reinterpret_cast<const void*>(&FakeKernelStub)), cudaSuccess);
  EXPECT_EQ(__cudaLaunchKernel(kernel, dim3(1), dim3(32), nullptr, 0, nullptr),
            cudaErrorNoKernelImageForDevice);
  EXPECT_EQ(cudaGetLastError(), cudaErrorNoKernelImageForDevice);
  EXPECT_EQ(cudaLaunchKernel(reinterpret_cast<const void*>(&FakeKernelStub), dim3(1), dim3(1),
                             nullptr, 0, nullptr),
            cudaErrorNoKernelImageForDevice);
  EXPECT_EQ(cudaLaunchCooperativeKernel(reinterpret_cast<const void*>(&FakeKernelStub), dim3(1),
                                        dim3(1), nullptr, 0, nullptr),
            cudaErrorNoKernelImageForDevice);
  cudaLaunchConfig_t config = {};
  EXPECT_EQ(cudaLaunchKernelExC(&config, reinterpret_cast<const void*>(&FakeKernelStub), nullptr),
            cudaErrorNoKernelImageForDevice);
  EXPECT_EQ(cudaGetLastError(), cudaErrorNoKernelImageForDevice);
  __cudaUnregisterFatBinary(module);
}

TEST(HostRtLaunchTest, CallConfigurationRoundTrips) {
  int marker = 0;
  cudaStream_t stream = reinterpret_cast<cudaStream_t>(&marker);
  EXPECT_EQ(__cudaPushCallConfiguration(dim3(4, 5, 6), dim3(7), 99, stream), 0u);
  dim3 grid, block;
  size_t shared = 0;
  cudaStream_t popped = nullptr;
  ASSERT_EQ(__cudaPopCallConfiguration(&grid, &block, &shared, &popped), cudaSuccess);
  EXPECT_EQ(grid.y, 5u);
  EXPECT_EQ(block.x, 7u);
  EXPECT_EQ(shared, 99u);
  EXPECT_EQ(popped, stream);
  EXPECT_EQ(__cudaPopCallConfiguration(&grid, &block, &shared, &popped),
            cudaErrorMissingConfiguration);
  cudaGetLastError();
}

TEST(HostRtLaunchTest, UnimplementedEntryPointsExistAndSayNotSupported) {
  cudaFuncAttributes attributes;
  EXPECT_EQ(cudaFuncGetAttributes(&attributes, reinterpret_cast<const void*>(&FakeKernelStub)),
            cudaErrorNotSupported);
  EXPECT_EQ(cudaGetLastError(), cudaErrorNotSupported);
  EXPECT_EQ(cudaFuncSetAttribute(reinterpret_cast<const void*>(&FakeKernelStub),
                                 cudaFuncAttributeMaxDynamicSharedMemorySize, 1024),
            cudaSuccess);
}

}  // namespace
