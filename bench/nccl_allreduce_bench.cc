// ncclAllReduce bus bandwidth as a job sees it, like nccl-tests' all_reduce_perf: one rank per
// process, cudaMalloc'd buffers, fp32 sum. Built against the real toolkit and NCCL, so it runs
// on a GPU and, under `ddrr run --host -n N`, on emu over ddrr's host runtime.
//
// Usage: nccl_allreduce_bench [iterations=10] [max_mib=64]
// Rank 0 prints one line per size: time per call (the slowest rank's), algbw = bytes / time,
// busbw = algbw * 2(n-1)/n, and, for reference, one core's memcpy bandwidth for the same size
// (measured by rank 0 before the others start), so on the host runtime bus/mcp says how close
// emu comes to the memory system.
#include <cuda_runtime_api.h>
#include <nccl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "support/bootstrap.h"
#include "support/check.h"

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

// One core copying between two buffers of `bytes`, alternating direction, pages already in;
// the best of 5 trials, so a preempted trial does not lower the reference.
double MemcpyGBps(size_t bytes, int iters) {
  std::vector<char> a(bytes, 1), b(bytes, 2);
  std::memcpy(b.data(), a.data(), bytes);
  double best = 0;
  for (int trial = 0; trial < 5; ++trial) {
    auto t0 = Clock::now();
    for (int i = 0; i < iters; ++i) {
      std::memcpy(i % 2 ? a.data() : b.data(), i % 2 ? b.data() : a.data(), bytes);
    }
    best = std::max(best, bytes * static_cast<double>(iters) / Seconds(t0) / 1e9);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ddrr_samples;
  SetLogIdentity("nccl_allreduce_bench", -1);
  int iters = argc > 1 ? std::atoi(argv[1]) : 10;
  int max_mib = argc > 2 ? std::atoi(argv[2]) : 64;
  if (iters < 1 || max_mib < 1) {
    std::fprintf(stderr, "usage: nccl_allreduce_bench [iterations>=1] [max_mib>=1]\n");
    return kExitUsage;
  }
  JobInfo job = DetectJob();
  SetLogIdentity("nccl_allreduce_bench", job.rank);
  std::vector<size_t> sizes;
  for (size_t mib = 1; mib <= static_cast<size_t>(max_mib); mib *= 4) sizes.push_back(mib << 20);
  std::vector<double> memcpy_gbps;
  if (job.rank == 0) {
    for (size_t bytes : sizes) memcpy_gbps.push_back(MemcpyGBps(bytes, std::max(iters, 10)));
  }
  SelectDevice(job, false);
  ncclUniqueId id = ShareUniqueId(job, "allreduce-bench");
  ncclComm_t comm;
  NCCL_CHECK(ncclCommInitRank(&comm, job.world_size, id, job.rank));
  cudaStream_t stream;
  CUDA_CHECK(cudaStreamCreate(&stream));
  float* send = nullptr;
  float* recv = nullptr;
  float* seconds = nullptr;  // this rank's time, then the slowest rank's
  CUDA_CHECK(cudaMalloc(&send, sizes.back()));
  CUDA_CHECK(cudaMalloc(&recv, sizes.back()));
  CUDA_CHECK(cudaMalloc(&seconds, sizeof(float)));
  std::vector<float> ones(sizes.back() / sizeof(float), 1.0f);
  CUDA_CHECK(cudaMemcpy(send, ones.data(), sizes.back(), cudaMemcpyHostToDevice));
  if (job.rank == 0) {
    std::printf("ncclAllReduce fp32 sum, %d ranks, %ld cores online\n", job.world_size,
                sysconf(_SC_NPROCESSORS_ONLN));
    std::printf("%10s %12s %12s %12s %14s %8s\n", "bytes", "time_us", "algbw_GB/s", "busbw_GB/s",
                "memcpy_GB/s", "bus/mcp");
  }
  for (size_t s = 0; s < sizes.size(); ++s) {
    size_t count = sizes[s] / sizeof(float);
    for (int warm = 0; warm < 2; ++warm) {
      NCCL_CHECK(ncclAllReduce(send, recv, count, ncclFloat, ncclSum, comm, stream));
    }
    CUDA_CHECK(cudaStreamSynchronize(stream));
    auto t0 = Clock::now();
    for (int i = 0; i < iters; ++i) {
      NCCL_CHECK(ncclAllReduce(send, recv, count, ncclFloat, ncclSum, comm, stream));
    }
    CUDA_CHECK(cudaStreamSynchronize(stream));
    float mine = static_cast<float>(Seconds(t0) / iters);
    CUDA_CHECK(cudaMemcpy(seconds, &mine, sizeof(float), cudaMemcpyHostToDevice));
    NCCL_CHECK(ncclAllReduce(seconds, seconds, 1, ncclFloat, ncclMax, comm, stream));
    float slowest = 0, last = 0;
    CUDA_CHECK(cudaMemcpy(&slowest, seconds, sizeof(float), cudaMemcpyDeviceToHost));
    CUDA_CHECK(cudaMemcpy(&last, recv + count - 1, sizeof(float), cudaMemcpyDeviceToHost));
    if (last != static_cast<float>(job.world_size)) {
      std::fprintf(stderr, "%swrong result at %zu bytes: %g, expected %d\n", LogPrefix(), sizes[s],
                   last, job.world_size);
      return kExitFailure;
    }
    if (job.rank == 0) {
      double algbw = sizes[s] / slowest / 1e9;
      double busbw = algbw * 2.0 * (job.world_size - 1) / job.world_size;
      std::printf("%10zu %12.1f %12.2f %12.2f %14.2f %7.0f%%\n", sizes[s], slowest * 1e6, algbw,
                  busbw, memcpy_gbps[s], 100.0 * busbw / memcpy_gbps[s]);
      std::fflush(stdout);
    }
  }
  RetireUniqueId(job, "allreduce-bench");
  CUDA_CHECK(cudaFree(send));
  CUDA_CHECK(cudaFree(recv));
  CUDA_CHECK(cudaFree(seconds));
  NCCL_CHECK(ncclCommDestroy(comm));
  return 0;
}
