// Built by nvcc (-cudart shared) against NVIDIA's toolkit: a program with a __global__ kernel and
// a __device__ variable must load on the host runtime, and its launch must fail cleanly.
#include <cstdio>

__device__ int g_offset;

__global__ void AddOffset(int* data) { data[threadIdx.x] += g_offset; }

int main() {
  int* data = nullptr;
  cudaError_t e = cudaMalloc(&data, 16 * sizeof(int));
  printf("malloc %s\n", cudaGetErrorName(e));
  int offset = 7, back = 0;
  e = cudaMemcpyToSymbol(g_offset, &offset, sizeof(offset));
  cudaMemcpyFromSymbol(&back, g_offset, sizeof(back));
  printf("symbol %s %d\n", cudaGetErrorName(e), back);
  AddOffset<<<1, 16>>>(data);
  e = cudaGetLastError();
  printf("launch %d %s: %s\n", static_cast<int>(e), cudaGetErrorName(e), cudaGetErrorString(e));
  e = cudaDeviceSynchronize();
  printf("sync %s\n", cudaGetErrorName(e));
  cudaFree(data);
  return 0;
}
