// Streams and events of the host libcudart: work completes at issue.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace {

TEST(HostRtStreamsTest, CreateQuerySynchronizeDestroy) {
  cudaStream_t stream = nullptr;
  ASSERT_EQ(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), cudaSuccess);
  unsigned flags = 0;
  ASSERT_EQ(cudaStreamGetFlags(stream, &flags), cudaSuccess);
  EXPECT_EQ(flags, static_cast<unsigned>(cudaStreamNonBlocking));
  EXPECT_EQ(cudaStreamQuery(stream), cudaSuccess);
  EXPECT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
  EXPECT_EQ(cudaStreamSynchronize(nullptr), cudaSuccess);
  EXPECT_EQ(cudaStreamSynchronize(cudaStreamPerThread), cudaSuccess);
  EXPECT_EQ(cudaStreamDestroy(stream), cudaSuccess);
  EXPECT_EQ(cudaStreamQuery(stream), cudaErrorInvalidResourceHandle) << "destroyed";
  EXPECT_EQ(cudaStreamDestroy(stream), cudaErrorInvalidResourceHandle);
  cudaGetLastError();
}

TEST(HostRtStreamsTest, PriorityAndDevice) {
  int least = 1, greatest = 1;
  ASSERT_EQ(cudaDeviceGetStreamPriorityRange(&least, &greatest), cudaSuccess);
  EXPECT_LE(greatest, least);
  ASSERT_EQ(cudaSetDevice(6), cudaSuccess);
  cudaStream_t stream;
  ASSERT_EQ(cudaStreamCreateWithPriority(&stream, cudaStreamDefault, greatest), cudaSuccess);
  ASSERT_EQ(cudaSetDevice(0), cudaSuccess);
  int priority = 0, device = -1;
  ASSERT_EQ(cudaStreamGetPriority(stream, &priority), cudaSuccess);
  EXPECT_EQ(priority, greatest);
  ASSERT_EQ(cudaStreamGetDevice(stream, &device), cudaSuccess);
  EXPECT_EQ(device, 6);
  EXPECT_EQ(cudaStreamDestroy(stream), cudaSuccess);
}

TEST(HostRtStreamsTest, HostFunctionsAndCallbacksRunInOrder) {
  cudaStream_t stream;
  ASSERT_EQ(cudaStreamCreate(&stream), cudaSuccess);
  static std::vector<int> order;
  order.clear();
  int value = 0;
  ASSERT_EQ(cudaLaunchHostFunc(
                stream, [](void*) { order.push_back(1); }, nullptr),
            cudaSuccess);
  ASSERT_EQ(cudaMemsetAsync(&value, 0xff, sizeof(value), stream), cudaSuccess);
  ASSERT_EQ(
      cudaStreamAddCallback(
          stream, [](cudaStream_t, cudaError_t status, void*) { order.push_back(2); }, nullptr, 0),
      cudaSuccess);
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_EQ(value, -1) << "async work has completed when the call returns";
  EXPECT_EQ(cudaStreamDestroy(stream), cudaSuccess);
}

TEST(HostRtEventsTest, RecordQuerySynchronizeElapsed) {
  cudaEvent_t start, stop;
  ASSERT_EQ(cudaEventCreate(&start), cudaSuccess);
  ASSERT_EQ(cudaEventCreateWithFlags(&stop, cudaEventBlockingSync), cudaSuccess);
  EXPECT_EQ(cudaEventQuery(start), cudaSuccess) << "never recorded counts as complete";
  float ms = -1;
  EXPECT_EQ(cudaEventElapsedTime(&ms, start, stop), cudaErrorInvalidResourceHandle);
  ASSERT_EQ(cudaEventRecord(start, nullptr), cudaSuccess);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(cudaEventRecordWithFlags(stop, cudaStreamPerThread, cudaEventRecordDefault),
            cudaSuccess);
  EXPECT_EQ(cudaEventQuery(stop), cudaSuccess);
  EXPECT_EQ(cudaEventSynchronize(stop), cudaSuccess);
  ASSERT_EQ(cudaEventElapsedTime(&ms, start, stop), cudaSuccess);
  EXPECT_GE(ms, 4.0f);
  EXPECT_LT(ms, 5000.0f);
  EXPECT_EQ(cudaEventDestroy(start), cudaSuccess);
  EXPECT_EQ(cudaEventDestroy(stop), cudaSuccess);
  EXPECT_EQ(cudaEventQuery(stop), cudaErrorInvalidResourceHandle);
  cudaGetLastError();
}

TEST(HostRtEventsTest, TimingDisabledEventsHaveNoElapsedTime) {
  cudaEvent_t a, b;
  ASSERT_EQ(cudaEventCreateWithFlags(&a, cudaEventDisableTiming), cudaSuccess);
  ASSERT_EQ(cudaEventCreate(&b), cudaSuccess);
  ASSERT_EQ(cudaEventRecord(a), cudaSuccess);
  ASSERT_EQ(cudaEventRecord(b), cudaSuccess);
  float ms;
  EXPECT_EQ(cudaEventElapsedTime(&ms, a, b), cudaErrorInvalidResourceHandle);
  EXPECT_EQ(cudaEventCreateWithFlags(&a, cudaEventInterprocess), cudaErrorInvalidValue);
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  cudaGetLastError();
}

TEST(HostRtEventsTest, StreamWaitEventOutsideCaptureIsImmediate) {
  cudaStream_t stream;
  cudaEvent_t event;
  ASSERT_EQ(cudaStreamCreate(&stream), cudaSuccess);
  ASSERT_EQ(cudaEventCreateWithFlags(&event, cudaEventDisableTiming), cudaSuccess);
  ASSERT_EQ(cudaEventRecord(event, stream), cudaSuccess);
  EXPECT_EQ(cudaStreamWaitEvent(nullptr, event, 0), cudaSuccess);
  EXPECT_EQ(cudaStreamSynchronize(nullptr), cudaSuccess);
  cudaEventDestroy(event);
  cudaStreamDestroy(stream);
}

TEST(HostRtStreamsTest, ThreadsCopyConcurrentlyOnTheirOwnStreams) {
  std::vector<std::thread> threads;
  std::vector<int> ok(8, 0);
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([t, &ok] {
      cudaSetDevice(t);
      cudaStream_t stream;
      if (cudaStreamCreate(&stream) != cudaSuccess) return;
      bool all_ok = true;
      for (int i = 0; i < 200; ++i) {
        int* device = nullptr;
        int value = t * 1000 + i, back = -1;
        all_ok &= cudaMallocAsync(&device, sizeof(int), stream) == cudaSuccess;
        all_ok &=
            cudaMemcpyAsync(device, &value, sizeof(int), cudaMemcpyDefault, stream) == cudaSuccess;
        all_ok &=
            cudaMemcpyAsync(&back, device, sizeof(int), cudaMemcpyDefault, stream) == cudaSuccess;
        all_ok &= cudaStreamSynchronize(stream) == cudaSuccess && back == value;
        all_ok &= cudaFreeAsync(device, stream) == cudaSuccess;
      }
      ok[t] = all_ok && cudaStreamDestroy(stream) == cudaSuccess;
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(ok, std::vector<int>(8, 1));
}

}  // namespace
