// DataChecker: `--data pattern` for one replay rank. Before a collective or send/recv is issued
// it fills this member's input buffers with the pattern (pattern.h) for that operation; once the
// operation has completed (right after the call, or after the outermost ncclGroupEnd of its
// group) it reads the output back and compares every element with what the operation must
// produce. Operations are named across ranks by their communicator's recorded key and their
// position in it: the n-th collective on a communicator, the n-th message from one comm rank to
// another, which every member counts alike.
//
// Thread-safety: Prepare and Check may be called from several replay threads.
#pragma once

#include <cuda_runtime_api.h>
#include <nccl.h>

#include <cstdint>
#include <map>
#include <optional>
#include <tuple>
#include <unordered_map>

#include "common/mutex.h"
#include "ddrr/replay.pb.h"
#include "replay/rank/pattern.h"
#include "replay/rank/replayer.h"
#include "replay/rank/result_log.h"
#include "spec/api_views.h"

namespace ddrr::replay {

struct PendingCheck {
  PatternOp op;
  uint64_t seq = 0;
  uint64_t comm_key = 0;
  uint64_t op_seq = 0;
  void* output = nullptr;  // live address
  uint64_t elements = 0;
  cudaStream_t stream = nullptr;
  ncclComm_t comm = nullptr;  // live
};

struct DataCounts {
  uint64_t checked = 0;    // ops whose every output element was compared
  uint64_t unchecked = 0;  // ops left unchecked (faulty in the recording, PreMulSum, unknown)
  uint64_t wrong = 0;      // ops with a wrong element
};

class DataChecker {
 public:
  DataChecker(Replayer& replayer, ResultLog& log);

  // Fills the inputs of the op `call` (its view `view`, recorded as #seq) and says what to check
  // once it completed; nullopt when nothing is checked. Call before issuing the op.
  std::optional<PendingCheck> Prepare(const trace::ApiCall& call, const trace::OpView& view,
                                      uint64_t seq);
  // After the op was issued (this waits for its stream): compares its output. `in_progress`: its
  // call (or its group's end) answered ncclInProgress, so the communicator is first polled until
  // the op is enqueued.
  void Check(const PendingCheck& check, bool in_progress);

  DataCounts counts() const;

 private:
  bool Unchecked(uint64_t comm_key, uint64_t op_seq) const;
  uint64_t NextSeed(uint64_t comm_key, const trace::OpView& view, int rank);

  Replayer& replayer_;
  ResultLog& log_;
  std::unordered_map<uint64_t, uint64_t> unchecked_from_;  // comm key -> first unchecked op
  mutable Mutex mu_;
  std::map<std::pair<uint64_t, int>, uint64_t> collectives_ GUARDED_BY(mu_);
  std::map<std::tuple<uint64_t, int, int, bool>, uint64_t> messages_ GUARDED_BY(mu_);
  DataCounts counts_ GUARDED_BY(mu_);
};

}  // namespace ddrr::replay
