// A communicator as one rank sees it: identity, its view of the shared segment, the local
// sequencing that keeps its operations in issue order, and its error state.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/mutex.h"
#include "emu/dtype.h"
#include "emu/memory_ops.h"
#include "emu/result.h"
#include "emu/segment.h"

namespace ddrr::emu {

struct CommOptions {
  int device = 0;
  int64_t device_key = -1;        // identifies the physical device; -1: same as `device`
  double timeout_s = -1;          // < 0: DDRR_EMU_TIMEOUT, else 300
  int strict_devices = -1;        // < 0: DDRR_EMU_STRICT_DEVICES, else 0
  size_t chunk_bytes = 0;         // 0: DDRR_EMU_CHUNK_BYTES, else a size chosen from nranks
  MemoryOps* mem = nullptr;       // null: host memory
  int direct = -1;                // < 0: DDRR_EMU_DIRECT, else 1 (see collectives.h)
  int64_t direct_min_bytes = -1;  // < 0: DDRR_EMU_DIRECT_MIN_BYTES, else 64 KiB
  std::string name;               // user's name for messages (ncclConfig_t::commName)
};

// Tracks how long an operation has waited on peers.
struct Waiter {
  std::chrono::steady_clock::time_point since{};
  std::chrono::steady_clock::time_point last_liveness_check{};
  void Reset() { since = {}; }
};

enum class CommState { kInitializing, kReady, kFailed, kRevoked, kFinalized };

class Comm {
 public:
  static constexpr uint64_t kLiveMagic = 0x6464727245434f4dull;

  Comm(int rank, int nranks, uint64_t hash, std::string segment_name, int creator_pid,
       const CommOptions& options);
  ~Comm();
  Comm(const Comm&) = delete;
  Comm& operator=(const Comm&) = delete;

  // Sets identity once known (a split child learns it from the agreement).
  void Configure(int rank, int nranks, uint64_t hash, std::string segment_name, int creator_pid);

  bool IsLive() const { return magic_ == kLiveMagic; }
  int rank() const { return rank_; }
  int nranks() const { return nranks_; }
  int device() const { return options_.device; }
  int64_t device_key() const { return options_.device_key; }
  uint64_t hash() const { return hash_; }
  const std::string& segment_name() const { return segment_name_; }
  int creator_pid() const { return creator_pid_; }
  const CommOptions& options() const { return options_; }
  MemoryOps* mem() const { return options_.mem; }
  double timeout_s() const { return options_.timeout_s; }
  // "comm 1a2b3c4d5e6f7788 rank 3": prefix for every message about this comm.
  std::string Describe() const;

  CommState state() const { return state_; }
  void SetReady() { state_ = CommState::kReady; }
  void SetFinalized() { state_ = CommState::kFinalized; }
  // Error if the comm cannot take a new operation (failed, revoked, still initialising...).
  Result CheckUsable(const char* opname) const;

  // Records a failure: async error, last error, and (once attached) tells the peers so they
  // stop waiting early.
  void Fail(const Result& error, bool publish);
  void Revoke();
  Code async_error() const;
  std::string last_error() const;

  // Shared memory; null until the init operation has attached and claimed our slot.
  Segment* seg() const { return seg_.get(); }
  void Attach(std::unique_ptr<Segment> seg) { seg_ = std::move(seg); }
  std::unique_ptr<Segment> Detach() { return std::move(seg_); }
  void set_claimed(bool claimed) { claimed_ = claimed; }

  // Barrier: bump our counter and return the value every rank must reach.
  uint64_t Arrive();
  // True when every rank's counter reached `target`; otherwise lists the laggards.
  bool AllArrived(uint64_t target, std::vector<int>* missing) const;
  // Called while an operation waits on `missing`: reports a peer failure, a dead peer process
  // or the timeout, else Pending.
  Result CheckWait(Waiter& waiter, const std::vector<int>& missing, const std::string& what);

  // Collective lane: operations take tickets in issue order and run one at a time.
  uint64_t TakeCollTicket() { return ++coll_tickets_; }
  bool IsCollTurn(uint64_t ticket) const { return coll_done_ + 1 == ticket; }
  void FinishCollTurn(uint64_t ticket) {
    if (coll_done_ < ticket) coll_done_ = ticket;
  }
  // Chunk counter that picks the double-buffered staging set; in lockstep on every rank.
  uint64_t TakeChunkSets(uint64_t n) {
    uint64_t first = chunk_sets_;
    chunk_sets_ += n;
    return first;
  }

  // Point-to-point ring sequencing, in chunk units per peer.
  uint64_t ReserveSend(int peer, uint64_t chunks);
  uint64_t ReserveRecv(int peer, uint64_t chunks);

  // Whether collectives may work on peers' buffers directly. Unknown until the first direct
  // collective's vote; every rank of the comm reaches the same answer.
  enum class DirectMode { kUntested, kOn, kOff };
  DirectMode direct_mode() const { return direct_mode_; }
  void set_direct_mode(DirectMode mode) { direct_mode_ = mode; }
  // Collectives of at least this many bytes per rank try the direct path.
  int64_t direct_min_bytes() const { return direct_min_bytes_; }
  // Whether this rank's options and memory allow direct collectives (published at claim).
  bool WantsDirect() const;
  // Settles the comm's direct mode from what every rank published at claim.
  void AgreeDirect();

  uint64_t NextSplitSeq() { return ++splits_; }
  uint64_t NextShrinkSeq() { return ++shrinks_; }

  // PreMulSum operators created on this comm. Handles are ncclNumOps + index.
  struct PreMulSumOp {
    bool live = false;
    DataType dtype = DataType::kFloat32;
    uint64_t raw = 0;                  // host-immediate scalar
    const void* device_ptr = nullptr;  // read at each use when not null
  };
  int AddPreMulSum(const PreMulSumOp& op);
  const PreMulSumOp* FindPreMulSum(int handle) const;
  bool RemovePreMulSum(int handle);

 private:
  uint64_t magic_ = kLiveMagic;
  int rank_;
  int nranks_;
  uint64_t hash_;
  std::string segment_name_;
  int creator_pid_;
  CommOptions options_;
  CommState state_ = CommState::kInitializing;
  std::unique_ptr<Segment> seg_;
  bool claimed_ = false;
  uint64_t arrive_ = 0;
  uint64_t coll_tickets_ = 0;
  uint64_t coll_done_ = 0;
  uint64_t chunk_sets_ = 0;
  DirectMode direct_mode_ = DirectMode::kUntested;
  int64_t direct_min_bytes_ = 0;
  uint64_t splits_ = 0;
  uint64_t shrinks_ = 0;
  std::vector<uint64_t> send_next_;
  std::vector<uint64_t> recv_next_;
  std::vector<PreMulSumOp> premulsum_;
  mutable Mutex error_mu_;  // async error may be polled from another thread
  Code async_error_ GUARDED_BY(error_mu_) = Code::kSuccess;
  std::string last_error_ GUARDED_BY(error_mu_);
};

// Resolves unset options from the environment and defaults.
CommOptions ResolveOptions(CommOptions options, int nranks);

// Process-wide last error, as ncclGetLastError(NULL) reports it.
void SetGlobalLastError(const std::string& message);
std::string GlobalLastError();

}  // namespace ddrr::emu
