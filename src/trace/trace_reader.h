// RankFileReader: reads one rank file (format.h) with libprotobuf, salvaging what it can.
//
// Open() fails only when nothing at all can be read (missing or empty file, wrong magic, newer
// format, damaged header). Damage further on is recorded as a TraceProblem (file, offset, one
// line) and reading goes on: every intact frame before the damage is returned, and the reader
// resynchronises on the next intact frame (via the footer index when it is intact, else by
// scanning for a frame whose checksum verifies).
//
// Thread-safety: none; one reader per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "ddrr/trace.pb.h"
#include "trace/format.h"
#include "trace/record_encoders.h"

namespace ddrr::trace {

struct TraceProblem {
  std::string file;
  uint64_t offset = 0;
  std::string message;
  std::string ToString() const;  // "<file>: offset <n>: <message>"
};

// Where an event sits; seq and time are resolved from the frame's deltas.
struct EventPosition {
  uint64_t seq = 0;
  uint64_t time_ns = 0;       // since the header's start_mono_ns
  uint64_t frame_offset = 0;  // file offset of the frame holding it
};

class RankFileReader {
 public:
  static StatusOr<std::unique_ptr<RankFileReader>> Open(const std::string& path);
  // Reads from memory the caller keeps alive (tests, fuzzer). `name` appears in messages.
  static StatusOr<std::unique_ptr<RankFileReader>> OpenMemory(std::string name,
                                                              std::string_view bytes);
  ~RankFileReader();

  const std::string& name() const { return name_; }
  uint32_t format_version() const { return version_; }
  // The rank file header; rank, world size and rank source as the footer corrects them when the
  // process took its rank from its first communicator.
  const Header& header() const { return header_; }
  // The footer when present and intact; nullptr when the rank did not close its trace.
  const Footer* footer() const { return has_footer_ ? &footer_ : nullptr; }
  // A reader's snapshot of a rank whose process was still running (footer END_LIVE).
  bool still_running() const { return has_footer_ && footer_.end_reason() == END_LIVE; }
  uint64_t file_size() const { return size_; }

  // Next event in file order; false at the end. Damage is skipped and recorded.
  bool Next(Event* event, EventPosition* pos);
  // The next Next() returns the first event whose seq >= `seq` (uses the index when present).
  void SeekToSeq(uint64_t seq);
  // Rewinds to the first frame; problems found so far are kept (not duplicated).
  void Rewind();
  // Gives back the memory reading took (the decompressed frame, the recent-calls ring, the
  // file's pages mapped in, including those opening the file faulted in): a tool that holds
  // thousands of readers and reads them one after another stays at one rank's worth. Reading
  // may go on afterwards (Rewind() first); the pages are mapped in again.
  void ReleaseMemory();

  const std::vector<TraceProblem>& problems() const { return problems_; }
  uint64_t payload_frames() const { return payload_frames_; }

  // The data stored under `content_hash` in the payload frames (capture level payloads).
  // NotFound when no intact payload frame holds it. Independent of Next()'s position.
  StatusOr<std::string> Payload(uint64_t content_hash) const;
  // The data of call `call_seq`'s buffer in `role` (BUFFER_INPUT / BUFFER_OUTPUT), checked
  // against the content hash recorded with it (the recorder's XXH64 of the bytes): NotFound when
  // no payload of that call was recorded, Corruption when the stored bytes do not match. Reads
  // the events from the start; Next() starts over afterwards.
  StatusOr<std::string> CallPayload(uint64_t call_seq, int role);

 private:
  RankFileReader(std::string name, const uint8_t* data, uint64_t size, void* mapping);
  Status ReadPreamble();
  void ReadFooter();
  bool LoadNextFrame();
  bool ValidFrameAt(uint64_t off, struct FrameHeader* h) const;
  void ResolveWireFields(Event* event, uint64_t seq);
  void Resync(uint64_t from);
  void AddProblem(uint64_t offset, std::string message);

  std::string name_;
  const uint8_t* data_;
  uint64_t size_;
  void* mapping_;  // munmap on destruction when non-null

  uint32_t version_ = 0;
  Header header_;
  Footer footer_;
  bool has_footer_ = false;
  uint64_t frames_begin_ = 0;
  uint64_t frames_end_ = 0;

  uint64_t pos_ = 0;  // next frame header offset
  std::string raw_;   // decompressed current frame
  size_t cursor_ = 0;
  uint64_t frame_offset_ = 0;
  bool frame_first_ = true;
  uint64_t prev_seq_ = 0;
  uint64_t prev_time_ = 0;
  uint64_t skip_below_seq_ = 0;
  std::unordered_map<uint64_t, uint64_t> frame_last_op_;  // comm_key -> op_seq, this frame
  // Recent calls' op_seq by seq, so completions can name their op (bounded ring). Allocated
  // when the first frame is read, freed by ReleaseMemory(): a tool holding thousands of open
  // readers pays for it only while reading.
  static constexpr size_t kRecentCalls = 4096;
  static_assert(kRecentCalls >= kImplicitOpSeqMaxBack);
  std::vector<std::pair<uint64_t, uint64_t>> recent_ops_;
  bool done_ = false;
  uint64_t payload_frames_ = 0;
  std::set<std::pair<uint64_t, std::string>> seen_problems_;
  std::vector<TraceProblem> problems_;
};

// "metadata", "digests" or "payloads" for a header's capture level (the CaptureLevel enum's names
// without their prefix, as --level spells them), "unknown" for another value.
std::string CaptureLevelName(int level);

// A footer's facts about the rank's end, to write them again into a copy of its rank file.
FooterInfo EndFactsOf(const Footer& footer);

}  // namespace ddrr::trace
