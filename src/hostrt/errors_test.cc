// Last-error semantics and error texts of the host libcudart.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <thread>

namespace {

TEST(HostRtErrorsTest, GetLastErrorReturnsAndClears) {
  cudaGetLastError();
  EXPECT_EQ(cudaSetDevice(-7), cudaErrorInvalidDevice);
  int device;
  EXPECT_EQ(cudaGetDevice(&device), cudaSuccess);
  EXPECT_EQ(cudaPeekAtLastError(), cudaErrorInvalidDevice) << "success does not clear";
  EXPECT_EQ(cudaPeekAtLastError(), cudaErrorInvalidDevice) << "peek does not clear";
  EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidDevice);
  EXPECT_EQ(cudaGetLastError(), cudaSuccess) << "not sticky";
}

TEST(HostRtErrorsTest, LastErrorIsPerThread) {
  cudaGetLastError();
  std::thread([] { cudaSetDevice(-1); }).join();
  EXPECT_EQ(cudaGetLastError(), cudaSuccess);
}

TEST(HostRtErrorsTest, NamesAndStringsMatchTheRealRuntime) {
  EXPECT_STREQ(cudaGetErrorName(cudaSuccess), "cudaSuccess");
  EXPECT_STREQ(cudaGetErrorString(cudaSuccess), "no error");
  EXPECT_STREQ(cudaGetErrorName(cudaErrorInvalidValue), "cudaErrorInvalidValue");
  EXPECT_STREQ(cudaGetErrorString(cudaErrorInvalidValue), "invalid argument");
  EXPECT_STREQ(cudaGetErrorString(cudaErrorNoKernelImageForDevice),
               "no kernel image is available for execution on the device");
  EXPECT_STREQ(cudaGetErrorString(cudaErrorInvalidResourceHandle), "invalid resource handle");
  EXPECT_STREQ(cudaGetErrorName(static_cast<cudaError_t>(12345)), "unrecognized error code");
  EXPECT_STREQ(cudaGetErrorString(static_cast<cudaError_t>(12345)), "unrecognized error code");
}

}  // namespace
