// A typed cudaMalloc'd array that frees itself, plus whole-buffer copies to and from host
// vectors. The samples compute on host copies (no kernels), so these copies are the only way
// data moves between host and device.
#ifndef DDRR_SAMPLES_COMMON_DEVICE_BUFFER_H_
#define DDRR_SAMPLES_COMMON_DEVICE_BUFFER_H_

#include <cuda_runtime_api.h>

#include <cstddef>
#include <utility>
#include <vector>

#include "support/check.h"

namespace ddrr_samples {

template <typename T>
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t count) : count_(count) {
    // Never a zero-byte allocation: some runtimes return null for it, and NCCL rejects null
    // buffers even with a zero count.
    CUDA_CHECK(cudaMalloc(&data_, (count > 0 ? count : 1) * sizeof(T)));
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer(DeviceBuffer&& other) noexcept { *this = std::move(other); }
  DeviceBuffer& operator=(DeviceBuffer&& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(count_, other.count_);
    return *this;
  }
  ~DeviceBuffer() {
    // Not CUDA_CHECK: a destructor must not exit, and a failure here changes nothing.
    if (data_ != nullptr) cudaFree(data_);
  }

  T* get() const { return data_; }
  size_t count() const { return count_; }

  void CopyFrom(const std::vector<T>& host) {
    CUDA_CHECK(cudaMemcpy(data_, host.data(), host.size() * sizeof(T), cudaMemcpyHostToDevice));
  }
  std::vector<T> ToHost() const {
    std::vector<T> host(count_);
    CUDA_CHECK(cudaMemcpy(host.data(), data_, count_ * sizeof(T), cudaMemcpyDeviceToHost));
    return host;
  }

 private:
  T* data_ = nullptr;
  size_t count_ = 0;
};

}  // namespace ddrr_samples

#endif  // DDRR_SAMPLES_COMMON_DEVICE_BUFFER_H_
