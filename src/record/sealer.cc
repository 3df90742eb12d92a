#include "record/sealer.h"

#include <sched.h>

#include <chrono>

namespace ddrr::record {

Sealer::Sealer(Spool* spool, std::unique_ptr<trace::TraceWriter> writer)
    : spool_(spool), writer_(std::move(writer)) {
  pos_ = released_ = spool_->header().tail.load(std::memory_order_acquire);
  bytes_seen_ = writer_->bytes_written();
}

StatusOr<uint64_t> Sealer::Drain(uint64_t until, uint32_t wait_ms) {
  uint64_t fed = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(wait_ms);
  while (pos_ < until) {
    const RecordHeader* rec = nullptr;
    uint64_t next = 0;
    switch (spool_->At(pos_, &rec, &next)) {
      case Spool::Slot::kPadding:
        pos_ = next;
        continue;
      case Spool::Slot::kRecord:
        DDRR_RETURN_IF_ERROR(Feed(rec));
        pos_ = next;
        ++fed;
        continue;
      case Spool::Slot::kNotCommitted:
        // An appender is between its reservation and its commit (a few hundred ns). Order
        // matters more than latency: wait for it rather than skipping ahead.
        if (std::chrono::steady_clock::now() >= deadline) return fed;
        sched_yield();
        continue;
      case Spool::Slot::kMalformed:
        return Status::Internal("spool " + spool_->path() + ": malformed record at position " +
                                std::to_string(pos_));
    }
  }
  return fed;
}

Status WriteRecord(trace::TraceWriter& writer, const RecordHeader* rec) {
  if (rec->flags & kFlagPayload) return writer.AppendPayload(rec->comm_key, Spool::Body(rec));
  trace::EventMeta meta;
  meta.is_mark = (rec->flags & kFlagMark) != 0;
  meta.mark_step = rec->mark_step;
  meta.mark_label = Spool::Label(rec);
  meta.comm_key = rec->comm_key;
  meta.op_seq = rec->op_seq;
  return writer.Append(rec->seq, rec->thread, rec->time_ns, Spool::Body(rec), &meta);
}

Status Sealer::Feed(const RecordHeader* rec) {
  DDRR_RETURN_IF_ERROR(WriteRecord(*writer_, rec));
  if (rec->flags & kFlagPayload) {
    // A sealed payload frame holds every payload fed so far, this one included.
    payloads_open_ = writer_->bytes_written() == bytes_seen_;
  } else {
    fed_seq_ = rec->seq;
    ++fed_events_;
    events_open_ = writer_->bytes_written() == bytes_seen_;
  }
  bytes_seen_ = writer_->bytes_written();
  if (!events_open_ && !payloads_open_) Release();
  return Status::Ok();
}

Status Sealer::Flush() {
  DDRR_RETURN_IF_ERROR(writer_->Flush());
  bytes_seen_ = writer_->bytes_written();
  events_open_ = payloads_open_ = false;
  Release();
  return Status::Ok();
}

void Sealer::Release() {
  if (released_ == pos_ && sealed_events_ == fed_events_) return;
  sealed_events_ = fed_events_;
  SpoolHeader& h = spool_->header();
  // sealed_seq before tail: salvage trusts the .ddrr's own frames for what is sealed, these
  // are for tools and humans looking at a live spool.
  h.sealed_seq.store(fed_seq_, std::memory_order_relaxed);
  h.sealed_events.store(sealed_events_, std::memory_order_relaxed);
  released_ = pos_;
  spool_->Release(pos_);
}

Status Sealer::Close(const trace::FooterInfo& footer) {
  DDRR_RETURN_IF_ERROR(Flush());
  return writer_->Close(footer);
}

}  // namespace ddrr::record
