// What the generated wrappers (wrappers.cc, from src/spec/gen_wrappers.py) stand on: resolving the
// real function, the call-depth guard, timing, communicator keys and op numbers, and the event that
// goes to the recorder. Everything here passes through on internal failure: a wrapper always
// returns exactly what the real function returned.
#pragma once

#include <cuda_runtime_api.h>
#include <curand.h>
#include <nccl.h>

#include <cstdint>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/nccl_datatype.h"
#include "common/symbol_resolver.h"
#include "interpose/data_capture.h"
#include "spec/api_encode.h"
#include "spec/api_table.h"
#include "trace/wire_encoder.h"

#define DDRR_EXPORT __attribute__((visibility("default")))

namespace ddrr::interpose {

enum class Library { kNccl, kCudart, kCurand };

// The real function: pncclX / cudaX from the next object in lookup order, else from the library
// found with dlopen(RTLD_NOLOAD) (NCCL loaded RTLD_LOCAL by Python). nullptr if not found.
void* Resolve(Library lib, const char* name);

// Typed: the real `name` as an Fn, null when not found. DDRR_REAL(kCudart, cudaMemcpyAsync)
// takes the type from the declaration.
template <typename Fn>
Fn Real(Library lib, const char* name) {
  return reinterpret_cast<Fn>(Resolve(lib, name));
}
#define DDRR_REAL(lib, fn) \
  ::ddrr::interpose::Real<decltype(&fn)>(::ddrr::interpose::Library::lib, #fn)

using ::ddrr::SameObject;  // both addresses in one loaded object (common/symbol_resolver.h)
bool InLibddrr(const void* p);

// What a wrapper returns when the real function cannot be found (warned once).
template <typename R>
R Missing(const char* name);
void Missing(const char* name);

uint64_t NowNs();  // CLOCK_MONOTONIC, read through the TSC where it can be (common/fast_clock.h)

using ::ddrr::DatatypeBytes;  // bytes per element of an NCCL datatype

// True while this thread is inside an intercepted call (NCCL reading /dev/urandom for its own
// unique id is NCCL's business, not entropy handed to the application).
bool InsideInterceptedCall();

// Writes this thread's kernel-launch counts (launches.cc) as KernelLaunches events, then resets
// them; called just before a collective is recorded.
void FlushLaunchCounts(uint64_t time_ns);

// Records only the outermost intercepted call of a thread (NCCL calls its own public functions)
// and only while recording is on; constructed before the real call.
class CallGuard {
 public:
  CallGuard();
  ~CallGuard();
  bool recording() const { return recording_; }
  bool replaying() const { return replaying_; }  // application replay (app_replay.h)

 private:
  bool recording_;
  bool replaying_;
};

// One ApiCall being recorded: the wrapper encodes the arguments into encoder(), then Commit().
class CallEvent {
 public:
  CallEvent(trace::FunctionId fn, uint64_t t0, int64_t result);
  trace::WireEncoder& encoder() { return encoder_; }
  // The call acts on `comm`: its job-wide key; collectives and p2p also take the next op number.
  void OnComm(ncclComm_t comm, bool counts_op);
  // A created communicator: registers `comm` under `key` and makes it this call's comm_key.
  void OnCreated(ncclComm_t comm, uint64_t key, int nranks, int rank);
  void OnGroup(trace::FunctionId fn);  // GroupStart/GroupEnd nesting (after a successful call)
  // Collectives and p2p: the stream they were enqueued on (completion tracking; a call made
  // while the stream captures a CUDA graph is tagged graph_captured and not tracked: it runs at
  // each graph launch).
  void OnStream(cudaStream_t stream);
  // `data`: the call's staged buffers (collectives and p2p at the digests/payloads levels).
  void Commit(DataCapture* data = nullptr);
  bool succeeded() const { return result_ == ncclSuccess || result_ == ncclInProgress; }

 private:
  void AskShape(ncclComm_t comm);

  trace::FunctionId fn_;
  uint64_t t0_, t1_;
  int64_t result_;
  uint64_t comm_key_ = 0;
  uint64_t op_seq_ = 0;
  bool counts_op_ = false;
  cudaStream_t stream_ = nullptr;
  bool graph_captured_ = false;
  uint32_t group_depth_;
  int created_nranks_ = 0, created_rank_ = 0;  // a split's or shrink's new communicator
  size_t body_;
  trace::WireEncoder& encoder_;
};

// A blocking call in progress (api_spec.py `blocking`): marks the thread's slot of the spool's
// in-flight table before the call goes through, clears it when it returns. A few relaxed stores
// to the thread's own cache line: no lock, no event.
class InFlightCall {
 public:
  InFlightCall(bool recording, trace::FunctionId fn, const void* comm, int64_t detail, uint64_t t0);
  ~InFlightCall();
  InFlightCall(const InFlightCall&) = delete;
  InFlightCall& operator=(const InFlightCall&) = delete;

 private:
  void* slot_ = nullptr;  // record::InFlightSlot
};

// Argument conversions for the encoders.
template <typename T>
inline auto Scalar(T v) {
  if constexpr (std::is_pointer_v<T>) {
    return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(v));
  } else if constexpr (std::is_enum_v<T>) {
    return static_cast<int64_t>(v);
  } else if constexpr (std::is_floating_point_v<T>) {
    return v;
  } else if constexpr (std::is_signed_v<T>) {
    return static_cast<int64_t>(v);
  } else {
    return static_cast<uint64_t>(v);
  }
}
template <typename R>
int64_t ResultCode(R r) {
  if constexpr (std::is_pointer_v<R>) {
    return 0;  // ncclGetErrorString / ncclGetLastError return text, not a code
  } else {
    return static_cast<int64_t>(r);
  }
}
std::string_view UniqueIdBytes(const ncclUniqueId* id);
std::span<const std::string_view> UniqueIds(const ncclUniqueId* ids, int n);
std::span<const int64_t> Ints(const int* v, int n);
std::span<const uint64_t> Handles(const ncclComm_t* v, int n);
const trace::NcclConfigValue* Config(const ncclConfig_t* config);
std::string_view ScalarBytes(const void* scalar, ncclDataType_t datatype,
                             ncclScalarResidence_t residence);

// Communicator creation: job-wide keys that every rank computes alike (docs/DESIGN.md "Trace").
namespace hooks {
void NcclCommInitRank(CallEvent& ev, ncclComm_t* comm, int nranks, ncclUniqueId id, int rank);
void NcclCommInitRankConfig(CallEvent& ev, ncclComm_t* comm, int nranks, ncclUniqueId id, int rank,
                            ncclConfig_t* config);
void NcclCommInitAll(CallEvent& ev, ncclComm_t* comms, int ndev, const int* devlist);
void NcclCommInitRankScalable(CallEvent& ev, ncclComm_t* comm, int nranks, int rank, int n_id,
                              ncclUniqueId* ids, ncclConfig_t* config);
void NcclCommSplit(CallEvent& ev, ncclComm_t parent, int color, int key, ncclComm_t* newcomm,
                   ncclConfig_t* config);
void NcclCommShrink(CallEvent& ev, ncclComm_t parent, int* exclude, int n_exclude,
                    ncclComm_t* newcomm, ncclConfig_t* config, int flags);
}  // namespace hooks

}  // namespace ddrr::interpose
