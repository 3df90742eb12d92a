// NCCL C API: memory allocation and buffer/window registration. emu copies through host
// memory, so registration is bookkeeping: handles are checked and released, nothing is pinned.
#include <cuda_runtime_api.h>

#include <set>
#include <string>

#include "common/mutex.h"
#include "emu/facade.h"

using ddrr::Mutex;
using ddrr::MutexLock;
using namespace ddrr::emu::facade;
namespace emu = ddrr::emu;

namespace {

struct Registration {
  Comm* comm;
  void* buff;
  size_t size;
};

Mutex g_mu;
std::set<void*>* g_handles PT_GUARDED_BY(g_mu) =
    new std::set<void*>();  // leaked: may be used during exit

ncclResult_t Fail(Code code, std::string msg) {
  return ToNccl(emu::Report(Result(code, std::move(msg))));
}

ncclResult_t CheckComm(ncclComm_t comm, const char* name) {
  if (comm == nullptr)
    return Fail(Code::kInvalidArgument, std::string(name) + " : comm argument is NULL");
  if (!ToComm(comm)->IsLive()) {
    return Fail(Code::kInvalidArgument, std::string(name) + " : corrupted comm object detected");
  }
  return ncclSuccess;
}

void* AddHandle(ncclComm_t comm, void* buff, size_t size) {
  auto* reg = new Registration{ToComm(comm), buff, size};
  MutexLock lock(&g_mu);
  g_handles->insert(reg);
  return reg;
}

bool RemoveHandle(ncclComm_t comm, void* handle) {
  MutexLock lock(&g_mu);
  auto it = g_handles->find(handle);
  if (it == g_handles->end() || static_cast<Registration*>(handle)->comm != ToComm(comm)) {
    return false;
  }
  g_handles->erase(it);
  delete static_cast<Registration*>(handle);
  return true;
}

// ncclCommRegister and ncclCommWindowRegister: `*out` names the registration (`out_name`: the
// argument's name in NCCL's messages).
template <typename Handle>
ncclResult_t RegisterBuffer(const char* fn, const char* out_name, ncclComm_t comm, void* buff,
                            size_t size, Handle* out) {
  return Guarded(fn, [&] {
    ncclResult_t r = CheckComm(comm, fn);
    if (r != ncclSuccess) return r;
    if (out == nullptr) {
      return Fail(Code::kInvalidArgument, std::string(fn) + " : " + out_name + " argument is NULL");
    }
    *out = static_cast<Handle>(AddHandle(comm, buff, size));
    return ncclSuccess;
  });
}

ncclResult_t DeregisterBuffer(const char* fn, const char* what, ncclComm_t comm, void* handle) {
  return Guarded(fn, [&] {
    ncclResult_t r = CheckComm(comm, fn);
    if (r != ncclSuccess) return r;
    if (!RemoveHandle(comm, handle)) {
      return Fail(Code::kInvalidArgument, std::string(fn) + " : unknown " + what);
    }
    return ncclSuccess;
  });
}

}  // namespace

DDRR_NCCL_API(ncclResult_t, ncclMemAlloc, void** ptr, size_t size) {
  return Guarded("ncclMemAlloc", [&] {
    if (ptr == nullptr) return Fail(Code::kInvalidArgument, "ncclMemAlloc : ptr argument is NULL");
    if (size == 0) {
      *ptr = nullptr;
      return ncclSuccess;
    }
    cudaError_t err = cudaMalloc(ptr, size);
    if (err != cudaSuccess) {
      return Fail(Code::kUnhandledCudaError,
                  std::string("ncclMemAlloc : cudaMalloc failed: ") + cudaGetErrorString(err));
    }
    return ncclSuccess;
  });
}

DDRR_NCCL_API(ncclResult_t, ncclMemFree, void* ptr) {
  return Guarded("ncclMemFree", [&] {
    if (ptr == nullptr) return ncclSuccess;
    cudaError_t err = cudaFree(ptr);
    if (err != cudaSuccess) {
      return Fail(Code::kUnhandledCudaError,
                  std::string("ncclMemFree : cudaFree failed: ") + cudaGetErrorString(err));
    }
    return ncclSuccess;
  });
}

DDRR_NCCL_API(ncclResult_t, ncclCommRegister, const ncclComm_t comm, void* buff, size_t size,
              void** handle) {
  return RegisterBuffer("ncclCommRegister", "handle", comm, buff, size, handle);
}

DDRR_NCCL_API(ncclResult_t, ncclCommDeregister, const ncclComm_t comm, void* handle) {
  return DeregisterBuffer("ncclCommDeregister", "handle", comm, handle);
}

DDRR_NCCL_API(ncclResult_t, ncclCommWindowRegister, ncclComm_t comm, void* buff, size_t size,
              ncclWindow_t* win, int winFlags) {
  return RegisterBuffer("ncclCommWindowRegister", "win", comm, buff, size, win);
}

DDRR_NCCL_API(ncclResult_t, ncclCommWindowDeregister, ncclComm_t comm, ncclWindow_t win) {
  return DeregisterBuffer("ncclCommWindowDeregister", "window", comm, win);
}
