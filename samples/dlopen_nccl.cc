// dlopen_nccl: uses NCCL the way XLA (nccl_stub.cc), vLLM (pynccl, through ctypes) and xgboost
// do. It is not linked against libnccl: it dlopens $DDRR_SAMPLE_NCCL_LIB (default
// "libnccl.so.2") with RTLD_NOW | RTLD_LOCAL and looks up every NCCL function it calls with
// dlsym(handle, name). Each step all-reduces (float32 sum) and broadcasts (root step % world)
// values every rank can compute, and checks them on the host. Prints
// "dlopen_nccl: OK world=N steps=S checksum=<16 hex>" (the same on every rank) and exits 0, or
// prints the first mismatch and exits 1.
#include <cuda_runtime_api.h>
#include <dlfcn.h>
#include <nccl.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "support/bootstrap.h"
#include "support/check.h"
#include "support/device_buffer.h"
#include "support/options.h"

namespace ddrr_samples {
namespace {

// The NCCL functions this program calls, each found with dlsym. decltype only names the
// declarations in nccl.h: nothing here references a NCCL symbol at link time.
struct NcclApi {
  decltype(&ncclGetVersion) GetVersion;
  decltype(&ncclGetErrorString) GetErrorString;
  decltype(&ncclGetLastError) GetLastError;
  decltype(&ncclGetUniqueId) GetUniqueId;
  decltype(&ncclCommInitRank) CommInitRank;
  decltype(&ncclCommCount) CommCount;
  decltype(&ncclCommUserRank) CommUserRank;
  decltype(&ncclAllReduce) AllReduce;
  decltype(&ncclBroadcast) Broadcast;
  decltype(&ncclCommGetAsyncError) CommGetAsyncError;
  decltype(&ncclCommFinalize) CommFinalize;
  decltype(&ncclCommDestroy) CommDestroy;
};

template <typename Fn>
void Bind(void* library, const char* name, Fn* slot) {
  void* symbol = dlsym(library, name);
  if (symbol == nullptr) {
    fprintf(stderr, "%scannot find %s: %s\n", LogPrefix(), name, dlerror());
    exit(kExitFailure);
  }
  *slot = reinterpret_cast<Fn>(symbol);
}

NcclApi LoadNccl(const char* path) {
  void* library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    fprintf(stderr, "%scannot load %s: %s\n", LogPrefix(), path, dlerror());
    exit(kExitFailure);
  }
  NcclApi api;
  Bind(library, "ncclGetVersion", &api.GetVersion);
  Bind(library, "ncclGetErrorString", &api.GetErrorString);
  Bind(library, "ncclGetLastError", &api.GetLastError);
  Bind(library, "ncclGetUniqueId", &api.GetUniqueId);
  Bind(library, "ncclCommInitRank", &api.CommInitRank);
  Bind(library, "ncclCommCount", &api.CommCount);
  Bind(library, "ncclCommUserRank", &api.CommUserRank);
  Bind(library, "ncclAllReduce", &api.AllReduce);
  Bind(library, "ncclBroadcast", &api.Broadcast);
  Bind(library, "ncclCommGetAsyncError", &api.CommGetAsyncError);
  Bind(library, "ncclCommFinalize", &api.CommFinalize);
  Bind(library, "ncclCommDestroy", &api.CommDestroy);
  return api;  // the library stays loaded: NCCL is never unloaded by the programs this mimics
}

const NcclApi* g_api = nullptr;

void Check(ncclResult_t result, const char* call, const char* file, int line) {
  if (result != ncclSuccess) {
    DieNcclText(result, g_api->GetErrorString(result), g_api->GetLastError(nullptr), call, file,
                line);
  }
}
#define API_CHECK(call) Check((call), #call, __FILE__, __LINE__)

void Wait(cudaStream_t stream, ncclComm_t comm) {
  CUDA_CHECK(cudaStreamSynchronize(stream));
  ncclResult_t async_error = ncclSuccess;
  API_CHECK(g_api->CommGetAsyncError(comm, &async_error));
  API_CHECK(async_error);
}

// 64-bit FNV-1a, folded over every checked result.
uint64_t Fold(uint64_t hash, const std::vector<float>& values) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(values.data());
  for (size_t i = 0; i < values.size() * sizeof(float); ++i) {
    hash = (hash ^ bytes[i]) * 0x100000001b3ull;
  }
  return hash;
}

void Expect(const std::vector<float>& got, const std::vector<float>& want, const char* what,
            int step, int rank) {
  for (size_t i = 0; i < want.size(); ++i) {
    if (got[i] != want[i]) {
      printf("dlopen_nccl: MISMATCH on rank %d in %s of step %d: element %zu is %g, expected %g\n",
             rank, what, step, i, got[i], want[i]);
      exit(kExitFailure);
    }
  }
}

// Small integers: every sum is exact in float32.
float Contribution(int rank, size_t i, int step) {
  return static_cast<float>((rank + 1) * static_cast<int>(i % 7 + 1) + step);
}

int Run(int argc, char** argv) {
  const SampleSpec spec{
      .name = "dlopen_nccl",
      .summary =
          "Loads NCCL with dlopen (never linked) and calls it through dlsym'd pointers:\n"
          "one AllReduce and one Broadcast per step, checked on the host.",
      .steps_help = "steps (one AllReduce and one Broadcast each)",
      .size_help = "elements per collective",
      .default_steps = 4,
      .default_size = 1024,
      .fault_step_help = "",
      .faults = {},
      .extras = {},
  };
  const Options options = ParseOptions(argc, argv, spec);
  const JobInfo job = DetectJob();
  SetLogIdentity(spec.name, job.rank);
  const int rank = job.rank;
  const int n = job.world_size;
  const char* path = getenv("DDRR_SAMPLE_NCCL_LIB");
  if (path == nullptr || *path == '\0') path = "libnccl.so.2";
  const NcclApi api = LoadNccl(path);
  g_api = &api;
  int version = 0;
  API_CHECK(api.GetVersion(&version));
  const int device = SelectDevice(job, false);
  fprintf(stderr, "%sdevice %d of world %d, NCCL %d from %s (dlopen)\n", LogPrefix(), device, n,
          version, path);

  cudaStream_t stream;
  CUDA_CHECK(cudaStreamCreate(&stream));
  const ncclUniqueId id = ShareUniqueId(job, "main", [&api] {
    ncclUniqueId created;
    API_CHECK(api.GetUniqueId(&created));
    return created;
  });
  ncclComm_t comm;
  API_CHECK(api.CommInitRank(&comm, n, id, rank));
  int count = 0, user_rank = -1;
  API_CHECK(api.CommCount(comm, &count));
  API_CHECK(api.CommUserRank(comm, &user_rank));
  if (count != n || user_rank != rank) {
    printf("dlopen_nccl: MISMATCH on rank %d: communicator has size %d and rank %d\n", rank, count,
           user_rank);
    return kExitFailure;
  }

  const size_t size = options.size;
  DeviceBuffer<float> buffer(size);
  std::vector<float> values(size), want(size);
  uint64_t checksum = 0xcbf29ce484222325ull;
  for (int step = 0; step < options.steps; ++step) {
    for (size_t i = 0; i < size; ++i) {
      values[i] = Contribution(rank, i, step);
      want[i] = 0;
      for (int r = 0; r < n; ++r) want[i] += Contribution(r, i, step);
    }
    buffer.CopyFrom(values);
    API_CHECK(api.AllReduce(buffer.get(), buffer.get(), size, ncclFloat32, ncclSum, comm, stream));
    Wait(stream, comm);
    if (step == 0) RetireUniqueId(job, "main");  // every rank has joined: the file is read
    std::vector<float> got = buffer.ToHost();
    Expect(got, want, "AllReduce", step, rank);
    checksum = Fold(checksum, got);

    const int root = step % n;
    for (size_t i = 0; i < size; ++i)
      want[i] = static_cast<float>(root * 1000 + step + static_cast<int>(i % 100));
    buffer.CopyFrom(rank == root ? want : std::vector<float>(size, -1.0f));
    API_CHECK(api.Broadcast(buffer.get(), buffer.get(), size, ncclFloat32, root, comm, stream));
    Wait(stream, comm);
    got = buffer.ToHost();
    Expect(got, want, "Broadcast", step, rank);
    checksum = Fold(checksum, got);
  }

  API_CHECK(api.CommFinalize(comm));
  API_CHECK(api.CommDestroy(comm));
  CUDA_CHECK(cudaStreamDestroy(stream));
  printf("dlopen_nccl: OK world=%d steps=%d checksum=%016llx\n", n, options.steps,
         static_cast<unsigned long long>(checksum));
  return 0;
}

}  // namespace
}  // namespace ddrr_samples

int main(int argc, char** argv) { return ddrr_samples::Run(argc, argv); }
