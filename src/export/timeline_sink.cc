#include "export/timeline_sink.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>

#include "common/mutex.h"
#include "trace/event_printer.h"
#include "trace/wire_encoder.h"

namespace ddrr::timeline {
namespace {

// Perfetto's field numbers (protos/perfetto/trace/...; docs/EXPORT.md lists them).
namespace packet {
constexpr uint32_t kPacket = 1;  // Trace.packet
constexpr uint32_t kClockSnapshot = 6, kTimestamp = 8, kSequenceId = 10, kTrackEvent = 11,
                   kInternedData = 12, kSequenceFlags = 13, kTimestampClockId = 58, kDefaults = 59,
                   kTrackDescriptor = 60;
constexpr uint64_t kIncrementalStateCleared = 1, kNeedsIncrementalState = 2;
// TracePacketDefaults: timestamp_clock_id 58, track_event_defaults 11 (TrackEventDefaults:
// track_uuid 11).
constexpr uint32_t kDefaultClock = 58, kDefaultTrackEvent = 11, kDefaultTrack = 11;
// ClockSnapshot.clocks 1: clock_id 1, timestamp 2, is_incremental 3.
constexpr uint32_t kClocks = 1, kClockId = 1, kClockTimestamp = 2, kClockIncremental = 3;
// A sequence's own clock (ids 64-127 are scoped to the sequence) counting in nanoseconds from
// the sequence's previous timestamp on it, and the trace clock, BOOTTIME, both 0 at the run's
// origin.
constexpr uint64_t kSequenceClock = 64, kBoottime = 6;
}  // namespace packet
namespace desc {
constexpr uint32_t kUuid = 1, kName = 2, kProcess = 3, kThread = 4, kParentUuid = 5, kCounter = 8;
constexpr uint32_t kPid = 1, kProcessName = 6;  // ProcessDescriptor
constexpr uint32_t kTid = 2, kThreadName = 5;   // ThreadDescriptor (pid = 1)
}  // namespace desc
namespace event {
constexpr uint32_t kCategoryIids = 3, kDebugAnnotations = 4, kType = 9, kNameIid = 10,
                   kTrackUuid = 11, kExtraCounterValues = 12, kCounterValue = 30,
                   kExtraCounterTracks = 31, kFlowIds = 47;
constexpr uint64_t kSliceBegin = 1, kSliceEnd = 2, kInstant = 3, kCounter = 4;
// DebugAnnotation
constexpr uint32_t kArgNameIid = 1, kArgInt = 4, kArgString = 6, kArgStringIid = 17;
}  // namespace event
namespace interned {
// InternedData's tables; each entry is {iid = 1, name or str = 2}.
constexpr uint32_t kCategories = 1, kEventNames = 2, kArgNames = 3, kArgStrings = 29;
}  // namespace interned

// The packets written per event: room for the whole packet is reserved (a bound on its size),
// then written through a pointer without a bound check per field.
namespace raw = trace::wire;
// What a nested message's length can take beyond its one reserved byte: bodies stay under 2^28.
constexpr size_t kLengthSlack = 4;

// One interning table of a sequence: strings to their ids (from 1), with the entries new since
// the last packet waiting to go into that packet's InternedData.
class InternTable {
 public:
  explicit InternTable(uint32_t field, size_t limit) : field_(field), limit_(limit) {}
  // The id of `s`, 0 when the table is full (the caller writes the string inline).
  uint64_t Id(std::string_view s) {
    // Callers pass the same few strings again and again from the same place: a small cache
    // keyed by where the string is, checked against its content (the place may be reused).
    Recent& r = recent_[Slot(s)];
    uint64_t head = 0, tail = 0;
    Words(s, &head, &tail);
    if (r.key && r.data == s.data() && r.size == s.size() && r.head == head && r.tail == tail &&
        (s.size() <= 16 || std::memcmp(r.key->data(), s.data(), s.size()) == 0))
      return r.id;
    auto it = ids_.find(s);
    if (it == ids_.end()) {
      if (ids_.size() >= limit_) return 0;
      it = ids_.emplace(std::string(s), ids_.size() + 1).first;
      fresh_.emplace_back(it->second, it->first);
      fresh_bytes_ += s.size() + 32;
    }
    r = {s.data(), s.size(), head, tail, &it->first, it->second};
    return it->second;
  }
  // The id of a string literal: known by its address alone, which no other string takes.
  uint64_t IdOfLiteral(std::string_view s) {
    Recent& r = recent_[Slot(s)];
    if (r.data == s.data() && r.size == s.size()) return r.id;
    const uint64_t id = Id(s);
    r = {s.data(), s.size(), 0, 0, nullptr, id};  // not for Id: no key to check against
    return id;
  }
  bool has_fresh() const { return !fresh_.empty(); }
  // At most what WriteFresh writes.
  size_t fresh_bytes() const { return fresh_bytes_; }
  // Writes the entries added since the last call.
  uint8_t* WriteFresh(uint8_t* w) {
    for (const auto& [id, s] : fresh_) {
      uint8_t* length_at;
      w = raw::Open(w, field_, &length_at);
      w = raw::Field(w, 1, id);
      w = raw::Bytes(w, 2, s);
      w = raw::Close(length_at, w);
    }
    fresh_.clear();
    fresh_bytes_ = 0;
    return w;
  }
  void Clear() {
    ids_.clear();
    fresh_.clear();
    fresh_bytes_ = 0;
    std::fill(std::begin(recent_), std::end(recent_), Recent{});
  }

 private:
  static size_t Slot(std::string_view s) {
    return ((reinterpret_cast<uintptr_t>(s.data()) + s.size()) * 0x9e3779b97f4a7c15) >>
           (64 - kRecentBits);
  }
  // The first and last 8 bytes of `s`, or all of a shorter one: all of it up to 16 bytes (the
  // common case: names, keys), for a comparison without a call.
  static void Words(std::string_view s, uint64_t* head, uint64_t* tail) {
    const char* p = s.data();
    const size_t n = s.size();
    if (n >= 8) {
      std::memcpy(head, p, 8);
      std::memcpy(tail, p + n - 8, 8);
    } else if (n >= 4) {  // two 4-byte halves, overlapping when shorter than 8
      uint32_t a, b;
      std::memcpy(&a, p, 4);
      std::memcpy(&b, p + n - 4, 4);
      *head = uint64_t{a} << 32 | b;
    } else if (n > 0) {
      *head = uint64_t{static_cast<uint8_t>(p[0])} << 16 |
              uint64_t{static_cast<uint8_t>(p[n / 2])} << 8 | static_cast<uint8_t>(p[n - 1]);
    }
  }
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  struct Recent {
    const char* data = nullptr;
    size_t size = 0;
    uint64_t head = 0, tail = 0;       // Words() of the string when it was looked up
    const std::string* key = nullptr;  // in ids_
    uint64_t id = 0;
  };
  static constexpr size_t kRecentBits = 7, kRecent = size_t{1} << kRecentBits;
  uint32_t field_;
  size_t limit_;
  Recent recent_[kRecent];
  std::unordered_map<std::string, uint64_t, Hash, std::equal_to<>> ids_;
  std::vector<std::pair<uint64_t, std::string_view>> fresh_;
  size_t fresh_bytes_ = 0;
};

// Writes buffers to a file on a thread of its own while the next ones are filled: the file
// system's copying runs beside the encoding. Up to kQueued buffers wait, so that the encoding
// seldom waits for the writing thread to be scheduled on a busy machine.
class BackgroundWriter {
 public:
  explicit BackgroundWriter(std::FILE* out) : out_(out), thread_([this] { Run(); }) {}
  ~BackgroundWriter() {
    {
      MutexLock lock(&mu_);
      stop_ = true;
    }
    changed_.SignalAll();
    thread_.join();
  }
  // Hands over `full` to be written and gives back an empty buffer (waits while kQueued are).
  std::unique_ptr<trace::WireEncoder> Write(std::unique_ptr<trace::WireEncoder> full) {
    MutexLock lock(&mu_);
    while (queued_.size() >= kQueued) changed_.Wait(&mu_);
    queued_.push_back(std::move(full));
    changed_.SignalAll();
    if (spare_.empty()) return std::make_unique<trace::WireEncoder>();
    std::unique_ptr<trace::WireEncoder> empty = std::move(spare_.back());
    spare_.pop_back();
    return empty;
  }
  // Waits until everything handed over is written; false when a write failed.
  bool Drain() {
    MutexLock lock(&mu_);
    while (!queued_.empty() || busy_) changed_.Wait(&mu_);
    return !failed_;
  }

 private:
  static constexpr size_t kQueued = 8;

  void Run() {
    MutexLock lock(&mu_);
    for (;;) {
      while (!stop_ && queued_.empty()) changed_.Wait(&mu_);
      if (queued_.empty()) return;
      std::unique_ptr<trace::WireEncoder> e = std::move(queued_.front());
      queued_.pop_front();
      busy_ = true;
      lock.Unlock();
      const bool written = WriteAll(e->data(), e->size());
      e->Clear();
      lock.Lock();
      failed_ |= !written;
      busy_ = false;
      spare_.push_back(std::move(e));
      changed_.SignalAll();
    }
  }

  // Straight to the file, after what the FILE holds: a buffer of a megabyte or more would
  // otherwise be copied into the FILE's buffer, most of it, as the FILE's holds the remainder of
  // the one before.
  bool WriteAll(const uint8_t* data, size_t size) {
    if (std::fflush(out_) != 0) return false;
    const int fd = fileno(out_);
    while (size > 0) {
      const ssize_t n = ::write(fd, data, size);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data += n;
      size -= static_cast<size_t>(n);
    }
    return true;
  }

  std::FILE* out_;
  Mutex mu_;
  CondVar changed_;
  std::deque<std::unique_ptr<trace::WireEncoder>> queued_ GUARDED_BY(mu_);  // to write, in order
  // Written, to be filled again.
  std::vector<std::unique_ptr<trace::WireEncoder>> spare_ GUARDED_BY(mu_);
  bool busy_ GUARDED_BY(mu_) = false;  // writing one taken off queued_
  bool stop_ GUARDED_BY(mu_) = false;
  bool failed_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// Event names and argument values are interned when short: the same few hundred strings (function
// names, communicator keys, datatypes) recur in every rank; long ones (evidence, group call
// lists) are written inline. A table stops growing at kInternLimit entries.
constexpr size_t kInternMaxBytes = 64, kInternLimit = 1 << 14;

class PerfettoSink : public TimelineSink {
 public:
  explicit PerfettoSink(std::FILE* out) : out_(out) {
    struct stat st;
    rewindable_ = fstat(fileno(out), &st) == 0 && S_ISREG(st.st_mode);
  }
  explicit PerfettoSink(std::function<void(std::string_view)> write)
      : out_(nullptr), write_(std::move(write)) {}

  void BeginSequence(uint32_t id, uint64_t default_track) override {
    FlushCounter();
    FlushEnds();
    sequence_ = id;
    default_track_ = default_track;
    // What starts every later packet of the sequence: its id and flags.
    prefix_size_ = 0;
    auto put = [&](uint64_t v) {
      for (; v >= 0x80; v >>= 7) prefix_[prefix_size_++] = static_cast<uint8_t>(v) | 0x80;
      prefix_[prefix_size_++] = static_cast<uint8_t>(v);
    };
    put(packet::kSequenceId << 3);
    put(sequence_);
    put(packet::kSequenceFlags << 3);
    put(packet::kNeedsIncrementalState);
    last_ts_ = 0;
    for (InternTable* t : {&categories_, &names_, &arg_names_, &arg_strings_}) t->Clear();
    // The sequence's first packet clears its state and sets it up: timestamps count on the
    // sequence's clock by default, track events go on the default track, and the clock starts
    // at the trace clock's 0.
    const size_t p = e_->BeginMessage(packet::kPacket);
    e_->Varint(packet::kSequenceId, sequence_);
    e_->Varint(packet::kSequenceFlags, packet::kIncrementalStateCleared);
    const size_t d = e_->BeginMessage(packet::kDefaults);
    e_->Varint(packet::kDefaultClock, packet::kSequenceClock);
    if (default_track_) {
      const size_t t = e_->BeginMessage(packet::kDefaultTrackEvent);
      e_->Varint(packet::kDefaultTrack, default_track_);
      e_->EndMessage(t);
    }
    e_->EndMessage(d);
    const size_t c = e_->BeginMessage(packet::kClockSnapshot);
    const size_t own = e_->BeginMessage(packet::kClocks);
    e_->Varint(packet::kClockId, packet::kSequenceClock);
    e_->VarintAlways(packet::kClockTimestamp, 0);
    e_->Varint(packet::kClockIncremental, 1);
    e_->EndMessage(own);
    const size_t boot = e_->BeginMessage(packet::kClocks);
    e_->Varint(packet::kClockId, packet::kBoottime);
    e_->VarintAlways(packet::kClockTimestamp, 0);
    e_->EndMessage(boot);
    e_->EndMessage(c);
    End(p);
  }

  bool CanRewind() const override { return rewindable_; }
  // Where the output stands: what was handed to be written and what the encoder holds. Taken
  // at each rank's start, so it does not wait for the writing thread.
  uint64_t Mark() override {
    FlushCounter();
    FlushEnds();
    return bytes_ + e_->size();
  }
  bool Rewind(uint64_t mark) override {
    if (!rewindable_ || mark > bytes_ + e_->size()) return false;
    pending_counter_ = false;
    ends_.clear();
    if (mark >= bytes_) {  // still in the encoder
      e_->Commit(e_->data() + (mark - bytes_));
      return true;
    }
    e_->Clear();
    Drain();
    if (std::fflush(out_) != 0 || ftruncate(fileno(out_), static_cast<off_t>(mark)) != 0 ||
        std::fseek(out_, static_cast<long>(mark), SEEK_SET) != 0)
      return false;
    bytes_ = mark;
    return true;
  }

  void Track(const TrackInfo& t) override {
    FlushCounter();
    const size_t p = Begin();
    const size_t d = e_->BeginMessage(packet::kTrackDescriptor);
    e_->Varint(desc::kUuid, t.uuid);
    e_->Varint(desc::kParentUuid, t.parent_uuid);
    if (t.kind == TrackKind::kProcess) {
      const size_t m = e_->BeginMessage(desc::kProcess);
      e_->Varint(desc::kPid, static_cast<uint64_t>(t.pid));
      e_->Bytes(desc::kProcessName, t.name);
      e_->EndMessage(m);
    } else if (t.kind == TrackKind::kThread) {
      const size_t m = e_->BeginMessage(desc::kThread);
      e_->Varint(desc::kPid, static_cast<uint64_t>(t.pid));
      e_->Varint(desc::kTid, static_cast<uint64_t>(t.tid));
      e_->Bytes(desc::kThreadName, t.name);
      e_->EndMessage(m);
    } else {
      e_->Bytes(desc::kName, t.name);
      if (t.kind == TrackKind::kCounter) e_->EndMessage(e_->BeginMessage(desc::kCounter));
    }
    e_->EndMessage(d);
    End(p);
  }

  void Slice(const TrackInfo& t, uint64_t begin_ns, uint64_t end_ns, std::string_view category,
             std::string_view name, std::span<const Arg> args,
             std::span<const uint64_t> flows) override {
    Event(t, begin_ns, event::kSliceBegin, category, name, args, flows);
    // The end waits until the sequence's time reaches it (a later call may start before it, as
    // a stream's slice starts before the call just written ends): timestamps then rarely go
    // back, and stay short deltas on the sequence's clock.
    ends_.push_back({end_ns, ends_order_++, t.uuid});
    std::push_heap(ends_.begin(), ends_.end(), std::greater<>());
    if (ends_.size() > kHeldEnds) WriteFirstEnd();
  }

  void Instant(const TrackInfo& t, uint64_t ts_ns, std::string_view category, std::string_view name,
               std::span<const Arg> args) override {
    Event(t, ts_ns, event::kInstant, category, name, args, {});
  }

  void Counter(const TrackInfo& t, uint64_t ts_ns, int64_t value) override {
    // Held until the next event: one at the same time carries it.
    FlushCounter();
    pending_counter_ = true;
    counter_track_ = t.uuid;
    counter_ts_ = ts_ns;
    counter_value_ = value;
  }

  bool Finish() override {
    FlushCounter();
    FlushEnds();
    Flush();
    Drain();
    return !out_ || (std::fflush(out_) == 0 && !std::ferror(out_) && !write_failed_);
  }

  std::unique_ptr<TimelineSink> Part(std::function<void(std::string_view)> write) override {
    return std::make_unique<PerfettoSink>(std::move(write));
  }
  void WriteRaw(std::string_view bytes) override {
    if (bytes.empty()) return;
    Flush();
    Drain();
    std::fwrite(bytes.data(), 1, bytes.size(), out_);
    bytes_ += bytes.size();
  }

 private:
  uint64_t Intern(InternTable& table, std::string_view s) {
    return s.empty() || s.size() > kInternMaxBytes ? 0 : table.Id(s);
  }

  // The packet's time: on the sequence's clock, as the difference from the sequence's previous
  // time, when it is not earlier; else (a stream's slice starting before an event just written)
  // in full on the trace clock, which leaves the sequence's clock where it was.
  uint8_t* Timestamp(uint8_t* w, uint64_t ts) {
    if (ts >= last_ts_) {
      w = raw::Field(w, packet::kTimestamp, ts - last_ts_);
      last_ts_ = ts;
      return w;
    }
    w = raw::Field(w, packet::kTimestampClockId, packet::kBoottime);
    return raw::Field(w, packet::kTimestamp, ts);
  }

  uint8_t* TrackOf(uint8_t* w, uint64_t uuid) {
    return uuid != default_track_ && uuid ? raw::Field(w, event::kTrackUuid, uuid) : w;
  }

  // Slice ends held for their time, at most kHeldEnds: the earliest first, those of one time in
  // the order their slices were written.
  struct HeldEnd {
    uint64_t ts, order, track;
    bool operator>(const HeldEnd& o) const { return ts != o.ts ? ts > o.ts : order > o.order; }
  };
  static constexpr size_t kHeldEnds = 256;

  // What every packet but a sequence's first takes at most before its body: its tag, length,
  // the sequence's prefix, a timestamp (on the trace clock) and the track event's tag and
  // length.
  static constexpr size_t kPacketBytes = 64;

  void WriteFirstEnd() {
    std::pop_heap(ends_.begin(), ends_.end(), std::greater<>());
    const HeldEnd end = ends_.back();
    ends_.pop_back();
    uint8_t* packet_length;
    uint8_t* w = BeginPacket(kPacketBytes + 16, &packet_length);
    w = Timestamp(w, end.ts);
    uint8_t* event_length;
    w = raw::Open(w, packet::kTrackEvent, &event_length);
    w = raw::Field(w, event::kType, event::kSliceEnd);
    w = TrackOf(w, end.track);
    w = raw::Close(event_length, w);
    EndPacket(packet_length, w);
  }
  // The held ends up to `ts`, before a packet at `ts`.
  void EndsUpTo(uint64_t ts) {
    while (!ends_.empty() && ends_.front().ts <= ts) WriteFirstEnd();
  }
  void FlushEnds() {
    while (!ends_.empty()) WriteFirstEnd();
  }

  // A counter value no event took along: a packet of its own.
  void FlushCounter() {
    if (!pending_counter_) return;
    pending_counter_ = false;
    EndsUpTo(counter_ts_);
    uint8_t* packet_length;
    uint8_t* w = BeginPacket(kPacketBytes + 32, &packet_length);
    w = Timestamp(w, counter_ts_);
    uint8_t* event_length;
    w = raw::Open(w, packet::kTrackEvent, &event_length);
    w = raw::Field(w, event::kType, event::kCounter);
    w = TrackOf(w, counter_track_);
    w = raw::Field(w, event::kCounterValue, static_cast<uint64_t>(counter_value_));
    w = raw::Close(event_length, w);
    EndPacket(packet_length, w);
  }

  void Event(const TrackInfo& t, uint64_t ts, uint64_t type, std::string_view category,
             std::string_view name, std::span<const Arg> args, std::span<const uint64_t> flows) {
    const bool with_counter = pending_counter_ && counter_ts_ == ts;
    if (!with_counter) FlushCounter();
    pending_counter_ = false;
    EndsUpTo(ts);
    // Ids first: the strings new to the sequence go into this packet's InternedData.
    const uint64_t category_id = category.empty() || category.size() > kInternMaxBytes
                                     ? 0
                                     : categories_.IdOfLiteral(category);
    const uint64_t name_id = Intern(names_, name);
    size_t bound = kPacketBytes + 64 + category.size() + name.size() + flows.size() * 11;
    ids_.resize(args.size());
    for (size_t i = 0; i < args.size(); ++i) {
      const Arg& a = args[i];
      const uint64_t name_id =
          a.name.empty() || a.name.size() > kInternMaxBytes ? 0 : arg_names_.IdOfLiteral(a.name);
      ids_[i] = {name_id, a.is_int ? 0 : Intern(arg_strings_, a.text)};
      bound += 48 + a.name.size() + a.text.size();
    }
    size_t fresh = categories_.fresh_bytes() + names_.fresh_bytes() + arg_names_.fresh_bytes() +
                   arg_strings_.fresh_bytes();
    if (fresh) fresh += 16;  // InternedData's tag and length

    uint8_t* packet_length;
    uint8_t* w = BeginPacket(bound + fresh, &packet_length);
    w = Timestamp(w, ts);
    if (fresh) {
      uint8_t* interned_length;
      w = raw::Open(w, packet::kInternedData, &interned_length);
      for (InternTable* table : {&categories_, &names_, &arg_names_, &arg_strings_})
        w = table->WriteFresh(w);
      w = raw::Close(interned_length, w);
    }
    uint8_t* event_length;
    w = raw::Open(w, packet::kTrackEvent, &event_length);
    w = raw::Field(w, event::kType, type);
    w = TrackOf(w, t.uuid);
    if (category_id)
      w = raw::Field(w, event::kCategoryIids, category_id);
    else if (!category.empty())
      w = raw::Bytes(w, kCategoriesField, category);
    if (name_id)
      w = raw::Field(w, event::kNameIid, name_id);
    else if (!name.empty())
      w = raw::Bytes(w, kNameField, name);
    for (size_t i = 0; i < args.size(); ++i) {
      const Arg& a = args[i];
      const auto [arg_name_id, text_id] = ids_[i];
      uint8_t* arg_length;
      w = raw::Open(w, event::kDebugAnnotations, &arg_length);
      if (arg_name_id)
        w = raw::Field(w, event::kArgNameIid, arg_name_id);
      else if (!a.name.empty())
        w = raw::Bytes(w, kArgNameField, a.name);
      if (a.is_int)
        w = raw::Field(w, event::kArgInt, static_cast<uint64_t>(a.value));
      else if (text_id)
        w = raw::Field(w, event::kArgStringIid, text_id);
      else
        w = raw::Bytes(w, event::kArgString, a.text);  // an empty string is still a value
      w = raw::Close(arg_length, w);
    }
    for (uint64_t f : flows) {
      w = raw::Varint(w, raw::Tag(event::kFlowIds, 1));
      std::memcpy(w, &f, 8);  // fixed64, little endian (x86-64 / aarch64)
      w += 8;
    }
    if (with_counter) {
      w = raw::Field(w, event::kExtraCounterTracks, counter_track_);
      w = raw::Field(w, event::kExtraCounterValues, static_cast<uint64_t>(counter_value_));
    }
    w = raw::Close(event_length, w);
    EndPacket(packet_length, w);
  }

  // Inline forms, for strings too long to intern or a full table.
  static constexpr uint32_t kCategoriesField = 22, kNameField = 23, kArgNameField = 10;

  // A TracePacket after the sequence's first, of `bound` bytes at most: Trace.packet, the
  // sequence id, and the flag that says it needs the sequence's state (its defaults, clock and
  // interned strings). Written through the pointer returned, then ended by EndPacket.
  uint8_t* BeginPacket(size_t bound, uint8_t** length_at) {
    if (sequence_ == 0) BeginSequence(1, 0);
    uint8_t* w =
        raw::Open(e_->Room(bound + prefix_size_ + 2 * kLengthSlack), packet::kPacket, length_at);
    std::memcpy(w, prefix_, prefix_size_);
    return w + prefix_size_;
  }
  void EndPacket(uint8_t* length_at, uint8_t* w) {
    e_->Commit(raw::Close(length_at, w));
    if (e_->size() >= (1u << 20)) Flush();
  }

  // The same as a WireEncoder (for the packets written once per sequence or track).
  size_t Begin() {
    if (sequence_ == 0) BeginSequence(1, 0);
    const size_t p = e_->BeginMessage(packet::kPacket);
    e_->RawBytes(prefix_, prefix_size_);
    return p;
  }
  // Packets collect in the encoder and go out a megabyte at a time.
  void End(size_t p) {
    e_->EndMessage(p);
    if (e_->size() >= (1u << 20)) Flush();
  }
  void Flush() {
    if (!e_->size()) return;
    bytes_ += e_->size();
    if (!out_) {
      write_(e_->view());
      e_->Clear();
    } else if (e_->size() >= (1u << 20) && std::thread::hardware_concurrency() > 1) {
      if (!writer_) writer_ = std::make_unique<BackgroundWriter>(out_);
      e_ = writer_->Write(std::move(e_));
    } else {
      Drain();
      std::fwrite(e_->data(), 1, e_->size(), out_);
      e_->Clear();
    }
  }
  // Everything handed to the background writer is in the file (the FILE's buffer).
  void Drain() {
    if (writer_ && !writer_->Drain()) write_failed_ = true;
  }

  std::FILE* out_;  // null: a part, whose bytes go to write_
  std::function<void(std::string_view)> write_;
  bool rewindable_ = false;
  std::unique_ptr<trace::WireEncoder> e_ = std::make_unique<trace::WireEncoder>();
  std::unique_ptr<BackgroundWriter> writer_;  // once there is a megabyte to write
  bool write_failed_ = false;                 // by the writer
  uint64_t sequence_ = 0;                     // 0: none begun yet
  uint64_t default_track_ = 0;
  uint8_t prefix_[16] = {};
  size_t prefix_size_ = 0;
  uint64_t last_ts_ = 0;  // the sequence's clock
  // A counter value waiting for the next event.
  bool pending_counter_ = false;
  uint64_t counter_track_ = 0, counter_ts_ = 0;
  int64_t counter_value_ = 0;
  std::vector<HeldEnd> ends_;  // a heap, the earliest on top
  uint64_t ends_order_ = 0;
  InternTable categories_{interned::kCategories, kInternLimit};
  InternTable names_{interned::kEventNames, kInternLimit};
  InternTable arg_names_{interned::kArgNames, kInternLimit};
  InternTable arg_strings_{interned::kArgStrings, kInternLimit};
  std::vector<std::pair<uint64_t, uint64_t>> ids_;  // per argument: name id, string id
};

std::string Micros(uint64_t ns) {
  char buf[32];
  snprintf(buf, sizeof buf, "%" PRIu64 ".%03" PRIu64, ns / 1000, ns % 1000);
  return buf;
}

class JsonSink : public TimelineSink {
 public:
  explicit JsonSink(std::FILE* out) : out_(out) { Write("{\"traceEvents\":[\n"); }

  void Track(const TrackInfo& t) override {
    if (t.kind == TrackKind::kCounter) return;  // JSON counters are named by their events
    const bool process = t.kind == TrackKind::kProcess;
    Item("{\"ph\":\"M\",\"name\":\"" + std::string(process ? "process_name" : "thread_name") +
         "\",\"pid\":" + std::to_string(t.pid) + ",\"tid\":" + std::to_string(process ? 0 : t.tid) +
         ",\"args\":{\"name\":" + trace::EventPrinter::JsonString(t.name) + "}}");
    if (process)
      Item("{\"ph\":\"M\",\"name\":\"process_sort_index\",\"pid\":" + std::to_string(t.pid) +
           ",\"tid\":0,\"args\":{\"sort_index\":" + std::to_string(t.pid) + "}}");
  }

  void Slice(const TrackInfo& t, uint64_t begin_ns, uint64_t end_ns, std::string_view category,
             std::string_view name, std::span<const Arg> args,
             std::span<const uint64_t> flows) override {
    Item("{\"ph\":\"X\"" + Common(t, begin_ns, category, name) +
         ",\"dur\":" + Micros(end_ns - begin_ns) + Args(args) + "}");
    // Flows: each slice with a flow id is linked to the previous slice (in the file) with that id
    // by a pair of its own, a start ("s") in the earlier of the two and an end bound to its
    // enclosing slice ("f", "bp":"e") in the later, both in the middle of their slice: a viewer
    // that reads events in time order then sees every start before its end.
    const FlowPoint here{t.pid, TidOf(t), begin_ns + (end_ns - begin_ns) / 2};
    for (uint64_t f : flows) {
      auto [it, added] = flows_.try_emplace(f, FlowPoint{}, 0);
      if (!added) {
        const FlowPoint& before = it->second.first;
        const bool forward = before.ts <= here.ts;
        const std::string id =
            "\"" + trace::EventPrinter::Hex(f) + "." + std::to_string(++it->second.second) + "\"";
        FlowEvent("s", id, forward ? before : here);
        FlowEvent("f", id, forward ? here : before);
      }
      it->second.first = here;
    }
  }

  void Instant(const TrackInfo& t, uint64_t ts_ns, std::string_view category, std::string_view name,
               std::span<const Arg> args) override {
    const char* scope = t.kind == TrackKind::kProcess ? "p" : "t";
    Item("{\"ph\":\"i\",\"s\":\"" + std::string(scope) + "\"" + Common(t, ts_ns, category, name) +
         Args(args) + "}");
  }

  void Counter(const TrackInfo& t, uint64_t ts_ns, int64_t value) override {
    Item("{\"ph\":\"C\",\"name\":" + trace::EventPrinter::JsonString(t.name) +
         ",\"pid\":" + std::to_string(t.pid) + ",\"ts\":" + Micros(ts_ns) +
         ",\"args\":{\"value\":" + std::to_string(value) + "}}");
  }

  bool Finish() override {
    Write("\n],\"displayTimeUnit\":\"ns\"}\n");
    return std::fflush(out_) == 0 && !std::ferror(out_);
  }

 private:
  struct FlowPoint {
    int32_t pid = 0, tid = 0;
    uint64_t ts = 0;
  };
  static int32_t TidOf(const TrackInfo& t) { return t.kind == TrackKind::kProcess ? 0 : t.tid; }
  static std::string Common(const TrackInfo& t, uint64_t ts, std::string_view category,
                            std::string_view name) {
    return ",\"cat\":" + trace::EventPrinter::JsonString(category) +
           ",\"name\":" + trace::EventPrinter::JsonString(name) +
           ",\"pid\":" + std::to_string(t.pid) + ",\"tid\":" + std::to_string(TidOf(t)) +
           ",\"ts\":" + Micros(ts);
  }
  void FlowEvent(const char* phase, const std::string& id, const FlowPoint& at) {
    Item(std::string("{\"ph\":\"") + phase + "\"" + (phase[0] == 'f' ? ",\"bp\":\"e\"" : "") +
         ",\"cat\":\"flow\",\"name\":\"op\",\"id\":" + id + ",\"pid\":" + std::to_string(at.pid) +
         ",\"tid\":" + std::to_string(at.tid) + ",\"ts\":" + Micros(at.ts) + "}");
  }
  static std::string Args(std::span<const Arg> args) {
    if (args.empty()) return "";
    std::string s = ",\"args\":{";
    for (size_t i = 0; i < args.size(); ++i) {
      if (i) s += ',';
      s += trace::EventPrinter::JsonString(args[i].name) + ':' +
           (args[i].is_int ? std::to_string(args[i].value)
                           : trace::EventPrinter::JsonString(args[i].text));
    }
    return s + '}';
  }
  void Item(const std::string& s) {
    if (!first_) Write(",\n");
    first_ = false;
    Write(s);
  }
  void Write(const std::string& s) {
    std::fwrite(s.data(), 1, s.size(), out_);
    bytes_ += s.size();
  }

  std::FILE* out_;
  bool first_ = true;
  // Per flow id: where it was last seen, and how many links it has so far.
  std::unordered_map<uint64_t, std::pair<FlowPoint, uint64_t>> flows_;
};

}  // namespace

std::unique_ptr<TimelineSink> MakePerfettoSink(std::FILE* out) {
  return std::make_unique<PerfettoSink>(out);
}
std::unique_ptr<TimelineSink> MakeJsonSink(std::FILE* out) {
  return std::make_unique<JsonSink>(out);
}

}  // namespace ddrr::timeline
