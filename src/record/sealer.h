// Sealer: moves committed spool records into the rank file (trace::TraceWriter) in seq order
// and frees their ring space once the frame holding them is written, so at every instant each
// event is in the spool, in a written frame of the .ddrr, or both; never in neither.
//
// Thread-safety: none; the recorder calls it from the sealing thread or, under its seal mutex,
// from Flush/Close.
#pragma once

#include <cstdint>
#include <memory>

#include "common/status.h"
#include "record/spool.h"
#include "trace/trace_writer.h"

namespace ddrr::record {

// Writes one committed spool record into the rank file: a payload by its content hash, an
// event with its seq, thread, time, mark and communicator metadata. The sealer and salvage
// both go through here, so a salvaged file holds exactly what sealing would have written.
Status WriteRecord(trace::TraceWriter& writer, const RecordHeader* rec);

class Sealer {
 public:
  Sealer(Spool* spool, std::unique_ptr<trace::TraceWriter> writer);

  // Feeds the writer every committed record from the last one fed up to `until` (a ring
  // position, at most the head). Stops early at a record still being written unless
  // `wait_ms` > 0, in which case it waits that long for it. Returns the records fed.
  StatusOr<uint64_t> Drain(uint64_t until, uint32_t wait_ms = 0);
  // Seals the writer's open frames and frees the ring space of everything fed.
  Status Flush();
  Status Close(const trace::FooterInfo& footer);

  uint64_t fed_position() const { return pos_; }
  uint64_t unreleased_bytes() const { return pos_ - released_; }
  uint64_t sealed_events() const { return sealed_events_; }

 private:
  Status Feed(const RecordHeader* rec);
  void Release();

  Spool* spool_;
  std::unique_ptr<trace::TraceWriter> writer_;
  uint64_t pos_;       // ring position after the last record fed
  uint64_t released_;  // tail as last published
  uint64_t fed_seq_ = 0;
  uint64_t fed_events_ = 0;
  uint64_t sealed_events_ = 0;
  uint64_t bytes_seen_ = 0;     // writer->bytes_written() after the last feed
  bool events_open_ = false;    // events fed that sit in the writer's open frame
  bool payloads_open_ = false;  // likewise payloads
};

}  // namespace ddrr::record
