// ProgressTable: where each rank of a running replay is, in a small file every replay rank maps
// and writes its own slot of, and `ddrr replay` reads to draw progress and to tell a hang (no
// slot changes for the replay's timeout) from a slow replay. Lock-free: each slot has one writer
// (its rank, possibly from several threads) and the fields are independent atomics, so a reader
// may see a slot mid-update; it only uses the fields to report, never to decide correctness.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "common/status.h"

namespace ddrr::replay {

enum class RankState : uint32_t {
  kStarting = 0,  // not yet replaying
  kReplaying,     // between calls
  kInCall,        // inside a replayed call (fn, seq, comm_key, op_seq say which)
  kAtEnd,         // replayed everything; stays alive, as the recorded process did until killed
  kStopped,       // stopped after a call that hung (blocked until the replay's timeout)
  kFinished,      // exiting as the recorded process did
};
const char* RankStateName(RankState state);

struct RankSlot {
  std::atomic<int64_t> rank;
  std::atomic<uint32_t> state;
  std::atomic<uint32_t> fn;  // trace::FunctionId of the call in progress or last issued
  std::atomic<uint64_t> seq;
  std::atomic<uint64_t> comm_key;  // recorded key of that call's communicator
  std::atomic<uint64_t> op_seq;
  std::atomic<uint64_t> calls_done;
  std::atomic<uint64_t> calls_total;  // calls this rank will replay
  std::atomic<int64_t> changed_ns;    // CLOCK_MONOTONIC of the last change
  std::atomic<int64_t> pid;
};
static_assert(std::atomic<uint64_t>::is_always_lock_free &&
                  std::atomic<int64_t>::is_always_lock_free,
              "slots are shared between processes");

class ProgressTable {
 public:
  // Creates (zero-filled) a table of `slots` at `path`.
  static StatusOr<ProgressTable> Create(const std::string& path, int slots);
  // Maps an existing table.
  static StatusOr<ProgressTable> Open(const std::string& path);
  ProgressTable(ProgressTable&& other) noexcept;
  ProgressTable& operator=(ProgressTable&& other) noexcept;
  ~ProgressTable();

  int slots() const { return slots_; }
  RankSlot& slot(int i) { return slot_[i]; }
  const RankSlot& slot(int i) const { return slot_[i]; }

 private:
  ProgressTable(void* mapping, size_t bytes, int slots);
  void* mapping_ = nullptr;
  size_t bytes_ = 0;
  int slots_ = 0;
  RankSlot* slot_ = nullptr;
};

// CLOCK_MONOTONIC in nanoseconds (what changed_ns holds).
int64_t MonotonicNs();

// Publishes one rank's progress into its slot.
class ProgressWriter {
 public:
  explicit ProgressWriter(RankSlot* slot) : slot_(slot) {}
  void State(RankState state);
  void Enter(uint32_t fn, uint64_t seq, uint64_t comm_key, uint64_t op_seq);
  void Leave();  // back to kReplaying, one more call done
  void Total(uint64_t calls);

 private:
  RankSlot* slot_;  // may be null: publishing is then a no-op
};

}  // namespace ddrr::replay
