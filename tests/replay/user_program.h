// What the user-style test programs (ring_split, zero_step, seeded_id) share, written as a user
// would: check macros that exit on the first failure, an FNV-1a digest of results, and a
// rendezvous through a file (rank 0 writes the unique id under a temporary name and renames it
// into place; the others poll for it). They link nothing of ddrr.
#pragma once

#include <nccl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#define CUDA_OK(call)                                                                       \
  do {                                                                                      \
    cudaError_t e_ = (call);                                                                \
    if (e_ != cudaSuccess) {                                                                \
      fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(e_)); \
      exit(1);                                                                              \
    }                                                                                       \
  } while (0)
#define NCCL_OK(call)                                                                       \
  do {                                                                                      \
    ncclResult_t r_ = (call);                                                               \
    if (r_ != ncclSuccess) {                                                                \
      fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #call, ncclGetErrorString(r_)); \
      exit(1);                                                                              \
    }                                                                                       \
  } while (0)

namespace user_program {

constexpr uint64_t kFnvSeed = 1469598103934665603ull;

// Folds `bytes` into the FNV-1a digest `h`.
inline uint64_t Fnv1a(uint64_t h, const void* data, size_t bytes) {
  for (size_t i = 0; i < bytes; ++i)
    h = (h ^ static_cast<const uint8_t*>(data)[i]) * 1099511628211ull;
  return h;
}

inline ncclUniqueId Rendezvous(const std::string& path, int rank) {
  ncclUniqueId id;
  if (rank == 0) {
    NCCL_OK(ncclGetUniqueId(&id));
    const std::string tmp = path + ".part";
    FILE* f = fopen(tmp.c_str(), "wb");
    if (f == nullptr || fwrite(&id, sizeof(id), 1, f) != 1 || fclose(f) != 0 ||
        rename(tmp.c_str(), path.c_str()) != 0) {
      perror(path.c_str());
      exit(1);
    }
    return id;
  }
  for (int tries = 0; tries < 3000; ++tries, usleep(10000)) {
    FILE* f = fopen(path.c_str(), "rb");
    if (f == nullptr) continue;
    const bool ok = fread(&id, sizeof(id), 1, f) == 1;
    fclose(f);
    if (ok) return id;
  }
  fprintf(stderr, "rank %d: no unique id in %s\n", rank, path.c_str());
  exit(1);
}

}  // namespace user_program
