// Shared helpers of the libnccl.so.2 facade: how an NCCL entry point is declared and exported,
// how emu results become ncclResult_t, and how the C handle maps onto emu::Comm.
#pragma once

#include <nccl.h>

#include <exception>

#include "common/log.h"
#include "emu/api.h"
#include "emu/comm.h"

// Defines the strong pnccl<name> and makes nccl<name> a weak alias of it, as real NCCL does
// (profiling layers and ddrr's interposer call the pnccl names). Follow with the body.
#define DDRR_NCCL_API(ret, name, ...)                                                              \
  extern "C" __attribute__((visibility("default"))) ret p##name(__VA_ARGS__);                      \
  extern "C" __attribute__((visibility("default"), weak, alias("p" #name))) ret name(__VA_ARGS__); \
  extern "C" __attribute__((visibility("default"))) ret p##name(__VA_ARGS__)

namespace ddrr::emu::facade {

// The emu types every facade file speaks of (`using namespace ddrr::emu::facade` brings them).
using emu::Code;
using emu::Comm;
using emu::Result;

inline ncclResult_t ToNccl(const Result& r) { return static_cast<ncclResult_t>(r.code()); }

inline Comm* ToComm(ncclComm_t comm) { return reinterpret_cast<Comm*>(comm); }
inline ncclComm_t ToHandle(Comm* comm) { return reinterpret_cast<ncclComm_t>(comm); }

// No exception may cross the C ABI: anything thrown becomes ncclInternalError.
template <typename F>
ncclResult_t Guarded(const char* name, F&& body) noexcept {
  try {
    return body();
  } catch (const std::exception& e) {
    return ToNccl(
        Report(Result(Code::kInternalError, std::string("ddrr emu: ") + name + ": " + e.what())));
  } catch (...) {
    return ToNccl(Report(
        Result(Code::kInternalError, std::string("ddrr emu: ") + name + ": unknown exception")));
  }
}

// The memory seam bound to the CUDA runtime (cudaMemcpyAsync + cudaStreamSynchronize).
MemoryOps* CudaMemoryOps();
// Options for a rank on the calling thread's current CUDA device, with `config` applied.
// Fails like NCCL when the config was not made with NCCL_CONFIG_INITIALIZER.
Result OptionsForCurrentDevice(const ncclConfig_t* config, CommOptions* options);

// Applies the fields of `config` that matter to emu (null: nothing).
Result ApplyConfig(const ncclConfig_t* config, CommOptions* options);

}  // namespace ddrr::emu::facade
