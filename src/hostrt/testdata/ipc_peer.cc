// A second program on the host runtime for ipc_test.cc: exec'd (so it shares nothing with the
// test process but what IPC gives it), it opens the handle given in hex, checks the owner's
// pattern, writes its reply over the first `reply_bytes` bytes and closes the handle.
// Usage: ipc_peer HANDLE_HEX SIZE REPLY_BYTE. Exit 0 when all went as expected.
#include <cuda_runtime_api.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

int main(int argc, char** argv) {
  if (argc != 4 || strlen(argv[1]) != 2 * sizeof(cudaIpcMemHandle_t)) {
    fprintf(stderr, "usage: ipc_peer HANDLE_HEX SIZE REPLY_BYTE\n");
    return 2;
  }
  cudaIpcMemHandle_t handle;
  for (size_t i = 0; i < sizeof(handle); ++i) {
    handle.reserved[i] = static_cast<char>(std::stoi(std::string(argv[1] + 2 * i, 2), nullptr, 16));
  }
  size_t size = std::strtoull(argv[2], nullptr, 10);
  int reply = std::atoi(argv[3]);

  unsigned char* mapped = nullptr;
  cudaError_t error = cudaIpcOpenMemHandle(reinterpret_cast<void**>(&mapped), handle,
                                           cudaIpcMemLazyEnablePeerAccess);
  if (error != cudaSuccess) {
    fprintf(stderr, "open: %s\n", cudaGetErrorName(error));
    return 1;
  }
  for (size_t i = 0; i < size; ++i) {
    if (mapped[i] != static_cast<unsigned char>(i % 251)) {
      fprintf(stderr, "byte %zu is %d\n", i, mapped[i]);
      return 1;
    }
  }
  error = cudaMemset(mapped, reply, 4096);
  if (error == cudaSuccess) error = cudaIpcCloseMemHandle(mapped);
  if (error != cudaSuccess) {
    fprintf(stderr, "memset/close: %s\n", cudaGetErrorName(error));
    return 1;
  }
  printf("peer ok\n");
  return 0;
}
