// The interposer's replay mode (application replay, docs/REPLAY.md): the program runs under
// libddrr.so against a replay script (replay/app/script_format.h) compiled from one recorded
// rank. Each intercepted call is matched with the next recorded call of the same thread (threads
// paired in order of their first call) and compared: function, arguments as `ddrr dump` numbers
// them, and for calls served from the recording the input buffer's digest. Calls that reach
// ranks that do not run are served: their outputs and result come from the recording. Entropy
// is handed back as recorded; RNG states are compared (or handed back with --restore-rng).
//
// Configured by the variables `ddrr replay` sets: DDRR_REPLAY_DIR (holding rank-<RANK>.script;
// results go to rank-<RANK>.result beside it), DDRR_REPLAY_ON_DIVERGENCE (stop | report |
// ignore), DDRR_REPLAY_RESTORE_RNG (1: hand recorded RNG states back). Without them the
// interposer only records.
//
// The first difference with `stop` ends the program with exit status 1 once the divergence is
// written (and the replay's own trace closed). Nothing here crashes the program: a call that
// no longer matches a served communicator fails with ncclInvalidUsage rather than reach NCCL
// with a handle NCCL never made.
#pragma once

#include <cuda_runtime_api.h>
#include <nccl.h>

#include <cstddef>
#include <cstdint>

#include "spec/api_table.h"

namespace ddrr::interpose {

// Loads the script when DDRR_REPLAY_DIR says so; called once by the session's start.
void StartAppReplay();
// True once a script is loaded (starts the session first, as CallGuard does).
bool Replaying();
// The same without starting the session: for hooks that may run inside its start-up.
bool ReplayLoaded();
// Writes the replay's end ("end ok|diverged ..."); the session calls it at exit.
void FinishAppReplay();

// A served communicator's shape; false for a handle NCCL made.
bool VirtualCommShape(ncclComm_t comm, int* nranks, int* rank);

// Entropy the program asks for: true when replaying, with `buf` filled from the recording and
// `*served` bytes handed over (a divergence is noted when the recording has none left, or a
// draw of another size).
bool ReplayEntropy(int32_t source, void* buf, size_t len, size_t* served);
// The program marks a step (ddrr_mark): a resumed program reaches its resume step.
void ReplayMark(int64_t step);
// An RNG state the program records: compared with the recording (or, with restore, the
// recorded state is kept for ReplayRestoreRng).
void ReplayRng(const char* name, const void* bytes, size_t len);
// With --restore-rng: the recorded state of the last ReplayRng of `name`; 0 otherwise.
size_t ReplayRestoreRng(const char* name, void* bytes, size_t capacity);

// One intercepted call in replay mode; the generated wrappers drive it (gen_wrappers.py).
class ReplayStep {
 public:
  ReplayStep(trace::FunctionId fn, bool replaying);
  ReplayStep(const ReplayStep&) = delete;
  ReplayStep& operator=(const ReplayStep&) = delete;

  bool active() const { return active_; }

  // Arguments before the call, by their index in api_spec.py.
  void Scalar(int i, int64_t v) { Value(i, static_cast<uint64_t>(v)); }
  void Scalar(int i, uint64_t v) { Value(i, v); }
  void Scalar(int i, double v);
  void Pointer(int i, const void* p);
  void Handle(int i, const char* family, const void* h);
  // The input buffer (index i): its digest is compared when the call is served.
  void Input(int i, const void* buffer, cudaStream_t stream);
  // Compares what was given with the recording; may end the program (stop).
  void Check();

  bool serves() const { return active_ && serve_; }
  // A served call that succeeded when recorded: it writes what the recording wrote.
  bool writes_outputs() const;
  int64_t recorded_result() const;
  int MapDevice(int device) const;
  void WaitForQuery(cudaStream_t stream) const;
  void WaitForQuery(cudaEvent_t event) const;

  // What a served call writes.
  int64_t OutScalar(int i) const;
  double OutFloat(int i) const;
  void OutBytes(int i, void* dst, size_t n) const;
  void* NewHandle(int i, const char* family, int element = 0) const;
  void WriteOutput(void* buffer, cudaStream_t stream);

  // After the call (served or real): created handles, allocations, the result.
  void OutHandle(int i, const char* family, const void* h);
  void Allocated(const void* p, size_t size);
  void Freed(const void* p);
  // The result the program gets: the real one, or the recorded one for a served call or a group
  // of served calls; a real result that is not the recorded one is a divergence.
  int64_t After(int64_t result);

 private:
  void Value(int i, uint64_t v);
  void Number();
  void Diverge(const char* what, int arg = -1);

  bool active_ = false;
  bool passthrough_ = false;      // before a resume point, not setup: runs for real, unchecked
  bool touches_virtual_ = false;  // a communicator argument is one served from the recording
  bool shape_answers_ = false;    // a query answered from that communicator's shape
  int shape_nranks_ = -1, shape_rank_ = -1;
  bool serve_ = false;
  bool matched_ = false;
  bool args_differ_ = false;
  trace::FunctionId fn_;
  int64_t result_ = 0;
  const void* call_ = nullptr;  // the recorded ScriptCall
  uint64_t index_ = 0;          // its index in its thread
  uint32_t thread_ = 0;
  static constexpr int kMaxArgs = 12;
  // Filled only in replay mode: every wrapper builds a ReplayStep, so a recorded call must not pay
  // for zeroing it (trivially constructible; cleared by the constructor when replaying).
  struct Given {
    uint32_t kind, flags;
    uint64_t value, offset;  // as the recording numbers them (Number())
    const void* raw;         // the pointer or handle given
    const char* family;      // a handle's
  } given_[kMaxArgs];
  bool numbered_ = false;
};

}  // namespace ddrr::interpose
