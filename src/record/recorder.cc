// The Recorder implementation: Append() writes into the spool; a sealing thread runs the Sealer.
#include "record/recorder.h"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>

#include "common/log.h"
#include "common/mutex.h"
#include "record/sealer.h"
#include "record/spool.h"
#include "trace/format.h"

namespace ddrr::record {
namespace {

constexpr uint32_t kMaxLabel = 0xFFFF;
constexpr uint32_t kCloseWaitMs = 1000;  // how long Close waits for an appender mid-copy

class RecorderImpl final : public Recorder {
 public:
  RecorderImpl(RecorderConfig config, std::unique_ptr<Spool> spool,
               std::unique_ptr<trace::TraceWriter> writer, std::string trace_path)
      : config_(std::move(config)),
        spool_(std::move(spool)),
        sealer_(spool_.get(), std::move(writer)),
        trace_path_(std::move(trace_path)),
        spool_path_(spool_->path()) {}

  ~RecorderImpl() override {
    if (!closed_) {
      trace::FooterInfo f;
      f.end_reason = trace::kEndClosed;
      (void)Close(f);
    }
  }

  void StartThread() {
    // The job's signal handlers must never run on ddrr's thread.
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    thread_ = std::thread([this] { SealLoop(); });
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
  }

  uint64_t Append(uint32_t thread, uint64_t time_ns, std::string_view body,
                  const trace::EventMeta& meta) override {
    if (!active_.load(std::memory_order_relaxed)) return 0;
    const std::string_view label =
        meta.is_mark ? meta.mark_label.substr(0, kMaxLabel) : std::string_view();
    RecordHeader* rec;
    uint64_t used = 0;
    {
      std::lock_guard<AppendLock> g(spool_->lock());
      if (!active_.load(std::memory_order_relaxed)) return 0;
      rec = spool_->ReserveLocked(static_cast<uint32_t>(label.size()),
                                  static_cast<uint32_t>(body.size()), true, &used);
    }
    return Finish(rec, used, thread, time_ns, label, body, meta);
  }

  uint64_t AppendWithSeq(uint32_t thread, uint64_t time_ns,
                         const std::function<void(uint64_t, trace::WireEncoder&)>& encode,
                         const trace::EventMeta& meta) override {
    if (!active_.load(std::memory_order_relaxed)) return 0;
    const std::string_view label =
        meta.is_mark ? meta.mark_label.substr(0, kMaxLabel) : std::string_view();
    thread_local trace::WireEncoder scratch;
    RecordHeader* rec;
    uint64_t used = 0;
    {
      // The body depends on the seq, and the seq is only known under the lock.
      std::lock_guard<AppendLock> g(spool_->lock());
      if (!active_.load(std::memory_order_relaxed)) return 0;
      scratch.Clear();
      encode(spool_->header().next_seq.load(std::memory_order_relaxed), scratch);
      rec = spool_->ReserveLocked(static_cast<uint32_t>(label.size()),
                                  static_cast<uint32_t>(scratch.size()), true, &used);
    }
    return Finish(rec, used, thread, time_ns, label,
                  {reinterpret_cast<const char*>(scratch.data()), scratch.size()}, meta);
  }

  Status AppendPayload(uint64_t content_hash, std::string_view data) override {
    if (!active_.load(std::memory_order_relaxed)) return Status::Ok();
    if (data.size() > UINT32_MAX) return Status::InvalidArgument("payload over 4 GiB");
    RecordHeader* rec;
    uint64_t used = 0;
    {
      std::lock_guard<AppendLock> g(spool_->lock());
      if (!active_.load(std::memory_order_relaxed)) return Status::Ok();
      rec = spool_->ReserveLocked(0, static_cast<uint32_t>(data.size()), false, &used);
    }
    if (!rec) {
      payloads_dropped_.fetch_add(1, std::memory_order_relaxed);
      Kick();
      return Status::IoError("spool full: payload dropped");
    }
    FillAndCommit(rec, 0, 0, std::string_view(), data, kFlagPayload, content_hash, 0, 0);
    MaybeKick(used);
    return Status::Ok();
  }

  Status Flush() override {
    MutexLock g(&seal_mu_);
    if (!status_.ok() || closed_) return status_;
    return SealTo(spool_->header().head.load(std::memory_order_acquire), kCloseWaitMs, true);
  }

  Status Close(const trace::FooterInfo& footer) override {
    {
      std::lock_guard<AppendLock> g(spool_->lock());
      active_.store(false, std::memory_order_relaxed);
    }
    {
      MutexLock g(&wake_mu_);
      stop_ = true;
    }
    wake_.Signal();
    if (thread_.joinable()) thread_.join();
    MutexLock g(&seal_mu_);
    if (closed_) return status_;
    closed_ = true;
    if (!status_.ok()) return status_;  // the spool stays for salvage
    Status st = SealTo(spool_->header().head.load(std::memory_order_acquire), kCloseWaitMs, false);
    if (st.ok()) {
      trace::FooterInfo f = footer;
      f.dropped_events = spool_->header().dropped.load(std::memory_order_relaxed);
      AssignedRankInto(spool_->header(), &f);
      st = sealer_.Close(f);
    }
    if (!st.ok()) {
      Fail(st);
      return st;
    }
    if (::unlink(spool_path_.c_str()) != 0) {
      return Status::FromErrno("remove spool " + spool_path_, errno);
    }
    return Status::Ok();
  }

  RecorderStats stats() const override {
    const SpoolHeader& h = spool_->header();
    RecorderStats s;
    s.dropped = h.dropped.load(std::memory_order_relaxed);
    s.appended = h.next_seq.load(std::memory_order_relaxed) - 1;
    s.sealed = h.sealed_events.load(std::memory_order_relaxed);
    return s;
  }
  bool disabled() const override { return disabled_.load(std::memory_order_relaxed); }
  InFlightSlot* InFlight(uint32_t thread) override {
    return thread < kInFlightSlots ? &spool_->header().in_flight[thread] : nullptr;
  }
  void NoteFatalSignal(int sig) override {
    spool_->header().fatal_signal.store(sig, std::memory_order_relaxed);
  }
  void AssignRank(uint32_t rank, uint32_t world_size) override {
    SpoolHeader& h = spool_->header();
    h.assigned_world_size.store(world_size, std::memory_order_relaxed);
    h.assigned_rank_plus1.store(rank + 1, std::memory_order_release);
  }
  const std::string& trace_path() const override { return trace_path_; }
  const std::string& spool_path() const override { return spool_path_; }

 private:
  uint64_t Finish(RecordHeader* rec, uint64_t used, uint32_t thread, uint64_t time_ns,
                  std::string_view label, std::string_view body, const trace::EventMeta& meta) {
    if (!rec) {
      Kick();
      return 0;
    }
    const uint64_t seq = rec->seq;
    FillAndCommit(rec, thread, time_ns, label, body, meta.is_mark ? kFlagMark : 0, meta.comm_key,
                  meta.op_seq, meta.mark_step);
    MaybeKick(used);
    return seq;
  }

  static void FillAndCommit(RecordHeader* rec, uint32_t thread, uint64_t time_ns,
                            std::string_view label, std::string_view body, uint16_t flags,
                            uint64_t comm_key, uint64_t op_seq, int64_t mark_step) {
    rec->time_ns = time_ns;
    rec->comm_key = comm_key;
    rec->op_seq = op_seq;
    rec->mark_step = mark_step;
    rec->thread = thread;
    rec->flags = flags;
    rec->label_len = static_cast<uint16_t>(label.size());
    rec->body_len = static_cast<uint32_t>(body.size());
    rec->reserved = 0;
    auto* p = reinterpret_cast<char*>(rec + 1);
    std::memcpy(p, label.data(), label.size());
    std::memcpy(p + label.size(), body.data(), body.size());
    Spool::Commit(rec);
  }

  // Wakes the sealer early when a quarter of the ring is in use, so a burst does not wait for
  // the next interval; the flag keeps it to one notify per wake-up.
  void MaybeKick(uint64_t used) {
    if (used > spool_->capacity() / 4) Kick();
  }
  void Kick() {
    if (!kicked_.exchange(true, std::memory_order_relaxed)) wake_.Signal();
  }

  void Fail(const Status& st) EXCLUSIVE_LOCKS_REQUIRED(seal_mu_) {
    if (status_.ok()) status_ = st;
    active_.store(false, std::memory_order_relaxed);
    if (!disabled_.exchange(true)) {
      DDRR_WARN("recorder disabled (%s); the job goes on unrecorded, spool kept at %s",
                st.ToString().c_str(), spool_path_.c_str());
    }
  }

  // Feeds everything up to `until` and, when `flush`, seals the open frames.
  Status SealTo(uint64_t until, uint32_t wait_ms, bool flush) EXCLUSIVE_LOCKS_REQUIRED(seal_mu_) {
    auto fed = sealer_.Drain(until, wait_ms);
    Status st = fed.ok() ? Status::Ok() : fed.status();
    if (st.ok() && flush) st = sealer_.Flush();
    if (!st.ok()) Fail(st);
    return st;
  }

  void NoteDrops() EXCLUSIVE_LOCKS_REQUIRED(seal_mu_) {
    const uint64_t dropped = spool_->header().dropped.load(std::memory_order_relaxed);
    if (dropped == noted_drops_) return;
    trace::WireEncoder e;
    const std::string text = "spool full: " + std::to_string(dropped - noted_drops_) +
                             " events dropped (raise DDRR_SPOOL_MB)";
    trace::EncodeNoteBody(e, text, dropped);
    if (Append(0, SinceStart(), {reinterpret_cast<const char*>(e.data()), e.size()}, {})) {
      DDRR_INFO(log::kRecord, "rank %u: %s", config_.header.rank, text.c_str());
      noted_drops_ = dropped;
    }
  }

  // Now, on the clock event times use (ns since the header's start_mono_ns).
  uint64_t SinceStart() const {
    const auto now = std::chrono::steady_clock::now().time_since_epoch();
    const uint64_t mono = std::chrono::duration_cast<std::chrono::nanoseconds>(now).count();
    return mono > config_.header.start_mono_ns ? mono - config_.header.start_mono_ns : 0;
  }

  void SealLoop() {
    const auto interval =
        std::chrono::milliseconds(std::max<uint32_t>(1, config_.seal_interval_ms));
    auto last_flush = std::chrono::steady_clock::now();
    for (;;) {
      bool busy = false;
      {
        MutexLock g(&seal_mu_);
        if (closed_ || !status_.ok()) return;
        kicked_.store(false, std::memory_order_relaxed);
        spool_->header().alive_ns.store(SinceStart(), std::memory_order_relaxed);
        const uint64_t head = spool_->header().head.load(std::memory_order_acquire);
        const auto now = std::chrono::steady_clock::now();
        // Seal when the interval is up, or when the records waiting on an open frame hold a
        // quarter of the ring (a small ring with large frames would otherwise fill up).
        const bool flush =
            now - last_flush >= interval || sealer_.unreleased_bytes() > spool_->capacity() / 4;
        if (!SealTo(head, 0, flush).ok()) return;
        if (flush) last_flush = now;
        NoteDrops();
        const SpoolHeader& h = spool_->header();
        busy = h.head.load(std::memory_order_acquire) - h.tail.load(std::memory_order_relaxed) >
               spool_->capacity() / 4;
      }
      MutexLock lock(&wake_mu_);
      if (stop_) return;
      if (!busy) {
        const auto deadline = std::chrono::steady_clock::now() + interval;
        while (!stop_ && !kicked_.load(std::memory_order_relaxed) &&
               wake_.WaitUntil(&wake_mu_, deadline)) {
        }
      }
      if (stop_) return;
    }
  }

  RecorderConfig config_;
  std::unique_ptr<Spool> spool_;
  std::atomic<bool> active_{true};
  std::atomic<bool> disabled_{false};
  std::atomic<bool> kicked_{false};
  std::atomic<uint64_t> payloads_dropped_{0};

  Mutex seal_mu_;  // the sealer and everything it owns below
  Sealer sealer_ GUARDED_BY(seal_mu_);
  Status status_ GUARDED_BY(seal_mu_);
  bool closed_ GUARDED_BY(seal_mu_) = false;
  uint64_t noted_drops_ GUARDED_BY(seal_mu_) = 0;

  Mutex wake_mu_;
  CondVar wake_;
  bool stop_ GUARDED_BY(wake_mu_) = false;
  std::thread thread_;

  std::string trace_path_;
  std::string spool_path_;
};

}  // namespace

StatusOr<std::unique_ptr<Recorder>> Recorder::Start(RecorderConfig config) {
  std::error_code ec;
  std::filesystem::create_directories(config.dir, ec);
  if (ec) return Status::IoError("create run directory " + config.dir + ": " + ec.message());
  const std::string base = config.dir + "/rank-" + std::to_string(config.header.rank);
  const std::string preamble = trace::TraceWriter::EncodePreamble(config.header);
  DDRR_ASSIGN_OR_RETURN(
      auto spool, Spool::Create(base + ".spool", config.header.rank, config.wal_bytes, preamble));
  auto writer = trace::TraceWriter::CreateWithPreamble(base + ".ddrr", preamble, config.writer);
  if (!writer.ok()) {
    ::unlink((base + ".spool").c_str());
    return writer.status();
  }
  auto r = std::make_unique<RecorderImpl>(std::move(config), std::move(spool),
                                          std::move(writer).value(), base + ".ddrr");
  r->StartThread();
  DDRR_INFO(log::kRecord, "recording to %s", r->trace_path().c_str());
  return std::unique_ptr<Recorder>(std::move(r));
}

}  // namespace ddrr::record
