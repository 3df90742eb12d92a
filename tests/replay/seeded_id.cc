// seeded_id: an NCCL program whose randomness comes from the kernel, for application-replay
// scenarios. Usage: seeded_id ID_FILE [ROUNDS]. Rank 0 writes the unique id to ID_FILE; the
// others wait for it. Every rank seeds a generator with getrandom(); rank 0 also draws a job seed
// and broadcasts it (ncclBcast). Then rounds of: random data made on the host from both seeds,
// stream-ordered allocations (cudaMallocAsync), a memset, an all-reduce of uint64 and of float
// (ncclProd), a reduce-scatter of uint8 (ncclMax) and a gather/scatter through rank 0.
//
// Prints "seeded_id rank R: job_seed=0x... checksum=0x..." (FNV-1a over every result) and exits
// 0. A run that is not replayed prints different values each time.
#include <cuda_runtime_api.h>
#include <nccl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "user_program.h"

namespace {

constexpr size_t kElems = 1000;

uint64_t checksum = user_program::kFnvSeed;
void Mix(const void* data, size_t bytes) { checksum = user_program::Fnv1a(checksum, data, bytes); }

uint64_t SplitMix(uint64_t* state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t KernelRandom() {
  uint64_t value = 0;
  if (getrandom(&value, sizeof(value), 0) != static_cast<ssize_t>(sizeof(value))) {
    perror("getrandom");
    exit(1);
  }
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    fprintf(stderr, "usage: seeded_id ID_FILE [ROUNDS]\n");
    return 2;
  }
  const std::string id_file = argv[1];
  const int rounds = argc == 3 ? atoi(argv[2]) : 3;
  const char* r = getenv("RANK");
  const char* w = getenv("WORLD_SIZE");
  const int rank = r != nullptr ? atoi(r) : 0, world = w != nullptr ? atoi(w) : 1;
  int devices = 1;
  CUDA_OK(cudaGetDeviceCount(&devices));
  CUDA_OK(cudaSetDevice(rank % devices));

  const ncclUniqueId id = user_program::Rendezvous(id_file, rank);
  ncclComm_t comm;
  NCCL_OK(ncclCommInitRank(&comm, world, id, rank));
  cudaStream_t stream;
  CUDA_OK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));

  uint64_t local = KernelRandom();
  uint64_t job_seed = rank == 0 ? KernelRandom() : 0;
  uint64_t* seed_dev;
  CUDA_OK(cudaMalloc(&seed_dev, sizeof(uint64_t)));
  CUDA_OK(cudaMemcpy(seed_dev, &job_seed, sizeof(job_seed), cudaMemcpyHostToDevice));
  NCCL_OK(ncclBcast(seed_dev, 1, ncclUint64, 0, comm, stream));
  CUDA_OK(cudaMemcpyAsync(&job_seed, seed_dev, sizeof(job_seed), cudaMemcpyDeviceToHost, stream));
  CUDA_OK(cudaStreamSynchronize(stream));

  std::vector<uint64_t> counts(kElems);
  std::vector<float> factors(kElems);
  std::vector<uint8_t> bytes(kElems * world);
  std::vector<int32_t> gathered(kElems * world);
  for (int round = 0; round < rounds; ++round) {
    for (size_t i = 0; i < kElems; ++i) {
      counts[i] = SplitMix(&local) & 0xffff;
      factors[i] = 1.0f + static_cast<float>(SplitMix(&job_seed) % 16) / 64.0f;
    }
    for (uint8_t& b : bytes) b = static_cast<uint8_t>(SplitMix(&local));
    uint64_t* dc;
    float* df;
    uint8_t *db, *dmax;
    int32_t *dg, *dpart;
    CUDA_OK(cudaMallocAsync(&dc, kElems * sizeof(uint64_t), stream));
    CUDA_OK(cudaMallocAsync(&df, kElems * sizeof(float), stream));
    CUDA_OK(cudaMallocAsync(&db, bytes.size(), stream));
    CUDA_OK(cudaMallocAsync(&dmax, kElems, stream));
    CUDA_OK(cudaMalloc(&dg, gathered.size() * sizeof(int32_t)));
    CUDA_OK(cudaMalloc(&dpart, kElems * sizeof(int32_t)));
    CUDA_OK(cudaMemsetAsync(dmax, 0, kElems, stream));
    CUDA_OK(cudaMemcpyAsync(dc, counts.data(), kElems * sizeof(uint64_t), cudaMemcpyHostToDevice,
                            stream));
    CUDA_OK(cudaMemcpyAsync(df, factors.data(), kElems * sizeof(float), cudaMemcpyHostToDevice,
                            stream));
    CUDA_OK(cudaMemcpyAsync(db, bytes.data(), bytes.size(), cudaMemcpyHostToDevice, stream));
    CUDA_OK(cudaMemset(dpart, 0, kElems * sizeof(int32_t)));
    CUDA_OK(cudaMemset(dg, 0xff, gathered.size() * sizeof(int32_t)));
    NCCL_OK(ncclAllReduce(dc, dc, kElems, ncclUint64, ncclSum, comm, stream));
    NCCL_OK(ncclAllReduce(df, df, kElems, ncclFloat32, ncclProd, comm, stream));
    NCCL_OK(ncclReduceScatter(db, dmax, kElems, ncclUint8, ncclMax, comm, stream));
    // Rank 0 gathers every rank's low count bits, and scatters them back reversed.
    std::vector<int32_t> mine(kElems);
    for (size_t i = 0; i < kElems; ++i) mine[i] = static_cast<int32_t>(counts[i]) - rank;
    CUDA_OK(cudaMemcpyAsync(dpart, mine.data(), kElems * sizeof(int32_t), cudaMemcpyHostToDevice,
                            stream));
    NCCL_OK(ncclGather(dpart, dg, kElems, ncclInt32, 0, comm, stream));
    CUDA_OK(cudaStreamSynchronize(stream));
    if (rank == 0) {
      CUDA_OK(cudaMemcpy(gathered.data(), dg, gathered.size() * sizeof(int32_t),
                         cudaMemcpyDeviceToHost));
      std::vector<int32_t> reversed(gathered.rbegin(), gathered.rend());
      CUDA_OK(cudaMemcpy(dg, reversed.data(), reversed.size() * sizeof(int32_t),
                         cudaMemcpyHostToDevice));
    }
    NCCL_OK(ncclScatter(dg, dpart, kElems, ncclInt32, 0, comm, stream));
    CUDA_OK(cudaMemcpyAsync(counts.data(), dc, kElems * sizeof(uint64_t), cudaMemcpyDeviceToHost,
                            stream));
    CUDA_OK(cudaMemcpyAsync(factors.data(), df, kElems * sizeof(float), cudaMemcpyDeviceToHost,
                            stream));
    CUDA_OK(cudaMemcpyAsync(bytes.data(), dmax, kElems, cudaMemcpyDeviceToHost, stream));
    CUDA_OK(cudaMemcpyAsync(mine.data(), dpart, kElems * sizeof(int32_t), cudaMemcpyDeviceToHost,
                            stream));
    CUDA_OK(cudaStreamSynchronize(stream));
    Mix(counts.data(), kElems * sizeof(uint64_t));
    Mix(factors.data(), kElems * sizeof(float));
    Mix(bytes.data(), kElems);
    Mix(mine.data(), kElems * sizeof(int32_t));
    CUDA_OK(cudaFreeAsync(dc, stream));
    CUDA_OK(cudaFreeAsync(df, stream));
    CUDA_OK(cudaFreeAsync(db, stream));
    CUDA_OK(cudaFreeAsync(dmax, stream));
    CUDA_OK(cudaFree(dg));
    CUDA_OK(cudaFree(dpart));
  }
  CUDA_OK(cudaStreamSynchronize(stream));
  printf("seeded_id rank %d: job_seed=0x%016" PRIx64 " checksum=0x%016" PRIx64 "\n", rank, job_seed,
         checksum);
  CUDA_OK(cudaFree(seed_dev));
  CUDA_OK(cudaStreamDestroy(stream));
  NCCL_OK(ncclCommDestroy(comm));
  return 0;
}
