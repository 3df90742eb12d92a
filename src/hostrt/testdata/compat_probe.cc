// Built against NVIDIA's toolkit (CUDA::cudart, CUDA::curand) and run by compat_test.cc with the
// host runtime first on LD_LIBRARY_PATH: proves binary compatibility of the host runtime.
//   compat_probe            exercise a typical program's calls; exit 0 when all behave
//   compat_probe errors     print "code<TAB>name<TAB>message" for every cudaError_t value
#include <cuda_runtime_api.h>
#include <curand.h>
#include <dlfcn.h>

#include <cstdio>
#include <cstring>

#define CHECK(call)                                        \
  do {                                                     \
    cudaError_t e = (call);                                \
    if (e != cudaSuccess) {                                \
      printf("FAIL %s: %s\n", #call, cudaGetErrorName(e)); \
      return 1;                                            \
    }                                                      \
  } while (0)

static int PrintErrors() {
  for (int code = 0; code < 1000; ++code) {
    cudaError_t e = static_cast<cudaError_t>(code);
    printf("%d\t%s\t%s\n", code, cudaGetErrorName(e), cudaGetErrorString(e));
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "errors") == 0) return PrintErrors();
  Dl_info info;
  auto* malloc_entry = static_cast<cudaError_t (*)(void**, size_t)>(&cudaMalloc);
  if (dladdr(reinterpret_cast<void*>(malloc_entry), &info) != 0) {
    printf("cudart %s\n", info.dli_fname);
  }
  int count = 0;
  CHECK(cudaGetDeviceCount(&count));
  printf("devices %d\n", count);
  cudaDeviceProp prop;
  CHECK(cudaGetDeviceProperties(&prop, count - 1));
  printf("name %s\n", prop.name);
  CHECK(cudaSetDevice(count - 1));
  int values[4] = {1, 2, 3, 4}, back[4] = {};
  int* device = nullptr;
  CHECK(cudaMalloc(&device, sizeof(values)));
  cudaStream_t stream;
  CHECK(cudaStreamCreate(&stream));
  CHECK(cudaMemcpyAsync(device, values, sizeof(values), cudaMemcpyHostToDevice, stream));
  CHECK(cudaMemcpyAsync(back, device, sizeof(values), cudaMemcpyDeviceToHost, stream));
  CHECK(cudaStreamSynchronize(stream));
  printf("copy %s\n", memcmp(values, back, sizeof(values)) == 0 ? "ok" : "mismatch");
  cudaPointerAttributes attributes;
  CHECK(cudaPointerGetAttributes(&attributes, device));
  printf("attributes type %d device %d\n", static_cast<int>(attributes.type), attributes.device);
  CHECK(cudaFree(device));
  CHECK(cudaStreamDestroy(stream));

  curandGenerator_t generator;
  if (curandCreateGenerator(&generator, CURAND_RNG_PSEUDO_DEFAULT) != CURAND_STATUS_SUCCESS) {
    printf("FAIL curandCreateGenerator\n");
    return 1;
  }
  float uniform[8];
  curandSetPseudoRandomGeneratorSeed(generator, 1234);
  curandStatus_t status = curandGenerateUniform(generator, uniform, 8);
  printf("curand %d %s\n", static_cast<int>(status),
         uniform[0] > 0 && uniform[0] <= 1 ? "ok" : "bad");
  curandDestroyGenerator(generator);
  printf("EXIT-SUCCESS\n");
  return 0;
}
