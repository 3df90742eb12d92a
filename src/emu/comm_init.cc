#include "emu/comm_init.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <utility>
#include <vector>

#include "common/log.h"
#include "emu/nccl_debug_log.h"
#include "emu/unique_id.h"

namespace ddrr::emu {
namespace {

std::atomic<uint64_t> g_token_counter{0};

// A value unique to this claimant across processes and threads.
uint64_t NewOwnerToken() {
  return (static_cast<uint64_t>(getpid()) << 32) | (g_token_counter.fetch_add(1) + 1);
}

SegmentParams ParamsFor(const Comm& comm) {
  SegmentParams p;
  p.nranks = comm.nranks();
  p.comm_hash = comm.hash();
  p.creator_pid = comm.creator_pid();
  p.chunk_bytes = comm.options().chunk_bytes;
  size_t n = static_cast<size_t>(comm.nranks());
  // Bound the (lazily touched) ring area to 64 MiB of address space for large comms.
  size_t slot = (size_t{64} << 20) / (n * n * p.p2p_nslots);
  slot = std::clamp<size_t>(slot, 4096, size_t{1} << 20);
  p.p2p_slot_bytes = slot / 4096 * 4096;
  return p;
}

class InitOp final : public Op {
 public:
  InitOp(Comm* comm, std::string what) : comm_(comm), what_(std::move(what)) {}
  Comm* comm() const override { return comm_; }

  Result Progress() override {
    if (phase_ == Phase::kAttach) {
      if (!swept_) {
        DDRR_NCCL_INFO(InitStart(*comm_, what_));
        swept_ = true;
        RemoveStaleSegments();
      }
      std::unique_ptr<Segment> seg;
      Result r = Segment::OpenOrCreate(comm_->segment_name(), ParamsFor(*comm_), &seg);
      if (r.pending()) {
        return comm_->CheckWait(waiter_, {},
                                what_ + " (segment " + comm_->segment_name() + " not created yet)");
      }
      if (!r.ok()) return r;
      comm_->Attach(std::move(seg));
      phase_ = Phase::kClaim;
      waiter_.Reset();
    }
    if (phase_ == Phase::kClaim) {
      RankSlot* slot = comm_->seg()->rank(comm_->rank());
      uint64_t expected = 0;
      if (!std::atomic_ref<uint64_t>(slot->owner)
               .compare_exchange_strong(expected, NewOwnerToken())) {
        comm_->Detach();
        return Result(Code::kInvalidUsage,
                      "ddrr emu: " + comm_->Describe() + " " + what_ + ": rank " +
                          std::to_string(comm_->rank()) + " was already claimed by pid " +
                          std::to_string(expected >> 32) + " (duplicate rank)");
      }
      slot->pid = static_cast<int32_t>(getpid());
      slot->device = comm_->device();
      slot->device_key = comm_->device_key();
      slot->direct = comm_->WantsDirect() ? 1 : 0;
      slot->direct_min_bytes = comm_->options().direct_min_bytes;
      std::atomic_ref<uint64_t>(slot->ready).store(1, std::memory_order_release);
      std::atomic_ref<uint32_t>(comm_->seg()->header()->attached).fetch_add(1);
      comm_->set_claimed(true);
      phase_ = Phase::kWaitAll;
      NoteProgress();
    }
    std::vector<int> missing;
    for (int q = 0; q < comm_->nranks(); ++q) {
      if (std::atomic_ref<uint64_t>(comm_->seg()->rank(q)->ready).load(std::memory_order_acquire) ==
          0) {
        missing.push_back(q);
      }
    }
    if (!missing.empty()) return comm_->CheckWait(waiter_, missing, what_);
    // Everyone has mapped the segment: its name is no longer needed, and removing it now
    // means a crash later leaves nothing behind in /dev/shm.
    if (comm_->rank() == 0) Segment::Unlink(comm_->segment_name());
    if (comm_->options().strict_devices) {
      Result r = CheckDistinctDevices();
      if (!r.ok()) return r;
    }
    comm_->AgreeDirect();
    comm_->SetReady();
    DDRR_NCCL_INFO(InitComplete(*comm_, what_));
    DDRR_INFO(log::kEmu, "emu: %s ready (%d ranks, device %d)", comm_->Describe().c_str(),
              comm_->nranks(), comm_->device());
    return Result::Ok();
  }

 private:
  enum class Phase { kAttach, kClaim, kWaitAll };

  // NCCL refuses two ranks of one communicator on one GPU; emu mimics it only on request.
  Result CheckDistinctDevices() const {
    for (int a = 0; a < comm_->nranks(); ++a) {
      for (int b = a + 1; b < comm_->nranks(); ++b) {
        const RankSlot* sa = comm_->seg()->rank(a);
        const RankSlot* sb = comm_->seg()->rank(b);
        if (sa->device_key == sb->device_key) {
          char msg[160];
          std::snprintf(msg, sizeof(msg),
                        "Duplicate GPU detected : rank %d and rank %d both on CUDA device %lx", a,
                        b, static_cast<unsigned long>(sa->device_key));
          return Result(Code::kInvalidUsage, msg);
        }
      }
    }
    return Result::Ok();
  }

  Comm* comm_;
  std::string what_;
  Phase phase_ = Phase::kAttach;
  bool swept_ = false;
  Waiter waiter_;
};

// Split: one barrier on the parent's collective lane to exchange (color, key), then the
// child's init.
class SplitOp final : public Op {
 public:
  SplitOp(Comm* parent, int color, int key, Comm* child)
      : parent_(parent), color_(color), key_(key), child_(child) {
    ticket_ = parent_->TakeCollTicket();
  }
  Comm* comm() const override { return child_ && phase_ == Phase::kChildInit ? child_ : parent_; }

  Result Progress() override {
    if (phase_ == Phase::kWaitTurn) {
      if (!parent_->IsCollTurn(ticket_)) return Result::Pending();
      OpDesc& d = parent_->seg()->rank(parent_->rank())->desc[ticket_ % 2];
      d = OpDesc{};
      d.kind = kSplitKind;
      d.color = color_;
      d.key = key_;
      d.seq = ticket_;
      target_ = parent_->Arrive();
      phase_ = Phase::kWaitPeers;
      NoteProgress();
    }
    if (phase_ == Phase::kWaitPeers) {
      std::vector<int> missing;
      if (!parent_->AllArrived(target_, &missing)) {
        return parent_->CheckWait(waiter_, missing, "CommSplit #" + std::to_string(ticket_));
      }
      Result r = Agree();
      parent_->FinishCollTurn(ticket_);
      if (!r.ok() || child_ == nullptr) return r;
      phase_ = Phase::kChildInit;
      DDRR_NCCL_INFO(SplitStart(*parent_, *child_, color_, key_));
      init_ = MakeInitOp(child_, "CommSplit");
      NoteProgress();
    }
    return init_->Progress();
  }

 private:
  static constexpr uint32_t kSplitKind = 100;
  enum class Phase { kWaitTurn, kWaitPeers, kChildInit };

  // Reads every rank's (color, key) and gives the child its rank, size and segment.
  Result Agree() {
    struct Member {
      int key, parent_rank, pid;
    };
    std::vector<Member> members;
    for (int q = 0; q < parent_->nranks(); ++q) {
      const RankSlot* slot = parent_->seg()->rank(q);
      const OpDesc& d = slot->desc[ticket_ % 2];
      if (d.kind != kSplitKind || d.seq != ticket_) {
        return Result(Code::kInvalidUsage, "ddrr emu: " + parent_->Describe() + " CommSplit #" +
                                               std::to_string(ticket_) + ": rank " +
                                               std::to_string(q) + " called a different operation");
      }
      if (d.color == color_ && color_ >= 0) members.push_back({d.key, q, slot->pid});
    }
    if (child_ == nullptr) return Result::Ok();
    std::stable_sort(members.begin(), members.end(), [](const Member& a, const Member& b) {
      return a.key != b.key ? a.key < b.key : a.parent_rank < b.parent_rank;
    });
    int my_rank = 0;
    for (size_t i = 0; i < members.size(); ++i) {
      if (members[i].parent_rank == parent_->rank()) my_rank = static_cast<int>(i);
    }
    uint64_t mix[3] = {parent_->hash(), ticket_, static_cast<uint64_t>(color_)};
    uint64_t hash = Fnv1a(mix, sizeof(mix));
    int creator = members.front().pid;
    child_->Configure(my_rank, static_cast<int>(members.size()), hash, SegmentName(creator, hash),
                      creator);
    return Result::Ok();
  }

  Comm* parent_;
  int color_;
  int key_;
  Comm* child_;
  uint64_t ticket_;
  uint64_t target_ = 0;
  Phase phase_ = Phase::kWaitTurn;
  Waiter waiter_;
  std::unique_ptr<Op> init_;
};

}  // namespace

std::unique_ptr<Op> MakeInitOp(Comm* comm, std::string what) {
  return std::make_unique<InitOp>(comm, std::move(what));
}

std::unique_ptr<Op> MakeSplitOp(Comm* parent, int color, int key, const CommOptions&, Comm* child) {
  return std::make_unique<SplitOp>(parent, color, key, child);
}

}  // namespace ddrr::emu
