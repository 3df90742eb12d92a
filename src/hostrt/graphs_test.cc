// Stream capture and graph replay of the host libcudart.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cstring>

namespace {

class HostRtGraphsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), cudaSuccess);
  }
  void TearDown() override {
    cudaStreamDestroy(stream_);
    cudaGetLastError();
  }
  cudaStream_t stream_ = nullptr;
};

void CountCall(void* counter) { ++*static_cast<int*>(counter); }

TEST_F(HostRtGraphsTest, CaptureRecordsWorkAndLaunchReplaysIt) {
  int src[4] = {1, 2, 3, 4};
  int dst[4] = {};
  int* device = nullptr;
  ASSERT_EQ(cudaMalloc(&device, sizeof(src)), cudaSuccess);
  int calls = 0;

  ASSERT_EQ(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeThreadLocal), cudaSuccess);
  ASSERT_EQ(cudaMemcpyAsync(device, src, sizeof(src), cudaMemcpyHostToDevice, stream_),
            cudaSuccess);
  ASSERT_EQ(cudaMemsetAsync(device, 0, sizeof(int), stream_), cudaSuccess);
  ASSERT_EQ(cudaMemcpyAsync(dst, device, sizeof(src), cudaMemcpyDeviceToHost, stream_),
            cudaSuccess);
  ASSERT_EQ(cudaLaunchHostFunc(stream_, CountCall, &calls), cudaSuccess);
  cudaGraph_t graph = nullptr;
  ASSERT_EQ(cudaStreamEndCapture(stream_, &graph), cudaSuccess);
  ASSERT_NE(graph, nullptr);
  EXPECT_EQ(dst[1], 0) << "captured work does not run at capture";
  EXPECT_EQ(calls, 0);
  size_t nodes = 0;
  ASSERT_EQ(cudaGraphGetNodes(graph, nullptr, &nodes), cudaSuccess);
  EXPECT_EQ(nodes, 4u);

  cudaGraphExec_t exec = nullptr;
  ASSERT_EQ(cudaGraphInstantiate(&exec, graph, 0), cudaSuccess);
  ASSERT_EQ(cudaGraphDestroy(graph), cudaSuccess) << "the executable graph keeps its work";
  ASSERT_EQ(cudaGraphLaunch(exec, stream_), cudaSuccess);
  EXPECT_EQ(dst[0], 0);
  EXPECT_EQ(dst[3], 4);
  EXPECT_EQ(calls, 1);
  src[3] = 40;
  ASSERT_EQ(cudaGraphLaunch(exec, stream_), cudaSuccess);
  EXPECT_EQ(dst[3], 40) << "a replay reads the buffers as they are now";
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(cudaGraphExecDestroy(exec), cudaSuccess);
  EXPECT_EQ(cudaFree(device), cudaSuccess);
}

TEST_F(HostRtGraphsTest, CaptureStatusAndInfo) {
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusActive;
  ASSERT_EQ(cudaStreamIsCapturing(stream_, &status), cudaSuccess);
  EXPECT_EQ(status, cudaStreamCaptureStatusNone);
  ASSERT_EQ(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeGlobal), cudaSuccess);
  EXPECT_EQ(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeGlobal), cudaErrorIllegalState);
  unsigned long long id = 0;
  cudaGraph_t graph = nullptr;
  size_t dependencies = 7;
  ASSERT_EQ(
      cudaStreamGetCaptureInfo(stream_, &status, &id, &graph, nullptr, nullptr, &dependencies),
      cudaSuccess);
  EXPECT_EQ(status, cudaStreamCaptureStatusActive);
  EXPECT_NE(id, 0u);
  EXPECT_NE(graph, nullptr);
  EXPECT_EQ(dependencies, 0u);
  cudaGraph_t ended = nullptr;
  ASSERT_EQ(cudaStreamEndCapture(stream_, &ended), cudaSuccess);
  EXPECT_EQ(ended, graph);
  EXPECT_EQ(cudaStreamEndCapture(stream_, &ended), cudaErrorIllegalState);
  cudaGraphDestroy(graph);
}

TEST_F(HostRtGraphsTest, SynchronizingACapturingStreamInvalidatesTheCapture) {
  ASSERT_EQ(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeRelaxed), cudaSuccess);
  EXPECT_EQ(cudaStreamSynchronize(stream_), cudaErrorStreamCaptureUnsupported);
  cudaStreamCaptureStatus status;
  ASSERT_EQ(cudaStreamIsCapturing(stream_, &status), cudaSuccess);
  EXPECT_EQ(status, cudaStreamCaptureStatusInvalidated);
  cudaGraph_t graph = reinterpret_cast<cudaGraph_t>(1);
  EXPECT_EQ(cudaStreamEndCapture(stream_, &graph), cudaErrorStreamCaptureInvalidated);
  EXPECT_EQ(graph, nullptr);
  ASSERT_EQ(cudaStreamIsCapturing(stream_, &status), cudaSuccess);
  EXPECT_EQ(status, cudaStreamCaptureStatusNone);
}

TEST_F(HostRtGraphsTest, LegacyStreamCannotBeCaptured) {
  EXPECT_EQ(cudaStreamBeginCapture(nullptr, cudaStreamCaptureModeGlobal),
            cudaErrorStreamCaptureUnsupported);
}

TEST_F(HostRtGraphsTest, ForkJoinThroughEventsCapturesTheSideStream) {
  cudaStream_t side;
  cudaEvent_t fork, join;
  ASSERT_EQ(cudaStreamCreate(&side), cudaSuccess);
  ASSERT_EQ(cudaEventCreateWithFlags(&fork, cudaEventDisableTiming), cudaSuccess);
  ASSERT_EQ(cudaEventCreateWithFlags(&join, cudaEventDisableTiming), cudaSuccess);
  int value = 0;
  ASSERT_EQ(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeGlobal), cudaSuccess);
  ASSERT_EQ(cudaEventRecord(fork, stream_), cudaSuccess);
  EXPECT_EQ(cudaEventQuery(fork), cudaErrorCapturedEvent);
  ASSERT_EQ(cudaStreamWaitEvent(side, fork, 0), cudaSuccess);
  cudaStreamCaptureStatus status;
  ASSERT_EQ(cudaStreamIsCapturing(side, &status), cudaSuccess);
  EXPECT_EQ(status, cudaStreamCaptureStatusActive);
  ASSERT_EQ(cudaMemsetAsync(&value, 1, 1, side), cudaSuccess);
  ASSERT_EQ(cudaEventRecord(join, side), cudaSuccess);
  ASSERT_EQ(cudaStreamWaitEvent(stream_, join, 0), cudaSuccess);
  cudaGraph_t graph;
  ASSERT_EQ(cudaStreamEndCapture(stream_, &graph), cudaSuccess);
  EXPECT_EQ(value, 0);
  ASSERT_EQ(cudaStreamIsCapturing(side, &status), cudaSuccess);
  EXPECT_EQ(status, cudaStreamCaptureStatusNone) << "the side stream left with the capture";

  cudaGraphExec_t exec;
  ASSERT_EQ(cudaGraphInstantiateWithFlags(&exec, graph, 0), cudaSuccess);
  ASSERT_EQ(cudaGraphLaunch(exec, side), cudaSuccess);
  EXPECT_EQ(value, 1);
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  cudaEventDestroy(fork);
  cudaEventDestroy(join);
  cudaStreamDestroy(side);
}

TEST_F(HostRtGraphsTest, GraphLaunchInsideACaptureNests) {
  int counter = 0;
  ASSERT_EQ(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeGlobal), cudaSuccess);
  ASSERT_EQ(cudaLaunchHostFunc(stream_, CountCall, &counter), cudaSuccess);
  cudaGraph_t inner_graph;
  ASSERT_EQ(cudaStreamEndCapture(stream_, &inner_graph), cudaSuccess);
  cudaGraphExec_t inner;
  ASSERT_EQ(cudaGraphInstantiate(&inner, inner_graph, 0), cudaSuccess);

  ASSERT_EQ(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeGlobal), cudaSuccess);
  ASSERT_EQ(cudaGraphLaunch(inner, stream_), cudaSuccess);
  ASSERT_EQ(cudaGraphLaunch(inner, stream_), cudaSuccess);
  cudaGraph_t outer_graph;
  ASSERT_EQ(cudaStreamEndCapture(stream_, &outer_graph), cudaSuccess);
  EXPECT_EQ(counter, 0);
  cudaGraphExec_t outer;
  ASSERT_EQ(cudaGraphInstantiate(&outer, outer_graph, 0), cudaSuccess);
  ASSERT_EQ(cudaGraphLaunch(outer, stream_), cudaSuccess);
  EXPECT_EQ(counter, 2);
  cudaGraphExecDestroy(outer);
  cudaGraphExecDestroy(inner);
  cudaGraphDestroy(outer_graph);
  cudaGraphDestroy(inner_graph);
}

TEST_F(HostRtGraphsTest, FreeAsyncDuringCaptureWaitsForTheGraph) {
  void* buffer = nullptr;
  int source = 42;
  ASSERT_EQ(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeGlobal), cudaSuccess);
  ASSERT_EQ(cudaMallocAsync(&buffer, sizeof(int), stream_), cudaSuccess);
  ASSERT_EQ(cudaMemcpyAsync(buffer, &source, sizeof(int), cudaMemcpyDefault, stream_), cudaSuccess);
  ASSERT_EQ(cudaFreeAsync(buffer, stream_), cudaSuccess);
  cudaGraph_t graph;
  ASSERT_EQ(cudaStreamEndCapture(stream_, &graph), cudaSuccess);
  cudaGraphExec_t exec;
  ASSERT_EQ(cudaGraphInstantiate(&exec, graph, 0), cudaSuccess);
  ASSERT_EQ(cudaGraphLaunch(exec, stream_), cudaSuccess);
  EXPECT_EQ(*static_cast<int*>(buffer), 42) << "still allocated while the graph lives";
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  cudaPointerAttributes attributes;
  ASSERT_EQ(cudaPointerGetAttributes(&attributes, buffer), cudaSuccess);
  EXPECT_EQ(attributes.type, cudaMemoryTypeUnregistered) << "freed with the graph";
}

TEST(HostRtCaptureModeTest, ExchangeSwapsThePerThreadMode) {
  cudaStreamCaptureMode mode = cudaStreamCaptureModeRelaxed;
  ASSERT_EQ(cudaThreadExchangeStreamCaptureMode(&mode), cudaSuccess);
  EXPECT_EQ(mode, cudaStreamCaptureModeGlobal);
  ASSERT_EQ(cudaThreadExchangeStreamCaptureMode(&mode), cudaSuccess);
  EXPECT_EQ(mode, cudaStreamCaptureModeRelaxed);
}

}  // namespace
