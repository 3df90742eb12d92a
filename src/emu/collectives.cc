#include "emu/collectives.h"

#include <algorithm>
#include <string>
#include <vector>

#include "common/enum_names.h"
#include "common/log.h"
#include "emu/comm.h"
#include "emu/direct.h"
#include "emu/reduce.h"

namespace ddrr::emu {

const char* CollName(CollKind kind) {
  static constexpr const char* kNames[] = {"AllReduce",     "Broadcast", "Reduce", "AllGather",
                                           "ReduceScatter", "AlltoAll",  "Gather", "Scatter"};
  static_assert(std::size(kNames) == static_cast<size_t>(CollKind::kScatter));
  return NameIn(kNames, kind, "Collective", static_cast<long long>(CollKind::kAllReduce));
}

namespace {

bool IsReducing(CollKind k) {
  return k == CollKind::kAllReduce || k == CollKind::kReduce || k == CollKind::kReduceScatter;
}
bool HasRoot(CollKind k) {
  return k == CollKind::kBroadcast || k == CollKind::kReduce || k == CollKind::kGather ||
         k == CollKind::kScatter;
}

class CollectiveOp final : public Op {
 public:
  CollectiveOp(Comm* comm, const CollArgs& args)
      : comm_(comm), a_(args), ticket_(comm->TakeCollTicket()) {}
  Comm* comm() const override { return comm_; }

  Result Progress() override {
    for (;;) {
      switch (phase_) {
        case Phase::kWaitTurn: {
          if (!comm_->IsCollTurn(ticket_)) return Result::Pending();
          Result r = Start();
          if (!r.ok()) return Finish(r);
          if (DirectCandidate()) {
            PublishDirect();
            target_ = comm_->Arrive();
            waiter_.Reset();
            phase_ = Phase::kDirectDescs;
            NoteProgress();
          } else {
            phase_ = Phase::kProduce;
          }
          break;
        }
        case Phase::kDirectDescs: {
          if (!comm_->AllArrived(target_, &missing_)) return Wait();
          Result r = CheckPeersAgree();
          if (!r.ok()) return Finish(r);
          NoteProgress();
          if (!DirectPossible()) {
            phase_ = Phase::kProduce;  // this operation stages; the comm keeps trying
            break;
          }
          Status mapped = MapPeers();
          if (comm_->direct_mode() == Comm::DirectMode::kOn) {
            if (!mapped.ok())
              return Finish(Result(Code::kSystemError, Prefix() + mapped.message()));
            RunDirect();
            break;
          }
          // First try on this comm: every rank says whether it could map its peers' buffers,
          // and all switch to direct, or all stage from now on.
          if (!mapped.ok()) first_map_error_ = mapped.message();
          comm_->seg()->rank(me_)->desc[ticket_ % 2].direct_mapped = mapped.ok() ? 1 : 0;
          target_ = comm_->Arrive();
          waiter_.Reset();
          phase_ = Phase::kDirectVote;
          break;
        }
        case Phase::kDirectVote: {
          if (!comm_->AllArrived(target_, &missing_)) return Wait();
          NoteProgress();
          if (VoteCarried()) {
            comm_->set_direct_mode(Comm::DirectMode::kOn);
            DDRR_INFO(log::kEmu, "emu: %s: direct collectives on", comm_->Describe().c_str());
            RunDirect();
          } else {
            comm_->set_direct_mode(Comm::DirectMode::kOff);
            DDRR_INFO(log::kEmu, "emu: %s: direct collectives off, staging instead%s%s",
                      comm_->Describe().c_str(), first_map_error_.empty() ? "" : ": ",
                      first_map_error_.c_str());
            views_.clear();
            phase_ = Phase::kProduce;
          }
          break;
        }
        case Phase::kDirectDone:
          if (!comm_->AllArrived(target_, &missing_)) return Wait();
          NoteProgress();
          views_.clear();
          return Finish(Result::Ok());
        case Phase::kProduce: {
          Result r = Produce();
          if (!r.ok()) return Finish(r);
          target_ = comm_->Arrive();
          waiter_.Reset();
          phase_ = Phase::kWaitInputs;
          NoteProgress();
          break;
        }
        case Phase::kWaitInputs: {
          if (!comm_->AllArrived(target_, &missing_)) return Wait();
          if (chunk_ == 0) {
            Result r = CheckPeersAgree();
            if (!r.ok()) return Finish(r);
          }
          NoteProgress();
          if (a_.kind == CollKind::kAllReduce || a_.kind == CollKind::kReduce) {
            ReduceMySlice();
            target_ = comm_->Arrive();
            waiter_.Reset();
            phase_ = Phase::kWaitResult;
            break;
          }
          phase_ = Phase::kConsume;
          break;
        }
        case Phase::kWaitResult:
          if (!comm_->AllArrived(target_, &missing_)) return Wait();
          NoteProgress();
          phase_ = Phase::kConsume;
          break;
        case Phase::kConsume: {
          Result r = Consume();
          if (!r.ok()) return Finish(r);
          if (++chunk_ == nchunks_) return Finish(Result::Ok());
          phase_ = Phase::kProduce;
          break;
        }
      }
    }
  }

 private:
  enum class Phase {
    kWaitTurn,
    kProduce,
    kWaitInputs,
    kWaitResult,
    kConsume,
    kDirectDescs,  // direct: peers' buffer references published, waiting for all
    kDirectVote,   // direct, first time on this comm: waiting for every rank's mapping result
    kDirectDone,   // direct: our share done, waiting for the others' (they write our output)
  };

  std::string What() const {
    return std::string(CollName(a_.kind)) + " #" + std::to_string(ticket_);
  }

  Result Wait() {
    Result r = comm_->CheckWait(waiter_, missing_, What());
    // A peer that fails once the last rank arrived (on the shape check, say) publishes its
    // failure while this rank may be between reading the arrivals and reading that failure:
    // when everyone has arrived after all, this rank's own check comes next and names the cause.
    if (r.failed() && comm_->AllArrived(target_, &missing_)) return Result::Pending();
    return r;
  }
  std::string Prefix() const { return "ddrr emu: " + comm_->Describe() + " " + What() + ": "; }

  // Same answer on every rank whose call agrees (mode, count and type are shared knowledge);
  // a rank whose call disagrees fails the shape check at the first barrier either way.
  bool DirectCandidate() const {
    return comm_->direct_mode() != Comm::DirectMode::kOff && n_ > 1 && a_.count > 0 &&
           static_cast<int64_t>(a_.count * esz_) >= comm_->direct_min_bytes();
  }

  void PublishDirect() {
    OpDesc& d = comm_->seg()->rank(me_)->desc[ticket_ % 2];
    d.direct_eligible = DirectSafe(a_, n_) ? 1 : 0;
    Describe(a_.send, SendElems(a_, n_) * esz_, PeersReadSend(a_.kind, me_, a_.root), &d.send_ref);
    Describe(a_.recv, RecvElems(a_, n_) * esz_, PeersWriteRecv(a_.kind, me_, a_.root), &d.recv_ref);
  }

  void Describe(const void* buffer, size_t bytes, bool peers_use_it, PeerRef* ref) {
    *ref = PeerRef{};
    ref->process = ThisProcessToken();
    ref->address = reinterpret_cast<uintptr_t>(buffer);
    if (peers_use_it && comm_->mem()->Export(buffer, bytes, ref)) ref->exported = 1;
  }

  // Decided from what every rank published, so all ranks decide alike: when the comm spans
  // processes, every buffer peers touch must be exported.
  bool DirectPossible() const {
    bool one_process = true;
    uint64_t first = comm_->seg()->rank(0)->desc[ticket_ % 2].send_ref.process;
    for (int q = 0; q < n_; ++q) {
      const OpDesc& d = comm_->seg()->rank(q)->desc[ticket_ % 2];
      if (d.direct_eligible == 0) return false;
      one_process = one_process && d.send_ref.process == first;
    }
    if (one_process) return true;
    for (int q = 0; q < n_; ++q) {
      const OpDesc& d = comm_->seg()->rank(q)->desc[ticket_ % 2];
      if (PeersReadSend(a_.kind, q, a_.root) && d.send_ref.exported == 0) return false;
      if (PeersWriteRecv(a_.kind, q, a_.root) && d.recv_ref.exported == 0) return false;
    }
    return true;
  }

  static Status Reach(MemoryOps* mem, const PeerRef& ref, size_t bytes, PeerView* view) {
    if (ref.process == ThisProcessToken()) {
      view->data = reinterpret_cast<char*>(ref.address);
      return Status::Ok();
    }
    return mem->Import(ref, bytes, view);
  }

  // Maps every peer buffer this rank's share touches.
  Status MapPeers() {
    views_.assign(2 * n_, PeerView{});
    buffers_.send.assign(n_, nullptr);
    buffers_.recv.assign(n_, nullptr);
    for (int q = 0; q < n_; ++q) {
      const OpDesc& d = comm_->seg()->rank(q)->desc[ticket_ % 2];
      if (q == me_) {
        buffers_.send[q] = static_cast<const char*>(a_.send);
        buffers_.recv[q] = static_cast<char*>(a_.recv);
        continue;
      }
      if (PeersReadSend(a_.kind, q, a_.root)) {
        Status s = MapPeer(q, "send", d.send_ref, SendElems(a_, n_), &views_[2 * q]);
        if (!s.ok()) return s;
        buffers_.send[q] = views_[2 * q].data;
      }
      if (PeersWriteRecv(a_.kind, q, a_.root)) {
        Status s = MapPeer(q, "receive", d.recv_ref, RecvElems(a_, n_), &views_[2 * q + 1]);
        if (!s.ok()) return s;
        buffers_.recv[q] = views_[2 * q + 1].data;
      }
    }
    return Status::Ok();
  }

  Status MapPeer(int q, const char* which, const PeerRef& ref, size_t elems, PeerView* view) {
    Status s = Reach(comm_->mem(), ref, elems * esz_, view);
    if (s.ok()) return s;
    return Status::Unavailable("mapping rank " + std::to_string(q) + "'s " + which +
                               " buffer: " + s.message());
  }

  bool VoteCarried() const {
    for (int q = 0; q < n_; ++q) {
      if (comm_->seg()->rank(q)->desc[ticket_ % 2].direct_mapped == 0) return false;
    }
    return true;
  }

  void RunDirect() {
    RunDirectShare(a_, me_, n_, scalars_.data(), buffers_);
    target_ = comm_->Arrive();
    waiter_.Reset();
    phase_ = Phase::kDirectDone;
    NoteProgress();
  }

  Result Finish(Result r) {
    comm_->FinishCollTurn(ticket_);
    return r;
  }

  Result Copy(Status s) const {
    if (s.ok()) return Result::Ok();
    return Result(Code::kUnhandledCudaError,
                  "ddrr emu: " + comm_->Describe() + " " + What() + ": " + s.message());
  }
  Result In(void* dst, const char* src, size_t elems) {
    return Copy(comm_->mem()->CopyToHost(dst, src, elems * esz_, a_.stream));
  }
  Result Out(char* dst, const void* src, size_t elems) {
    return Copy(comm_->mem()->CopyFromHost(dst, src, elems * esz_, a_.stream));
  }

  // Waits for the user's stream, reads a device scalar, publishes our description of the call,
  // and sizes the chunks.
  Result Start() {
    n_ = comm_->nranks();
    me_ = comm_->rank();
    esz_ = ElementSize(a_.dtype);
    Result r = Copy(comm_->mem()->Sync(a_.stream));
    if (!r.ok()) return r;
    if (a_.op == RedOpKind::kPreMulSum && a_.scalar_device_ptr != nullptr) {
      a_.scalar = 0;
      r = Copy(comm_->mem()->CopyToHost(&a_.scalar, a_.scalar_device_ptr, esz_, a_.stream));
      if (!r.ok()) return r;
    }
    size_t slot = comm_->seg()->chunk_bytes();
    switch (a_.kind) {
      case CollKind::kReduceScatter:
      case CollKind::kAlltoAll:
        per_chunk_ = slot / (esz_ * n_);
        break;
      case CollKind::kBroadcast:
        per_chunk_ = slot * n_ / esz_;
        break;
      default:
        per_chunk_ = slot / esz_;
    }
    nchunks_ = (a_.count + per_chunk_ - 1) / per_chunk_;
    first_set_ = comm_->TakeChunkSets(nchunks_);
    OpDesc& d = comm_->seg()->rank(me_)->desc[ticket_ % 2];
    d = OpDesc{};
    d.kind = static_cast<uint32_t>(a_.kind);
    d.dtype = static_cast<uint32_t>(a_.dtype);
    d.op = IsReducing(a_.kind) ? static_cast<uint32_t>(a_.op) : 0;
    d.root = HasRoot(a_.kind) ? a_.root : 0;
    d.count = a_.count;
    d.scalar = a_.scalar;
    d.seq = ticket_;
    return Result::Ok();
  }

  std::string DescribeDesc(const OpDesc& d) const {
    std::string s = d.kind >= 1 && d.kind <= 8 ? CollName(static_cast<CollKind>(d.kind)) : "?";
    s += "(count " + std::to_string(d.count) + ", " + DataTypeName(static_cast<DataType>(d.dtype));
    if (IsReducing(static_cast<CollKind>(d.kind))) {
      s += std::string(", ") + RedOpName(static_cast<RedOpKind>(d.op));
    }
    if (HasRoot(static_cast<CollKind>(d.kind))) s += ", root " + std::to_string(d.root);
    return s + ")";
  }

  // Every rank must be in the same collective with the same shape; a mismatch would otherwise
  // silently corrupt results or hang.
  Result CheckPeersAgree() {
    const OpDesc& mine = comm_->seg()->rank(me_)->desc[ticket_ % 2];
    scalars_.assign(n_, 0);
    for (int q = 0; q < n_; ++q) {
      const OpDesc& d = comm_->seg()->rank(q)->desc[ticket_ % 2];
      if (d.seq != mine.seq || d.kind != mine.kind || d.dtype != mine.dtype || d.op != mine.op ||
          d.root != mine.root || d.count != mine.count) {
        return Result(Code::kInvalidUsage, "ddrr emu: " + comm_->Describe() + " " + What() +
                                               ": rank " + std::to_string(q) + " called " +
                                               DescribeDesc(d) + " but this rank " +
                                               DescribeDesc(mine));
      }
      scalars_[q] = d.scalar;
    }
    return Result::Ok();
  }

  size_t ChunkOffset() const { return chunk_ * per_chunk_; }
  size_t ChunkLen() const { return std::min(per_chunk_, a_.count - ChunkOffset()); }
  int Set() const { return static_cast<int>((first_set_ + chunk_) % 2); }
  const char* SendAt(size_t elem) const { return static_cast<const char*>(a_.send) + elem * esz_; }
  char* RecvAt(size_t elem) const { return static_cast<char*>(a_.recv) + elem * esz_; }

  Result Produce() {
    Segment* seg = comm_->seg();
    size_t off = ChunkOffset(), len = ChunkLen();
    int set = Set();
    switch (a_.kind) {
      case CollKind::kAllReduce:
      case CollKind::kReduce:
      case CollKind::kAllGather:
      case CollKind::kGather:
        return In(seg->coll(set, me_), SendAt(off), len);
      case CollKind::kReduceScatter:
      case CollKind::kAlltoAll:
        for (int q = 0; q < n_; ++q) {
          Result r =
              In(seg->coll(set, me_) + q * per_chunk_ * esz_, SendAt(q * a_.count + off), len);
          if (!r.ok()) return r;
        }
        return Result::Ok();
      case CollKind::kScatter:
        if (me_ != a_.root) return Result::Ok();
        for (int q = 0; q < n_; ++q) {
          Result r = In(seg->coll(set, q), SendAt(q * a_.count + off), len);
          if (!r.ok()) return r;
        }
        return Result::Ok();
      case CollKind::kBroadcast:
        if (me_ != a_.root) return Result::Ok();
        return In(seg->coll(set, 0), SendAt(off), len);
    }
    return Result::Ok();
  }

  void ReduceRange(int set, size_t in_offset_bytes, size_t out_offset_bytes, size_t elems) {
    Segment* seg = comm_->seg();
    inputs_.resize(n_);
    for (int q = 0; q < n_; ++q) inputs_[q] = seg->coll(set, q) + in_offset_bytes;
    ReduceRanks(a_.dtype, a_.op, inputs_.data(), scalars_.data(), n_,
                seg->coll(set, n_) + out_offset_bytes, elems);
  }

  void ReduceMySlice() {
    size_t len = ChunkLen();
    size_t lo = len * me_ / n_, hi = len * (me_ + 1) / n_;
    ReduceRange(Set(), lo * esz_, lo * esz_, hi - lo);
  }

  Result Consume() {
    Segment* seg = comm_->seg();
    size_t off = ChunkOffset(), len = ChunkLen();
    int set = Set();
    switch (a_.kind) {
      case CollKind::kAllReduce:
        return Out(RecvAt(off), seg->coll(set, n_), len);
      case CollKind::kReduce:
        return me_ == a_.root ? Out(RecvAt(off), seg->coll(set, n_), len) : Result::Ok();
      case CollKind::kReduceScatter: {
        size_t at = me_ * per_chunk_ * esz_;
        ReduceRange(set, at, at, len);
        return Out(RecvAt(off), seg->coll(set, n_) + at, len);
      }
      case CollKind::kAlltoAll:
        for (int q = 0; q < n_; ++q) {
          Result r =
              Out(RecvAt(q * a_.count + off), seg->coll(set, q) + me_ * per_chunk_ * esz_, len);
          if (!r.ok()) return r;
        }
        return Result::Ok();
      case CollKind::kAllGather:
      case CollKind::kGather:
        if (a_.kind == CollKind::kGather && me_ != a_.root) return Result::Ok();
        for (int q = 0; q < n_; ++q) {
          Result r = Out(RecvAt(q * a_.count + off), seg->coll(set, q), len);
          if (!r.ok()) return r;
        }
        return Result::Ok();
      case CollKind::kScatter:
        return Out(RecvAt(off), seg->coll(set, me_), len);
      case CollKind::kBroadcast:
        return Out(RecvAt(off), seg->coll(set, 0), len);
    }
    return Result::Ok();
  }

  Comm* comm_;
  CollArgs a_;
  uint64_t ticket_;
  Phase phase_ = Phase::kWaitTurn;
  int n_ = 0, me_ = 0;
  size_t esz_ = 1;
  size_t per_chunk_ = 1;
  size_t nchunks_ = 0;
  size_t chunk_ = 0;
  uint64_t first_set_ = 0;
  uint64_t target_ = 0;
  Waiter waiter_;
  std::vector<int> missing_;
  std::vector<uint64_t> scalars_;
  std::vector<const void*> inputs_;
  std::vector<PeerView> views_;  // peer mappings held for the operation's life
  DirectBuffers buffers_;
  std::string first_map_error_;
};

}  // namespace

std::unique_ptr<Op> MakeCollectiveOp(Comm* comm, const CollArgs& args) {
  return std::make_unique<CollectiveOp>(comm, args);
}

}  // namespace ddrr::emu
