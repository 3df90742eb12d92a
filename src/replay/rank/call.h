// Call: one recorded call being replayed. The generated entries (replay_entries.cc, from
// src/spec/gen_replay.py) and the hand-written ones (custom_entries.cc) map the recorded
// arguments through it: handles through the rank's handle tables, pointers through the replay's
// allocations, devices through the placement. A handle or pointer that cannot be mapped (its
// communicator is not replayed, its memory is unknown) makes the call unresolved: it is not
// issued, and the outcome says why.
#pragma once

#include <cuda_runtime_api.h>
#include <nccl.h>

#include <cstdint>
#include <string>

#include "ddrr/trace.pb.h"

namespace ddrr::replay {

class Replayer;

struct CallOutcome {
  enum Kind {
    kIssued,       // re-issued; `result` is what it returned
    kNotReplayed,  // the function is not part of a comm replay (api_spec.py: replay=SKIP)
    kSkipped,      // replayed functions the recording makes moot here (`note` says why)
    kUnresolved,   // an argument could not be mapped (`note` says which)
  };
  Kind kind = kNotReplayed;
  int64_t result = 0;
  std::string note;
};

class Call {
 public:
  Call(Replayer& replayer, const trace::ApiCall& api, uint64_t seq)
      : replayer_(replayer), api_(api), seq_(seq) {}

  Replayer& replayer() { return replayer_; }
  const trace::ApiCall& api() const { return api_; }
  uint64_t seq() const { return seq_; }

  // Recorded -> live. An unknown value marks the call unresolved (and returns a null handle).
  ncclComm_t Comm(uint64_t recorded);
  cudaStream_t Stream(uint64_t recorded);
  cudaEvent_t Event(uint64_t recorded);
  void* Registration(uint64_t recorded);
  ncclWindow_t Window(uint64_t recorded);
  ncclRedOp_t RedOp(int64_t recorded);
  void* Pointer(uint64_t recorded);
  ncclConfig_t* Config(const trace::NcclConfig* recorded);

  void BindStream(uint64_t recorded, cudaStream_t live);
  void BindEvent(uint64_t recorded, cudaEvent_t live);
  void BindRegistration(uint64_t recorded, void* live);
  void BindWindow(uint64_t recorded, ncclWindow_t live);

  bool resolved() const { return unresolved_.empty(); }
  CallOutcome Issued(ncclResult_t result) { return {CallOutcome::kIssued, result, ""}; }
  CallOutcome Issued(cudaError_t result) { return {CallOutcome::kIssued, result, ""}; }
  CallOutcome Unresolved() { return {CallOutcome::kUnresolved, 0, unresolved_}; }
  CallOutcome Skipped(std::string why) { return {CallOutcome::kSkipped, 0, std::move(why)}; }
  CallOutcome NotReplayed() { return {CallOutcome::kNotReplayed, 0, ""}; }
  void MarkUnresolved(const std::string& what);

  // Out-arguments are valid: ncclSuccess, or ncclInProgress on a non-blocking communicator.
  static bool Succeeded(ncclResult_t r) { return r == ncclSuccess || r == ncclInProgress; }
  static bool Succeeded(cudaError_t r) { return r == cudaSuccess; }

 private:
  Replayer& replayer_;
  const trace::ApiCall& api_;
  uint64_t seq_;
  std::string unresolved_;
  ncclConfig_t config_;  // what Config() returns points here
};

// The entry for `call` (generated): maps its arguments, issues it, binds what it created.
CallOutcome ReplayCall(const trace::ApiCall& call, Call& c);

}  // namespace ddrr::replay
