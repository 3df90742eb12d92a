// comm_variety: an NCCL program that uses the communicator API the way frameworks do, for comm
// replay scenarios: a non-blocking communicator (blocking = 0) polled with
// ncclCommGetAsyncError, a scalable init from two ids, a split with NCCL_SPLIT_NOCOLOR, a shrink,
// two communicators in one group, a PreMulSum reduction, buffer and window registration,
// ncclMemAlloc memory, an event ordering two streams, and a second thread driving a
// communicator the first one created. Every all-reduce is checked on the host. Prints
// "comm_variety: OK" (exit 0). Built against the real toolkit; run with >= 3 ranks.
#include <cuda_runtime_api.h>
#include <nccl.h>

#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "support/bootstrap.h"
#include "support/check.h"

namespace {

using namespace ddrr_samples;

constexpr size_t kCount = 1024;

// Polls a non-blocking communicator until its last operation settled.
void Settle(ncclComm_t comm) {
  ncclResult_t state = ncclInProgress;
  while (state == ncclInProgress) NCCL_CHECK(ncclCommGetAsyncError(comm, &state));
  NCCL_CHECK(state);
}

// Every element of `device` must be `want`.
void Expect(const float* device, float want, cudaStream_t stream, const char* what, int rank) {
  std::vector<float> host(kCount);
  CUDA_CHECK(cudaStreamSynchronize(stream));
  CUDA_CHECK(cudaMemcpy(host.data(), device, kCount * sizeof(float), cudaMemcpyDeviceToHost));
  for (size_t i = 0; i < kCount; ++i)
    if (host[i] != want) {
      printf("comm_variety: MISMATCH on rank %d in %s: element %zu is %g, expected %g\n", rank,
             what, i, host[i], want);
      exit(kExitFailure);
    }
}

void Fill(float* device, float value) {
  std::vector<float> host(kCount, value);
  CUDA_CHECK(cudaMemcpy(device, host.data(), kCount * sizeof(float), cudaMemcpyHostToDevice));
}

}  // namespace

int main() {
  const JobInfo job = DetectJob();
  SetLogIdentity("comm_variety", job.rank);
  const int n = job.world_size, r = job.rank;
  if (n < 3) {
    fprintf(stderr, "%sneeds at least 3 ranks\n", LogPrefix());
    return kExitUsage;
  }
  SelectDevice(job, false);
  const float sum = n * (n + 1) / 2.0f;  // of every rank's (rank + 1)

  // A non-blocking communicator: every call may answer ncclInProgress.
  ncclComm_t world = nullptr;
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;
  config.commName = "world";
  const ncclUniqueId id = ShareUniqueId(job, "world");
  const ncclResult_t init = ncclCommInitRankConfig(&world, n, id, r, &config);
  if (init != ncclInProgress) NCCL_CHECK(init);
  Settle(world);

  // A scalable init from two ids.
  ncclUniqueId ids[2] = {ShareUniqueId(job, "scalable0"), ShareUniqueId(job, "scalable1")};
  ncclComm_t scalable = nullptr;
  NCCL_CHECK(ncclCommInitRankScalable(&scalable, n, r, 2, ids, nullptr));

  // The last rank takes no part in the split; the others split by parity, in reverse order.
  ncclComm_t half = nullptr;
  NCCL_CHECK(ncclCommSplit(scalable, r == n - 1 ? NCCL_SPLIT_NOCOLOR : r % 2, -r, &half, nullptr));
  // Rank 0 leaves the shrunk communicator (it does not call: it is "gone").
  ncclComm_t shrunk = nullptr;
  int exclude[1] = {0};
  if (r != 0)
    NCCL_CHECK(ncclCommShrink(scalable, exclude, 1, &shrunk, nullptr, NCCL_SHRINK_DEFAULT));

  cudaStream_t s0, s1;
  CUDA_CHECK(cudaStreamCreateWithFlags(&s0, cudaStreamNonBlocking));
  CUDA_CHECK(cudaStreamCreate(&s1));
  cudaEvent_t done;
  CUDA_CHECK(cudaEventCreateWithFlags(&done, cudaEventDisableTiming));
  float *a = nullptr, *b = nullptr, *c = nullptr;
  NCCL_CHECK(ncclMemAlloc(reinterpret_cast<void**>(&a), kCount * sizeof(float)));
  CUDA_CHECK(cudaMalloc(&b, kCount * sizeof(float) * 2));  // c is its second half
  c = b + kCount;
  void* registration = nullptr;
  NCCL_CHECK(ncclCommRegister(scalable, a, kCount * sizeof(float), &registration));
  ncclWindow_t window = nullptr;
  NCCL_CHECK(ncclCommWindowRegister(scalable, b, 2 * kCount * sizeof(float), &window, 0));

  // Two communicators in one group (the non-blocking one may answer in progress).
  Fill(a, r + 1.0f);
  Fill(b, r + 1.0f);
  NCCL_CHECK(ncclGroupStart());
  const ncclResult_t queued = ncclAllReduce(a, a, kCount, ncclFloat32, ncclSum, world, s0);
  if (queued != ncclInProgress) NCCL_CHECK(queued);
  NCCL_CHECK(ncclAllReduce(b, c, kCount, ncclFloat32, ncclSum, scalable, s1));
  const ncclResult_t grouped = ncclGroupEnd();
  if (grouped != ncclInProgress) NCCL_CHECK(grouped);
  Settle(world);
  Expect(a, sum, s0, "the grouped all-reduce on world", r);
  Expect(c, sum, s1, "the grouped all-reduce on scalable", r);

  // PreMulSum: each rank scales its ones by (rank + 1).
  ncclRedOp_t premul;
  float scalar = r + 1.0f;
  NCCL_CHECK(
      ncclRedOpCreatePreMulSum(&premul, &scalar, ncclFloat32, ncclScalarHostImmediate, scalable));
  Fill(b, 1.0f);
  NCCL_CHECK(ncclAllReduce(b, b, kCount, ncclFloat32, premul, scalable, s1));
  Expect(b, sum, s1, "the PreMulSum all-reduce", r);
  NCCL_CHECK(ncclRedOpDestroy(premul, scalable));

  // One stream waits for the other through an event, then the half reduces.
  Fill(a, 1.0f);
  CUDA_CHECK(cudaEventRecord(done, s0));
  CUDA_CHECK(cudaStreamWaitEvent(s1, done, 0));
  if (half != nullptr) {
    int size = 0;
    NCCL_CHECK(ncclCommCount(half, &size));
    NCCL_CHECK(ncclAllReduce(a, a, kCount, ncclFloat32, ncclSum, half, s1));
    Expect(a, static_cast<float>(size), s1, "the all-reduce on the half", r);
  }

  // A second thread drives the shrunk communicator the main thread created.
  if (shrunk != nullptr) {
    std::thread helper([&] {
      cudaStream_t s;
      CUDA_CHECK(cudaSetDevice(job.local_rank % std::max(1, [] {
                                 int d = 1;
                                 cudaGetDeviceCount(&d);
                                 return d;
                               }())));
      CUDA_CHECK(cudaStreamCreate(&s));
      for (int i = 0; i < 3; ++i) {
        Fill(c, 2.0f);
        NCCL_CHECK(ncclAllReduce(c, c, kCount, ncclFloat32, ncclSum, shrunk, s));
        Expect(c, 2.0f * (n - 1), s, "the all-reduce on the shrunk communicator", r);
      }
      CUDA_CHECK(cudaStreamDestroy(s));
    });
    helper.join();
  }

  // A ring of sends and receives on the scalable communicator.
  Fill(a, r + 1.0f);
  NCCL_CHECK(ncclGroupStart());
  NCCL_CHECK(ncclSend(a, kCount, ncclFloat32, (r + 1) % n, scalable, s1));
  NCCL_CHECK(ncclRecv(c, kCount, ncclFloat32, (r + n - 1) % n, scalable, s1));
  NCCL_CHECK(ncclGroupEnd());
  Expect(c, static_cast<float>((r + n - 1) % n + 1), s1, "the ring", r);

  NCCL_CHECK(ncclCommWindowDeregister(scalable, window));
  NCCL_CHECK(ncclCommDeregister(scalable, registration));
  NCCL_CHECK(ncclMemFree(a));
  CUDA_CHECK(cudaFree(b));
  if (shrunk != nullptr) NCCL_CHECK(ncclCommDestroy(shrunk));
  if (half != nullptr) NCCL_CHECK(ncclCommDestroy(half));
  NCCL_CHECK(ncclCommDestroy(scalable));
  const ncclResult_t fin = ncclCommFinalize(world);
  if (fin != ncclInProgress) NCCL_CHECK(fin);
  Settle(world);
  NCCL_CHECK(ncclCommDestroy(world));
  RetireUniqueId(job, "world");
  printf("comm_variety: OK\n");
  return 0;
}
