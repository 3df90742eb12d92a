#include "emu/p2p.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <string>
#include <vector>

#include "emu/comm.h"

namespace ddrr::emu {
namespace {

uint64_t ChunksFor(const Comm& comm, size_t bytes) {
  size_t slot = comm.seg()->p2p_slot_bytes();
  return std::max<uint64_t>(1, (bytes + slot - 1) / slot);
}

class P2pOp : public Op {
 public:
  P2pOp(Comm* comm, bool send, void* buf, size_t bytes, int peer, void* stream)
      : comm_(comm),
        send_(send),
        buf_(static_cast<char*>(buf)),
        bytes_(bytes),
        peer_(peer),
        stream_(stream) {
    uint64_t chunks = ChunksFor(*comm, bytes);
    first_ = send ? comm->ReserveSend(peer, chunks) : comm->ReserveRecv(peer, chunks);
    next_ = first_;
    end_ = first_ + chunks;
  }
  Comm* comm() const override { return comm_; }

  Result Progress() override {
    if (!synced_) {
      Status s = comm_->mem()->Sync(stream_);
      if (!s.ok()) return CopyError(s);
      synced_ = true;
    }
    Segment* seg = comm_->seg();
    int src = send_ ? comm_->rank() : peer_;
    int dst = send_ ? peer_ : comm_->rank();
    ChannelHeader* ch = seg->channel(src, dst);
    std::atomic_ref<uint64_t> tail(ch->tail);
    std::atomic_ref<uint64_t> head(ch->head);
    size_t slot_bytes = seg->p2p_slot_bytes();
    while (next_ < end_) {
      uint64_t t = tail.load(std::memory_order_acquire);
      uint64_t h = head.load(std::memory_order_acquire);
      size_t off = (next_ - first_) * slot_bytes;
      size_t len = std::min(slot_bytes, bytes_ - std::min(bytes_, off));
      char* slot = seg->p2p_slot(src, dst, next_);
      auto* hdr = reinterpret_cast<P2pChunkHeader*>(slot);
      char* data = slot + kP2pChunkHeaderBytes;
      if (send_) {
        if (t != next_) return Result::Pending();  // an earlier send to this peer goes first
        if (t - h >= seg->p2p_nslots()) return Wait();
        hdr->msg_bytes = bytes_;
        hdr->index = next_ - first_;
        Status s = comm_->mem()->CopyToHost(data, buf_ + off, len, stream_);
        if (!s.ok()) return CopyError(s);
        tail.store(next_ + 1, std::memory_order_release);
      } else {
        if (h != next_) return Result::Pending();  // an earlier receive goes first
        if (t <= next_) return Wait();
        if (hdr->msg_bytes != bytes_ || hdr->index != next_ - first_) {
          return Result(Code::kInvalidUsage,
                        "ddrr emu: " + comm_->Describe() + " " + What() + ": rank " +
                            std::to_string(peer_) + " sent " + std::to_string(hdr->msg_bytes) +
                            " bytes but this rank receives " + std::to_string(bytes_));
        }
        Status s = comm_->mem()->CopyFromHost(buf_ + off, data, len, stream_);
        if (!s.ok()) return CopyError(s);
        head.store(next_ + 1, std::memory_order_release);
      }
      ++next_;
      waiter_.Reset();
      NoteProgress();
    }
    return Result::Ok();
  }

 private:
  std::string What() const {
    return std::string(send_ ? "Send to " : "Recv from ") + "rank " + std::to_string(peer_) + " (" +
           std::to_string(bytes_) + " bytes)";
  }
  Result Wait() { return comm_->CheckWait(waiter_, {peer_}, What()); }
  Result CopyError(const Status& s) const {
    return Result(Code::kUnhandledCudaError,
                  "ddrr emu: " + comm_->Describe() + " " + What() + ": " + s.message());
  }

  Comm* comm_;
  bool send_;
  char* buf_;
  size_t bytes_;
  int peer_;
  void* stream_;
  uint64_t first_ = 0, next_ = 0, end_ = 0;
  bool synced_ = false;
  Waiter waiter_;
};

}  // namespace

std::unique_ptr<Op> MakeSendOp(Comm* comm, const void* buf, size_t bytes, int peer, void* stream) {
  return std::make_unique<P2pOp>(comm, true, const_cast<void*>(buf), bytes, peer, stream);
}

std::unique_ptr<Op> MakeRecvOp(Comm* comm, void* buf, size_t bytes, int peer, void* stream) {
  return std::make_unique<P2pOp>(comm, false, buf, bytes, peer, stream);
}

}  // namespace ddrr::emu
