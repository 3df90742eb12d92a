// busy_threads: a rank that records from many threads at once, for readers run beside it
// (hang_test.sh busy_threads). --threads T worker threads (default 8) each loop
// cudaMemcpyAsync, cudaEventRecord, cudaStreamQuery and cudaEventQuery on a stream of their own,
// resting --pause-us P microseconds (default 1000) between rounds so that a recorder keeps up,
// while the main thread runs all-reduces of the whole job on one communicator, a mark per step,
// checking each result on the host, resting as long between steps. Stops after --seconds S (default
// 20) and prints "busy_threads: OK" (exit 0). Built against the real toolkit; run with any number
// of ranks.
#include <cuda_runtime_api.h>
#include <nccl.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "support/bootstrap.h"
#include "support/check.h"
#include "support/marks.h"

namespace {

using namespace ddrr_samples;

constexpr size_t kCount = 256;

// One worker: copies to and from a buffer of its own on a stream of its own, recording and
// polling an event, as a data loader or a copy engine thread of a framework does.
void Worker(std::atomic<bool>* stop, int pause_us) {
  cudaStream_t stream;
  cudaEvent_t event;
  CUDA_CHECK(cudaStreamCreate(&stream));
  CUDA_CHECK(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
  float* device = nullptr;
  CUDA_CHECK(cudaMalloc(&device, kCount * sizeof(float)));
  std::vector<float> host(kCount, 1.0f), back(kCount);
  while (!stop->load(std::memory_order_relaxed)) {
    CUDA_CHECK(cudaMemcpyAsync(device, host.data(), kCount * sizeof(float), cudaMemcpyHostToDevice,
                               stream));
    CUDA_CHECK(cudaEventRecord(event, stream));
    const cudaError_t polled = cudaStreamQuery(stream);
    if (polled != cudaSuccess && polled != cudaErrorNotReady) CUDA_CHECK(polled);
    CUDA_CHECK(cudaMemcpyAsync(back.data(), device, kCount * sizeof(float), cudaMemcpyDeviceToHost,
                               stream));
    const cudaError_t done = cudaEventQuery(event);
    if (done != cudaSuccess && done != cudaErrorNotReady) CUDA_CHECK(done);
    CUDA_CHECK(cudaStreamSynchronize(stream));
    std::this_thread::sleep_for(std::chrono::microseconds(pause_us));
  }
  CUDA_CHECK(cudaFree(device));
  CUDA_CHECK(cudaEventDestroy(event));
  CUDA_CHECK(cudaStreamDestroy(stream));
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 8, pause_us = 1000;
  double seconds = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--threads")) {
      threads = atoi(argv[i + 1]);
    } else if (!strcmp(argv[i], "--seconds")) {
      seconds = atof(argv[i + 1]);
    } else if (!strcmp(argv[i], "--pause-us")) {
      pause_us = atoi(argv[i + 1]);
    } else {
      fprintf(stderr, "usage: busy_threads [--threads T] [--seconds S] [--pause-us P]\n");
      return kExitUsage;
    }
  }
  if (threads < 1 || seconds <= 0 || pause_us < 0) {
    fprintf(stderr, "busy_threads: --threads >= 1, --seconds > 0, --pause-us >= 0\n");
    return kExitUsage;
  }
  const JobInfo job = DetectJob();
  SetLogIdentity("busy_threads", job.rank);
  SelectDevice(job, false);
  ncclComm_t comm = nullptr;
  NCCL_CHECK(ncclCommInitRank(&comm, job.world_size, ShareUniqueId(job, "world"), job.rank));
  cudaStream_t stream;
  CUDA_CHECK(cudaStreamCreate(&stream));
  float* device = nullptr;
  CUDA_CHECK(cudaMalloc(&device, kCount * sizeof(float)));

  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) workers.emplace_back(Worker, &stop, pause_us);

  // The job's ranks stop together: each all-reduce also says whether any rank's time is up.
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  std::vector<float> host(kCount);
  int64_t step = 0;
  for (bool done = false; !done; ++step) {
    MarkStep(step);
    const bool over = std::chrono::steady_clock::now() >= until;
    std::fill(host.begin(), host.end(), over ? 1.0f : 0.0f);
    host[1] = static_cast<float>(job.rank + 1);
    CUDA_CHECK(cudaMemcpyAsync(device, host.data(), kCount * sizeof(float), cudaMemcpyHostToDevice,
                               stream));
    NCCL_CHECK(ncclAllReduce(device, device, kCount, ncclFloat32, ncclSum, comm, stream));
    CUDA_CHECK(cudaMemcpyAsync(host.data(), device, kCount * sizeof(float), cudaMemcpyDeviceToHost,
                               stream));
    CUDA_CHECK(cudaStreamSynchronize(stream));
    const float want = job.world_size * (job.world_size + 1) / 2.0f;
    if (host[1] != want) {
      printf("busy_threads: MISMATCH on rank %d at step %lld: %g, expected %g\n", job.rank,
             static_cast<long long>(step), host[1], want);
      return kExitFailure;
    }
    done = host[0] > 0;
    std::this_thread::sleep_for(std::chrono::microseconds(pause_us));
  }
  stop = true;
  for (std::thread& w : workers) w.join();
  CUDA_CHECK(cudaFree(device));
  CUDA_CHECK(cudaStreamDestroy(stream));
  NCCL_CHECK(ncclCommDestroy(comm));
  printf("%sbusy_threads: OK after %lld steps\n", LogPrefix(), static_cast<long long>(step));
  return 0;
}
