// What nvcc-generated startup code registers (__cudaRegisterFatBinary, __cudaRegisterFunction,
// __cudaRegisterVar, __cudaRegisterManagedVar): kernel names, so that the "needs a GPU" message
// can name the kernel, and device variables, whose host shadow serves as their storage here.
// The device code itself is never loaded. Thread-safe.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <optional>
#include <string>

namespace ddrr::hostrt {

// The kernel handle for a host stub (the address of the __global__ function in host code);
// a stub nvcc never registered still gets a handle, named "<unregistered kernel>".
cudaKernel_t KernelForStub(const void* host_stub);

// The (mangled) device name of a kernel handle.
std::string KernelName(cudaKernel_t kernel);

// The size registered for a device variable whose host shadow is at `symbol`.
std::optional<size_t> RegisteredVariableSize(const void* symbol);

}  // namespace ddrr::hostrt
