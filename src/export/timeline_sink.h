// TimelineSink: where the timeline exporter (timeline.h) puts tracks, slices, instants and
// counters. Two formats: Perfetto's native protobuf trace (a stream of TracePackets, encoded
// with ddrr's wire encoder, no Perfetto library) and Chrome's trace-event JSON. Both are written
// as they come, so a sink holds no more than one event.
//
// Times are nanoseconds from the run's origin (the earliest rank start). A track is named by a
// 64-bit uuid the caller chooses; a track is declared before its first event.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ddrr::timeline {

enum class Format { kPerfetto, kJson };

// A debug argument of a slice or instant: a string, or an integer when `is_int`. The name is a
// string literal (sinks may know it by its address); the text needs to stay valid only during
// the sink call it is passed to (sinks write at once).
struct Arg {
  std::string_view name;
  std::string_view text;
  int64_t value = 0;
  bool is_int = false;
};
template <size_t N>
Arg IntArg(const char (&name)[N], int64_t v) {
  return {{name, N - 1}, {}, v, true};
}
template <size_t N>
Arg TextArg(const char (&name)[N], std::string_view v) {
  return {{name, N - 1}, v};
}

enum class TrackKind { kProcess, kThread, kNamed, kCounter };

struct TrackInfo {
  uint64_t uuid = 0;
  uint64_t parent_uuid = 0;  // the process track; 0 for a process
  TrackKind kind = TrackKind::kNamed;
  int32_t pid = 0;  // the process of this track
  int32_t tid = 0;  // threads and named tracks: a number unique in the trace (JSON's tid)
  std::string name;
};

class TimelineSink {
 public:
  virtual ~TimelineSink() = default;
  // Starts packet sequence `id` (> 0; Perfetto: its trusted_packet_sequence_id, with interning
  // state and a clock of its own); what follows until the next call belongs to it. Events on
  // `default_track` (a uuid; 0: none) are written without their track where the format allows.
  // No-op for JSON.
  virtual void BeginSequence(uint32_t id, uint64_t default_track = 0) {
    (void)id;
    (void)default_track;
  }
  // Where the output stands now, and taking it back there (dropping what was written since):
  // for a rank whose timeline turns out to need what only the whole run tells. Rewind is false
  // when the sink cannot (JSON, a part, an output that is not a regular file).
  virtual bool CanRewind() const { return false; }
  virtual uint64_t Mark() { return bytes_; }
  virtual bool Rewind(uint64_t mark) {
    (void)mark;
    return false;
  }
  // For writing ranks in parallel: a sink of the same format that hands its bytes to `write`
  // (a megabyte or more at a time, and at Finish) instead of writing them; the caller puts them
  // out with WriteRaw in order. Null when the format is written in one piece (JSON).
  virtual std::unique_ptr<TimelineSink> Part(std::function<void(std::string_view)> write) {
    (void)write;
    return nullptr;
  }
  virtual void WriteRaw(std::string_view bytes) { (void)bytes; }
  virtual void Track(const TrackInfo& track) = 0;
  // A slice [begin, end]; `flows` link it to the slices of other tracks with the same ids. A
  // category (here and for instants) is a string literal or another string of static storage.
  virtual void Slice(const TrackInfo& track, uint64_t begin_ns, uint64_t end_ns,
                     std::string_view category, std::string_view name, std::span<const Arg> args,
                     std::span<const uint64_t> flows) = 0;
  virtual void Instant(const TrackInfo& track, uint64_t ts_ns, std::string_view category,
                       std::string_view name, std::span<const Arg> args) = 0;
  // A counter's new value. Perfetto: a value at the same time as the slice or instant that
  // follows it is written with that event (its extra counter values), not as a packet of its own.
  virtual void Counter(const TrackInfo& track, uint64_t ts_ns, int64_t value) = 0;
  // Ends the output (JSON's closing bracket); false when writing failed.
  virtual bool Finish() = 0;
  uint64_t bytes() const { return bytes_; }

 protected:
  uint64_t bytes_ = 0;
};

// Writes to `out`, which the caller opens and closes.
std::unique_ptr<TimelineSink> MakePerfettoSink(std::FILE* out);
std::unique_ptr<TimelineSink> MakeJsonSink(std::FILE* out);

}  // namespace ddrr::timeline
