// ring_split: an NCCL program that mixes point-to-point and split-communicator collectives the
// way model-parallel code does, for application-replay scenarios. Its own launcher variables
// (RANK, WORLD_SIZE, LOCAL_RANK), its own rendezvous (rank 0 writes the unique id to the file
// named by $RING_ID_FILE), no kernels: values are made and checked on the host.
//
//  1. A ring: a few rounds of grouped ncclSend to the right / ncclRecv from the left (int64).
//  2. ncclCommSplit of the world into a lower and an upper half (keys reversed), and on each
//     half all-reduces of fp16 (ncclAvg), bf16 (ncclMax), int64 (ncclSum) and double (ncclAvg),
//     two of them in one group.
//  3. On the world: an all-to-all as grouped sends and receives, ncclAlltoAll, and ncclReduce
//     (ncclMin, int32) to the last rank.
//
// Prints "ring_split rank R: half=H/S digest=0x..." (FNV-1a over every result) and exits 0.
// Option: --elems N (per peer and per collective, default 512).
#include <cuda_runtime_api.h>
#include <nccl.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "user_program.h"

namespace {

size_t n = 512;
cudaStream_t stream;
uint64_t digest = user_program::kFnvSeed;

void Mix(const void* data, size_t bytes) { digest = user_program::Fnv1a(digest, data, bytes); }

// A device buffer of `count` Ts, filled from the host.
template <typename T>
T* Upload(const std::vector<T>& host) {
  T* device = nullptr;
  CUDA_OK(cudaMalloc(&device, host.size() * sizeof(T)));
  CUDA_OK(cudaMemcpy(device, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice));
  return device;
}

// Waits for the stream, copies `count` Ts down, folds them into the digest, frees the buffer.
template <typename T>
std::vector<T> Download(T* device, size_t count) {
  std::vector<T> host(count);
  CUDA_OK(cudaStreamSynchronize(stream));
  CUDA_OK(cudaMemcpy(host.data(), device, count * sizeof(T), cudaMemcpyDeviceToHost));
  Mix(host.data(), count * sizeof(T));
  CUDA_OK(cudaFree(device));
  return host;
}

// Binary16 and bfloat16 of small exact values (k/8 with |k| < 2048), by bits.
uint16_t ToHalf(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  const uint32_t sign = (x >> 16) & 0x8000u;
  if ((x & 0x7fffffffu) == 0) return sign;
  const int exp = static_cast<int>((x >> 23) & 0xff) - 127 + 15;
  return static_cast<uint16_t>(sign | (exp << 10) | ((x >> 13) & 0x3ff));
}
uint16_t ToBf16(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  return static_cast<uint16_t>(x >> 16);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && strcmp(argv[1], "--elems") == 0) n = strtoul(argv[2], nullptr, 10);
  const char* id_file = getenv("RING_ID_FILE");
  const char* rank_env = getenv("RANK");
  const char* world_env = getenv("WORLD_SIZE");
  if (id_file == nullptr || rank_env == nullptr || world_env == nullptr || n == 0) {
    fprintf(stderr, "ring_split: set RING_ID_FILE, RANK and WORLD_SIZE\n");
    return 2;
  }
  const int rank = atoi(rank_env), world = atoi(world_env);
  const char* local = getenv("LOCAL_RANK");
  int devices = 0;
  CUDA_OK(cudaGetDeviceCount(&devices));
  CUDA_OK(cudaSetDevice((local != nullptr ? atoi(local) : rank) % devices));
  CUDA_OK(cudaStreamCreate(&stream));

  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.commName = "world";
  ncclComm_t comm;
  NCCL_OK(
      ncclCommInitRankConfig(&comm, world, user_program::Rendezvous(id_file, rank), rank, &config));

  // 1. The ring: each round passes what arrived on to the right, plus one.
  const int right = (rank + 1) % world, left = (rank + world - 1) % world;
  std::vector<int64_t> token(n);
  for (size_t i = 0; i < n; ++i) token[i] = rank * 1000 + static_cast<int64_t>(i);
  for (int round = 0; round < 3; ++round) {
    int64_t* out = Upload(token);
    int64_t* in = Upload(std::vector<int64_t>(n, -1));
    NCCL_OK(ncclGroupStart());
    NCCL_OK(ncclSend(out, n, ncclInt64, right, comm, stream));
    NCCL_OK(ncclRecv(in, n, ncclInt64, left, comm, stream));
    NCCL_OK(ncclGroupEnd());
    token = Download(in, n);
    CUDA_OK(cudaFree(out));
    for (int64_t& v : token) v += 1;
  }

  // 2. The halves.
  const int color = rank < world / 2 ? 0 : 1;
  ncclComm_t half;
  NCCL_OK(ncclCommSplit(comm, color, world - rank, &half, nullptr));
  int half_rank = -1, half_size = 0;
  NCCL_OK(ncclCommUserRank(half, &half_rank));
  NCCL_OK(ncclCommCount(half, &half_size));
  std::vector<uint16_t> h16(n), b16(n);
  std::vector<int64_t> i64(n);
  std::vector<double> f64(n);
  for (size_t i = 0; i < n; ++i) {
    h16[i] = ToHalf(static_cast<float>((i % 64) + rank) / 8.0f);
    b16[i] = ToBf16(static_cast<float>(static_cast<int>(i % 37) - 4 * rank));
    i64[i] = (static_cast<int64_t>(rank) << 40) + static_cast<int64_t>(i) * (rank + 1);
    f64[i] = 1.0 / (1.0 + i + rank);
  }
  uint16_t* dh = Upload(h16);
  uint16_t* db = Upload(b16);
  int64_t* di = Upload(i64);
  double* dd = Upload(f64);
  NCCL_OK(ncclGroupStart());
  NCCL_OK(ncclAllReduce(dh, dh, n, ncclFloat16, ncclAvg, half, stream));
  NCCL_OK(ncclAllReduce(db, db, n, ncclBfloat16, ncclMax, half, stream));
  NCCL_OK(ncclGroupEnd());
  NCCL_OK(ncclAllReduce(di, di, n, ncclInt64, ncclSum, half, stream));
  NCCL_OK(ncclAllReduce(dd, dd, n, ncclFloat64, ncclAvg, half, stream));
  Download(dh, n);
  Download(db, n);
  const std::vector<int64_t> sums = Download(di, n);
  Download(dd, n);
  int64_t want = 0;  // element 0 of the int64 sum: every member's rank << 40
  for (int r = color * (world / 2); r < (color == 0 ? world / 2 : world); ++r)
    want += static_cast<int64_t>(r) << 40;
  if (sums[0] != want) {
    fprintf(stderr, "ring_split rank %d: half sum %" PRId64 ", expected %" PRId64 "\n", rank,
            sums[0], want);
    return 1;
  }

  // 3. All-to-all twice (by hand, then ncclAlltoAll), and a reduce to the last rank.
  std::vector<float> blocks(n * world);
  for (size_t i = 0; i < blocks.size(); ++i) blocks[i] = rank + 0.5f * (i / n) + 0.001f * (i % n);
  float* send = Upload(blocks);
  float* recv = Upload(std::vector<float>(n * world, 0.0f));
  NCCL_OK(ncclGroupStart());
  for (int peer = 0; peer < world; ++peer) {
    NCCL_OK(ncclSend(send + peer * n, n, ncclFloat, peer, comm, stream));
    NCCL_OK(ncclRecv(recv + peer * n, n, ncclFloat, peer, comm, stream));
  }
  NCCL_OK(ncclGroupEnd());
  float* again = Upload(std::vector<float>(n * world, 0.0f));
  NCCL_OK(ncclAlltoAll(send, again, n, ncclFloat, comm, stream));
  const std::vector<float> by_hand = Download(recv, n * world);
  const std::vector<float> by_nccl = Download(again, n * world);
  if (by_hand != by_nccl) {
    fprintf(stderr, "ring_split rank %d: the two all-to-alls differ\n", rank);
    return 1;
  }
  CUDA_OK(cudaFree(send));
  std::vector<int32_t> mins(n);
  for (size_t i = 0; i < n; ++i) mins[i] = static_cast<int32_t>((i * 31 + rank * 17) % 97);
  int32_t* dm = Upload(mins);
  NCCL_OK(ncclReduce(dm, dm, n, ncclInt32, ncclMin, world - 1, comm, stream));
  Download(dm, n);

  printf("ring_split rank %d: half=%d/%d digest=0x%016" PRIx64 "\n", rank, half_rank, half_size,
         digest);
  NCCL_OK(ncclCommDestroy(half));
  NCCL_OK(ncclCommDestroy(comm));
  CUDA_OK(cudaStreamDestroy(stream));
  return 0;
}
