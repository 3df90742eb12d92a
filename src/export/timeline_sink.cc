#include "export/timeline_sink.h"

#include <cinttypes>

#include "trace/event_printer.h"
#include "trace/wire_encoder.h"

namespace ddrr::timeline {
namespace {

// Perfetto's field numbers (protos/perfetto/trace/...; docs/EXPORT.md lists them).
namespace packet {
constexpr uint32_t kPacket = 1;  // Trace.packet
constexpr uint32_t kTimestamp = 8, kSequenceId = 10, kTrackEvent = 11, kSequenceFlags = 13,
                   kTrackDescriptor = 60;
constexpr uint64_t kIncrementalStateCleared = 1;
}  // namespace packet
namespace desc {
constexpr uint32_t kUuid = 1, kName = 2, kProcess = 3, kThread = 4, kParentUuid = 5, kCounter = 8;
constexpr uint32_t kPid = 1, kProcessName = 6;  // ProcessDescriptor
constexpr uint32_t kTid = 2, kThreadName = 5;   // ThreadDescriptor (pid = 1)
}  // namespace desc
namespace event {
constexpr uint32_t kDebugAnnotations = 4, kType = 9, kTrackUuid = 11, kCategories = 22, kName = 23,
                   kCounterValue = 30, kFlowIds = 47;
constexpr uint64_t kSliceBegin = 1, kSliceEnd = 2, kInstant = 3, kCounter = 4;
constexpr uint32_t kArgName = 10, kArgInt = 4, kArgString = 6;  // DebugAnnotation
}  // namespace event

const std::vector<Arg> kNoArgs;
const std::vector<uint64_t> kNoFlows;

class PerfettoSink : public TimelineSink {
 public:
  explicit PerfettoSink(std::FILE* out) : out_(out) {}

  void Track(const TrackInfo& t) override {
    const size_t p = Begin();
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
    const size_t p = Begin();
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
    return std::fflush(out_) == 0 && !std::ferror(out_);
  }

 private:
  void Event(const TrackInfo& t, uint64_t ts, uint64_t type, std::string_view category,
             std::string_view name, const std::vector<Arg>& args,
             const std::vector<uint64_t>& flows) {
    const size_t p = Begin();
    e_.VarintAlways(packet::kTimestamp, ts);
    const size_t m = e_.BeginMessage(packet::kTrackEvent);
    e_.Varint(event::kType, type);
    e_.Varint(event::kTrackUuid, t.uuid);
    e_.Bytes(event::kCategories, category);
    e_.Bytes(event::kName, name);
    for (const Arg& a : args) {
      const size_t am = e_.BeginMessage(event::kDebugAnnotations);
      e_.Bytes(event::kArgName, a.name);
      if (a.is_int) {
        e_.VarintAlways(event::kArgInt, static_cast<uint64_t>(a.value));
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

  // One TracePacket: Trace.packet, the sequence id, and on the first packet of the sequence the
  // flag that says it starts with clean state.
  size_t Begin() {
    const size_t p = e_.BeginMessage(packet::kPacket);
    e_.Varint(packet::kSequenceId, 1);
    if (first_) e_.Varint(packet::kSequenceFlags, packet::kIncrementalStateCleared);
    first_ = false;
    return p;
  }
  // Packets collect in the encoder and go out a megabyte at a time.
  void End(size_t p) {
    e_.EndMessage(p);
    if (e_.size() >= (1u << 20)) Flush();
  }
  void Flush() {
    std::fwrite(e_.data(), 1, e_.size(), out_);
    bytes_ += e_.size();
    e_.Clear();
  }

  std::FILE* out_;
  trace::WireEncoder e_;
  bool first_ = true;
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
  static std::string Common(const TrackInfo& t, uint64_t ts, std::string_view category,
                            std::string_view name) {
    const int32_t tid = t.kind == TrackKind::kProcess ? 0 : t.tid;
    return ",\"cat\":" + trace::EventPrinter::JsonString(category) +
           ",\"name\":" + trace::EventPrinter::JsonString(name) +
           ",\"pid\":" + std::to_string(t.pid) + ",\"tid\":" + std::to_string(tid) +
           ",\"ts\":" + Micros(ts);
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
};

}  // namespace

std::unique_ptr<TimelineSink> MakePerfettoSink(std::FILE* out) {
  return std::make_unique<PerfettoSink>(out);
}
std::unique_ptr<TimelineSink> MakeJsonSink(std::FILE* out) {
  return std::make_unique<JsonSink>(out);
}

}  // namespace ddrr::timeline
