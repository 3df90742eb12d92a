#include "export/timeline_sink.h"

#include <algorithm>
#include <cinttypes>
#include <functional>
#include <string>
#include <unordered_map>
#include <utility>

#include "trace/event_printer.h"
#include "trace/wire_encoder.h"

namespace ddrr::timeline {
namespace {

// Perfetto's field numbers (protos/perfetto/trace/...; docs/EXPORT.md lists them).
namespace packet {
constexpr uint32_t kPacket = 1;  // Trace.packet
constexpr uint32_t kTimestamp = 8, kSequenceId = 10, kTrackEvent = 11, kInternedData = 12,
                   kSequenceFlags = 13, kTrackDescriptor = 60;
constexpr uint64_t kIncrementalStateCleared = 1, kNeedsIncrementalState = 2;
}  // namespace packet
namespace desc {
constexpr uint32_t kUuid = 1, kName = 2, kProcess = 3, kThread = 4, kParentUuid = 5, kCounter = 8;
constexpr uint32_t kPid = 1, kProcessName = 6;  // ProcessDescriptor
constexpr uint32_t kTid = 2, kThreadName = 5;   // ThreadDescriptor (pid = 1)
}  // namespace desc
namespace event {
constexpr uint32_t kCategoryIids = 3, kDebugAnnotations = 4, kType = 9, kNameIid = 10,
                   kTrackUuid = 11, kCounterValue = 30, kFlowIds = 47;
constexpr uint64_t kSliceBegin = 1, kSliceEnd = 2, kInstant = 3, kCounter = 4;
// DebugAnnotation
constexpr uint32_t kArgNameIid = 1, kArgInt = 4, kArgString = 6, kArgStringIid = 17;
}  // namespace event
namespace interned {
// InternedData's tables; each entry is {iid = 1, name or str = 2}.
constexpr uint32_t kCategories = 1, kEventNames = 2, kArgNames = 3, kArgStrings = 29;
}  // namespace interned

const std::vector<Arg> kNoArgs;
const std::vector<uint64_t> kNoFlows;

// One interning table of a sequence: strings to their ids (from 1), with the entries new since
// the last packet waiting to go into that packet's InternedData.
class InternTable {
 public:
  explicit InternTable(uint32_t field, size_t limit) : field_(field), limit_(limit) {}
  // The id of `s`, 0 when the table is full (the caller writes the string inline).
  uint64_t Id(std::string_view s) {
    // Callers pass the same few strings again and again from the same place: a small cache
    // keyed by where the string is, checked against its content (the place may be reused).
    Recent& r = recent_[((reinterpret_cast<uintptr_t>(s.data()) >> 3) ^ s.size()) % kRecent];
    if (r.data == s.data() && r.key && *r.key == s) return r.id;
    auto it = ids_.find(s);
    if (it == ids_.end()) {
      if (ids_.size() >= limit_) return 0;
      it = ids_.emplace(std::string(s), ids_.size() + 1).first;
      fresh_.emplace_back(it->second, it->first);
    }
    r = {s.data(), &it->first, it->second};
    return it->second;
  }
  bool has_fresh() const { return !fresh_.empty(); }
  // Writes the entries added since the last call.
  void WriteFresh(trace::WireEncoder& e) {
    for (const auto& [id, s] : fresh_) {
      const size_t m = e.BeginMessage(field_);
      e.Varint(1, id);
      e.Tag(2, 2);
      e.RawVarint(s.size());
      e.RawBytes(s.data(), s.size());
      e.EndMessage(m);
    }
    fresh_.clear();
  }
  void Clear() {
    ids_.clear();
    fresh_.clear();
    std::fill(std::begin(recent_), std::end(recent_), Recent{});
  }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  struct Recent {
    const char* data = nullptr;
    const std::string* key = nullptr;  // in ids_
    uint64_t id = 0;
  };
  static constexpr size_t kRecent = 64;
  uint32_t field_;
  size_t limit_;
  Recent recent_[kRecent];
  std::unordered_map<std::string, uint64_t, Hash, std::equal_to<>> ids_;
  std::vector<std::pair<uint64_t, std::string_view>> fresh_;
};

// Event names and argument values are interned when short: the same few hundred strings (function
// names, communicator keys, datatypes) recur in every rank; long ones (evidence, group call
// lists) are written inline. A table stops growing at kInternLimit entries.
constexpr size_t kInternMaxBytes = 64, kInternLimit = 1 << 14;

class PerfettoSink : public TimelineSink {
 public:
  explicit PerfettoSink(std::FILE* out) : out_(out) {}
  explicit PerfettoSink(std::function<void(std::string_view)> write)
      : out_(nullptr), write_(std::move(write)) {}

  void BeginSequence(uint32_t id) override {
    sequence_ = id;
    first_ = true;
    for (InternTable* t : {&categories_, &names_, &arg_names_, &arg_strings_}) t->Clear();
  }

  void Track(const TrackInfo& t) override {
    const size_t p = Begin(/*incremental=*/false);
    const size_t d = e_.BeginMessage(packet::kTrackDescriptor);
    e_.Varint(desc::kUuid, t.uuid);
    e_.Varint(desc::kParentUuid, t.parent_uuid);
    if (t.kind == TrackKind::kProcess) {
      const size_t m = e_.BeginMessage(desc::kProcess);
      e_.Varint(desc::kPid, static_cast<uint64_t>(t.pid));
      e_.Bytes(desc::kProcessName, t.name);
      e_.EndMessage(m);
    } else if (t.kind == TrackKind::kThread) {
      const size_t m = e_.BeginMessage(desc::kThread);
      e_.Varint(desc::kPid, static_cast<uint64_t>(t.pid));
      e_.Varint(desc::kTid, static_cast<uint64_t>(t.tid));
      e_.Bytes(desc::kThreadName, t.name);
      e_.EndMessage(m);
    } else {
      e_.Bytes(desc::kName, t.name);
      if (t.kind == TrackKind::kCounter) e_.EndMessage(e_.BeginMessage(desc::kCounter));
    }
    e_.EndMessage(d);
    End(p);
  }

  void Slice(const TrackInfo& t, uint64_t begin_ns, uint64_t end_ns, std::string_view category,
             std::string_view name, const std::vector<Arg>& args,
             const std::vector<uint64_t>& flows) override {
    Event(t, begin_ns, event::kSliceBegin, category, name, args, flows);
    Event(t, end_ns, event::kSliceEnd, "", "", kNoArgs, kNoFlows);
  }

  void Instant(const TrackInfo& t, uint64_t ts_ns, std::string_view category, std::string_view name,
               const std::vector<Arg>& args) override {
    Event(t, ts_ns, event::kInstant, category, name, args, kNoFlows);
  }

  void Counter(const TrackInfo& t, uint64_t ts_ns, int64_t value) override {
    const size_t p = Begin(/*incremental=*/true);
    e_.VarintAlways(packet::kTimestamp, ts_ns);
    const size_t m = e_.BeginMessage(packet::kTrackEvent);
    e_.Varint(event::kType, event::kCounter);
    e_.Varint(event::kTrackUuid, t.uuid);
    e_.VarintAlways(event::kCounterValue, static_cast<uint64_t>(value));
    e_.EndMessage(m);
    End(p);
  }

  bool Finish() override {
    Flush();
    return !out_ || (std::fflush(out_) == 0 && !std::ferror(out_));
  }

  std::unique_ptr<TimelineSink> Part(std::function<void(std::string_view)> write) override {
    return std::make_unique<PerfettoSink>(std::move(write));
  }
  void WriteRaw(std::string_view bytes) override {
    if (bytes.empty()) return;
    Flush();
    std::fwrite(bytes.data(), 1, bytes.size(), out_);
    bytes_ += bytes.size();
  }

 private:
  uint64_t Intern(InternTable& table, std::string_view s) {
    return s.empty() || s.size() > kInternMaxBytes ? 0 : table.Id(s);
  }

  void Event(const TrackInfo& t, uint64_t ts, uint64_t type, std::string_view category,
             std::string_view name, const std::vector<Arg>& args,
             const std::vector<uint64_t>& flows) {
    // Ids first: the strings new to the sequence go into this packet's InternedData.
    const uint64_t category_id = Intern(categories_, category);
    const uint64_t name_id = Intern(names_, name);
    ids_.clear();
    for (const Arg& a : args)
      ids_.emplace_back(Intern(arg_names_, a.name), a.is_int ? 0 : Intern(arg_strings_, a.text));

    const size_t p = Begin(/*incremental=*/true);
    e_.VarintAlways(packet::kTimestamp, ts);
    if (categories_.has_fresh() || names_.has_fresh() || arg_names_.has_fresh() ||
        arg_strings_.has_fresh()) {
      const size_t m = e_.BeginMessage(packet::kInternedData);
      for (InternTable* table : {&categories_, &names_, &arg_names_, &arg_strings_})
        table->WriteFresh(e_);
      e_.EndMessage(m);
    }
    const size_t m = e_.BeginMessage(packet::kTrackEvent);
    e_.Varint(event::kType, type);
    e_.Varint(event::kTrackUuid, t.uuid);
    if (category_id)
      e_.Varint(event::kCategoryIids, category_id);
    else
      e_.Bytes(kCategoriesField, category);
    if (name_id)
      e_.Varint(event::kNameIid, name_id);
    else
      e_.Bytes(kNameField, name);
    for (size_t i = 0; i < args.size(); ++i) {
      const Arg& a = args[i];
      const auto [arg_name_id, text_id] = ids_[i];
      const size_t am = e_.BeginMessage(event::kDebugAnnotations);
      if (arg_name_id)
        e_.Varint(event::kArgNameIid, arg_name_id);
      else
        e_.Bytes(kArgNameField, a.name);
      if (a.is_int) {
        e_.VarintAlways(event::kArgInt, static_cast<uint64_t>(a.value));
      } else if (text_id) {
        e_.Varint(event::kArgStringIid, text_id);
      } else {
        e_.Tag(event::kArgString, 2);  // an empty string is still a value
        e_.RawVarint(a.text.size());
        e_.RawBytes(a.text.data(), a.text.size());
      }
      e_.EndMessage(am);
    }
    for (uint64_t f : flows) {
      e_.Tag(event::kFlowIds, 1);
      e_.RawFixed64(f);
    }
    e_.EndMessage(m);
    End(p);
  }

  // Inline forms, for strings too long to intern or a full table.
  static constexpr uint32_t kCategoriesField = 22, kNameField = 23, kArgNameField = 10;

  // One TracePacket: Trace.packet and the sequence id; the first packet of a sequence says it
  // starts with clean state, the track events after it that they need that state (the interned
  // strings).
  size_t Begin(bool incremental) {
    if (sequence_ == 0) BeginSequence(1);
    const size_t p = e_.BeginMessage(packet::kPacket);
    e_.Varint(packet::kSequenceId, sequence_);
    if (first_)
      e_.Varint(packet::kSequenceFlags, packet::kIncrementalStateCleared);
    else if (incremental)
      e_.Varint(packet::kSequenceFlags, packet::kNeedsIncrementalState);
    first_ = false;
    return p;
  }
  // Packets collect in the encoder and go out a megabyte at a time.
  void End(size_t p) {
    e_.EndMessage(p);
    if (e_.size() >= (1u << 20)) Flush();
  }
  void Flush() {
    if (!e_.size()) return;
    if (out_)
      std::fwrite(e_.data(), 1, e_.size(), out_);
    else
      write_(e_.view());
    bytes_ += e_.size();
    e_.Clear();
  }

  std::FILE* out_;  // null: a part, whose bytes go to write_
  std::function<void(std::string_view)> write_;
  trace::WireEncoder e_;
  uint64_t sequence_ = 0;  // 0: none begun yet
  bool first_ = true;
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
             std::string_view name, const std::vector<Arg>& args,
             const std::vector<uint64_t>& flows) override {
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
               const std::vector<Arg>& args) override {
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
  static std::string Args(const std::vector<Arg>& args) {
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
