// TraceWriter: writes one rank file (format.h) from already-encoded event bodies.
// Usable inside the interposer: no libprotobuf, no exceptions, bounded memory (one frame of
// events and one of payloads). The recorder's sealing thread owns it; the job's threads never
// call it directly (they append to the write-ahead log).
//
// Thread-safety: none; one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/status.h"
#include "trace/record_encoders.h"
#include "trace/wire_encoder.h"

typedef struct ZSTD_CCtx_s ZSTD_CCtx;

namespace ddrr::trace {

struct WriterOptions {
  size_t frame_raw_bytes = 256 << 10;  // seal a frame once its events reach this size
  int zstd_level = 3;
};

struct EventMeta {
  bool is_mark = false;
  int64_t mark_step = 0;
  std::string_view mark_label;
  // For calls on a communicator: written as Event.op_seq only when it is not the previous op
  // of the same communicator in this frame + 1 (most are), so it costs nothing on the wire.
  uint64_t comm_key = 0;
  uint64_t op_seq = 0;
};

class TraceWriter {
 public:
  static StatusOr<std::unique_ptr<TraceWriter>> Create(const std::string& path,
                                                       const HeaderInfo& header,
                                                       const WriterOptions& options = {});
  // The file's first bytes (magic, version, header length and CRC, Header) for `header`,
  // exactly as Create() writes them. The recorder keeps a copy in its spool so that salvage
  // can rebuild a rank file whose .ddrr is missing or has a damaged header.
  static std::string EncodePreamble(const HeaderInfo& header);
  // Like Create(), but writes `preamble` (as EncodePreamble() returns it, or as copied from an
  // existing rank file) verbatim. Salvage uses it to continue a killed rank's file.
  static StatusOr<std::unique_ptr<TraceWriter>> CreateWithPreamble(
      const std::string& path, std::string_view preamble, const WriterOptions& options = {});
  ~TraceWriter();  // closes with END_CLOSED if Close() was not called

  // `body` is one Event.body field as written by record_encoders.h (tag included).
  // `time_ns` counts from the header's start_mono_ns.
  Status Append(uint64_t seq, uint32_t thread, uint64_t time_ns, std::string_view body,
                const EventMeta* meta = nullptr);
  // Stores `data` once per content hash in the payload stream.
  Status AppendPayload(uint64_t content_hash, std::string_view data);
  Status Flush();  // seals the open frames
  // Appends one already-sealed frame (FrameHeader + zstd data, checksum verified by the caller)
  // verbatim, with its footer index entry (`index.offset` is set here). Seals the open frames
  // first so the file stays in frame order. For an event frame, `last_seq` is its last event's
  // seq (the footer's last_seq). Salvage copies a killed rank's intact frames with it.
  Status AppendRawFrame(std::string_view frame, FrameIndexInfo index, uint64_t last_seq);
  Status Close(const FooterInfo& footer);
  // Seals what is buffered and closes the file WITHOUT a footer: what a killed rank leaves
  // (tests and synthetic runs).
  Status Abandon();

  uint64_t event_count() const { return event_count_; }
  uint64_t bytes_written() const { return offset_; }
  const std::string& path() const { return path_; }

 private:
  TraceWriter(std::string path, int fd, const WriterOptions& options);
  Status WriteAll(const void* data, size_t size);
  Status SealEvents();
  Status SealPayloads();
  Status SealFrame(uint8_t kind, WireEncoder& raw, uint32_t count, uint64_t first_seq,
                   FrameIndexInfo index);

  std::string path_;
  int fd_;
  WriterOptions options_;
  ZSTD_CCtx* cctx_ = nullptr;
  uint64_t offset_ = 0;
  bool closed_ = false;

  WireEncoder event_;  // scratch for one event
  WireEncoder frame_;  // open event frame (length-delimited events)
  std::vector<uint8_t> compressed_;
  uint32_t frame_events_ = 0;
  uint64_t frame_first_seq_ = 0;
  uint64_t prev_seq_ = 0;
  uint64_t prev_time_ns_ = 0;
  FrameIndexInfo frame_index_;
  std::unordered_map<uint64_t, uint64_t> frame_last_op_;  // comm_key -> op_seq, this frame

  WireEncoder payload_frame_;
  uint32_t payload_count_ = 0;
  std::unordered_set<uint64_t> stored_payloads_;

  std::vector<FrameIndexInfo> index_;
  uint64_t event_count_ = 0;
  uint64_t last_seq_ = 0;
};

}  // namespace ddrr::trace
