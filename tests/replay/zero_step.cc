// zero_step: a ZeRO-style data-parallel training loop written the way user code is, for
// application-replay scenarios. Nothing from the samples: its own launcher variables (RANK,
// WORLD_SIZE, LOCAL_RANK), its own rendezvous (rank 0 writes the unique id to the file named by
// --id-file, the others poll for it), its own checks.
//
// Rank 0 broadcasts the initial weights. Each step, every rank computes its gradient on the host,
// copies it up on a compute stream, and the communication stream waits for it through an event:
// reduce-scatter of the gradients (each rank owns a shard), the shard updated on the host
// (SGD with momentum), then an in-place all-gather of the weights. Pinned host buffers,
// cudaMemcpyAsync and cudaStreamSynchronize throughout; no kernels.
//
// Prints "zero_step rank R: steps=S weights=0x..." (an FNV-1a hash of the final weights) and
// exits 0. Options: --id-file PATH (required), --steps N (4), --count N per rank (4096),
// --lr X (0.05).
#include <cuda_runtime_api.h>
#include <fcntl.h>
#include <nccl.h>
#include <unistd.h>

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "user_program.h"

namespace {

int EnvOr(const char* name, int fallback) {
  const char* v = getenv(name);
  return v != nullptr && *v != '\0' ? atoi(v) : fallback;
}

}  // namespace

int main(int argc, char** argv) {
  std::string id_file;
  int steps = 4;
  size_t shard = 4096;
  float lr = 0.05f;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--id-file")
      id_file = argv[i + 1];
    else if (flag == "--steps")
      steps = atoi(argv[i + 1]);
    else if (flag == "--count")
      shard = strtoul(argv[i + 1], nullptr, 10);
    else if (flag == "--lr")
      lr = strtof(argv[i + 1], nullptr);
    else {
      fprintf(stderr, "usage: zero_step --id-file PATH [--steps N] [--count N] [--lr X]\n");
      return 2;
    }
  }
  if (id_file.empty()) {
    fprintf(stderr, "zero_step: --id-file is required\n");
    return 2;
  }
  const int rank = EnvOr("RANK", 0), world = EnvOr("WORLD_SIZE", 1);
  int devices = 0;
  CUDA_OK(cudaGetDeviceCount(&devices));
  CUDA_OK(cudaSetDevice(EnvOr("LOCAL_RANK", rank) % devices));

  ncclComm_t comm;
  NCCL_OK(ncclCommInitRank(&comm, world, user_program::Rendezvous(id_file, rank), rank));

  const size_t total = shard * world;
  float *weights, *grads, *shard_grad;
  CUDA_OK(cudaMalloc(&weights, total * sizeof(float)));
  CUDA_OK(cudaMalloc(&grads, total * sizeof(float)));
  CUDA_OK(cudaMalloc(&shard_grad, shard * sizeof(float)));
  float *host_w, *host_g;
  CUDA_OK(cudaMallocHost(&host_w, total * sizeof(float)));
  CUDA_OK(cudaHostAlloc(&host_g, total * sizeof(float), cudaHostAllocDefault));
  std::vector<float> momentum(shard, 0.0f);

  cudaStream_t compute, comms;
  CUDA_OK(cudaStreamCreateWithFlags(&compute, cudaStreamNonBlocking));
  CUDA_OK(cudaStreamCreateWithFlags(&comms, cudaStreamNonBlocking));
  cudaEvent_t grads_ready;
  CUDA_OK(cudaEventCreateWithFlags(&grads_ready, cudaEventDisableTiming));

  // Only rank 0's initial weights count: the broadcast gives everyone the same.
  for (size_t i = 0; i < total; ++i) host_w[i] = rank == 0 ? std::sin(0.001f * i) : -1.0f;
  CUDA_OK(cudaMemcpyAsync(weights, host_w, total * sizeof(float), cudaMemcpyHostToDevice, comms));
  NCCL_OK(ncclBroadcast(weights, weights, total, ncclFloat, 0, comm, comms));
  CUDA_OK(cudaMemcpyAsync(host_w, weights, total * sizeof(float), cudaMemcpyDeviceToHost, comms));
  CUDA_OK(cudaStreamSynchronize(comms));

  for (int step = 0; step < steps; ++step) {
    // The "backward pass": a gradient of a quadratic around a rank-dependent target.
    for (size_t i = 0; i < total; ++i)
      host_g[i] = host_w[i] - 0.01f * static_cast<float>((i * 7 + rank * 13 + step) % 101);
    CUDA_OK(cudaMemcpyAsync(grads, host_g, total * sizeof(float), cudaMemcpyHostToDevice, compute));
    CUDA_OK(cudaEventRecord(grads_ready, compute));
    CUDA_OK(cudaStreamWaitEvent(comms, grads_ready, 0));
    NCCL_OK(ncclReduceScatter(grads, shard_grad, shard, ncclFloat, ncclSum, comm, comms));
    CUDA_OK(
        cudaMemcpyAsync(host_g, shard_grad, shard * sizeof(float), cudaMemcpyDeviceToHost, comms));
    CUDA_OK(cudaStreamSynchronize(comms));
    float* mine = host_w + rank * shard;
    for (size_t i = 0; i < shard; ++i) {
      momentum[i] = 0.9f * momentum[i] + host_g[i] / world;
      mine[i] -= lr * momentum[i];
    }
    float* my_weights = weights + rank * shard;
    CUDA_OK(
        cudaMemcpyAsync(my_weights, mine, shard * sizeof(float), cudaMemcpyHostToDevice, comms));
    NCCL_OK(ncclAllGather(my_weights, weights, shard, ncclFloat, comm, comms));
    CUDA_OK(cudaMemcpyAsync(host_w, weights, total * sizeof(float), cudaMemcpyDeviceToHost, comms));
    CUDA_OK(cudaStreamSynchronize(comms));
  }

  printf("zero_step rank %d: steps=%d weights=0x%016" PRIx64 "\n", rank, steps,
         user_program::Fnv1a(user_program::kFnvSeed, host_w, total * sizeof(float)));
  CUDA_OK(cudaEventDestroy(grads_ready));
  CUDA_OK(cudaStreamDestroy(compute));
  CUDA_OK(cudaStreamDestroy(comms));
  CUDA_OK(cudaFreeHost(host_w));
  CUDA_OK(cudaFreeHost(host_g));
  CUDA_OK(cudaFree(weights));
  CUDA_OK(cudaFree(grads));
  CUDA_OK(cudaFree(shard_grad));
  NCCL_OK(ncclCommDestroy(comm));
  return 0;
}
