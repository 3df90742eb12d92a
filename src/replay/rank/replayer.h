// Replayer: the live state of one replay rank: what each recorded handle, allocation and device
// is now. The entries (replay_entries.cc, custom_entries.cc) read and extend it through Call;
// the executor owns it. Recorded handles are remembered by their recorded value; a value the
// program reused after destroying its first owner simply rebinds.
//
// Thread-safety: every method may be called from any replay thread; the tables are guarded by
// one mutex (held only for lookups, never across a call into NCCL or CUDA).
#pragma once

#include <cuda_runtime_api.h>
#include <nccl.h>

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/mutex.h"
#include "common/status.h"
#include "ddrr/replay.pb.h"
#include "replay/rank/rendezvous.h"

namespace ddrr::replay {

// What a replay rank knows of a communicator handle it created.
struct CommBinding {
  ncclComm_t live = nullptr;
  uint64_t key = 0;  // recorded job-wide key
  int size = -1;     // its size (-1: unknown)
  int rank = -1;     // this member's rank in it (-1: unknown)
};

class Replayer {
 public:
  Replayer(const ReplayPlan& plan, const RankPlan& rank);

  const ReplayPlan& plan() const { return plan_; }
  const RankPlan& rank_plan() const { return rank_; }
  int64_t rank() const { return rank_.rank(); }
  Rendezvous& rendezvous() { return rendezvous_; }

  // Allocates the plan's regions (memory used with no recorded allocation) on the initial
  // device. Called once before the first call.
  Status AllocateRegions();

  // Communicators.
  const PlanComm* FindPlanComm(uint64_t key) const;  // nullptr: not in the plan
  bool CommReplayed(uint64_t key) const;
  // This rank's comm rank in a planned communicator (-1: not a member or ambiguous).
  int PlanCommRank(uint64_t key) const;
  void BindComm(uint64_t recorded, const CommBinding& binding);
  std::optional<CommBinding> FindComm(uint64_t recorded) const;
  // The n-th creation of communicator `key` on this rank (0 first): names its rendezvous.
  uint32_t NextCreation(uint64_t key);
  // Polls a non-blocking communicator until it settles (its state is no longer ncclInProgress)
  // or the replay's timeout passes. Returns the last poll's result; `*state`: what it reported.
  ncclResult_t WaitSettled(ncclComm_t comm, ncclResult_t* state) const;

  // Handles. Unknown streams and events (made where ddrr could not see) are created on first
  // use; unknown communicators, registrations and windows are not found.
  std::optional<cudaStream_t> Stream(uint64_t recorded);
  std::optional<cudaEvent_t> Event(uint64_t recorded);
  std::optional<void*> Registration(uint64_t recorded) const;
  std::optional<ncclWindow_t> Window(uint64_t recorded) const;
  std::optional<ncclRedOp_t> RedOp(int64_t recorded) const;
  void BindStream(uint64_t recorded, cudaStream_t live);
  void BindEvent(uint64_t recorded, cudaEvent_t live);
  void BindRegistration(uint64_t recorded, void* live);
  void BindWindow(uint64_t recorded, ncclWindow_t live);
  void BindRedOp(int64_t recorded, ncclRedOp_t live);

  // Memory.
  // Bytes to allocate for the recorded allocation made by call `seq` (0: NCCL never uses it).
  uint64_t AllocationBytes(uint64_t seq) const;
  void BindAllocation(uint64_t recorded_base, uint64_t recorded_size, void* live);
  // The live base of the recorded allocation at `recorded_base`, removed; nullptr if none.
  void* UnbindAllocation(uint64_t recorded_base);
  // Where a recorded address is now; nullopt when no replayed allocation or region holds it.
  std::optional<void*> Translate(uint64_t recorded) const;

  // Devices.
  std::optional<int> Device(int recorded) const;
  int InitialDevice() const;

  // Text that must outlive the call it was passed to (ncclConfig_t's names).
  const char* Keep(const std::string& text);

 private:
  struct Allocation {
    uint64_t recorded_size;
    void* live;
  };

  const ReplayPlan& plan_;
  const RankPlan& rank_;
  Rendezvous rendezvous_;
  std::unordered_map<uint64_t, const PlanComm*> plan_comms_;
  std::unordered_map<uint64_t, uint64_t> allocation_bytes_;  // call seq -> bytes
  std::map<int, int> devices_;

  mutable Mutex mu_;
  std::unordered_map<uint64_t, CommBinding> comms_ GUARDED_BY(mu_);
  std::unordered_map<uint64_t, cudaStream_t> streams_ GUARDED_BY(mu_);
  std::unordered_map<uint64_t, cudaEvent_t> events_ GUARDED_BY(mu_);
  std::unordered_map<uint64_t, void*> registrations_ GUARDED_BY(mu_);
  std::unordered_map<uint64_t, ncclWindow_t> windows_ GUARDED_BY(mu_);
  std::unordered_map<int64_t, ncclRedOp_t> redops_ GUARDED_BY(mu_);
  std::map<uint64_t, Allocation> memory_ GUARDED_BY(mu_);  // by recorded base
  std::unordered_map<uint64_t, uint32_t> creations_ GUARDED_BY(mu_);
  std::deque<std::string> kept_ GUARDED_BY(mu_);
};

}  // namespace ddrr::replay
