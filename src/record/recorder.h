// Recorder: the per-rank event sink inside libddrr.so.
//
// The job's threads call Append(); it assigns the event's sequence number, copies the encoded
// body into a write-ahead log that lives in a MAP_SHARED mapping of <dir>/rank-<r>.spool, marks
// it committed, and returns. It never waits for disk or compression: when the log is full the
// event is dropped and counted (reported in the footer and a RecorderNote), the job goes on.
// A background thread seals committed records into zstd frames of <dir>/rank-<r>.ddrr
// (trace::TraceWriter) and frees their log space.
//
// Crash safety: a record is in the shared mapping before Append returns, so SIGKILL at any
// moment loses no event whose call had returned: the kernel keeps the pages, and Salvage()
// (record/salvage.h: run by the next ddrr command, or `ddrr seal`) rebuilds a complete rank file
// from the .ddrr frames already sealed plus the spool's committed records. Close() seals
// everything, writes the footer and removes the spool.
//
// No libprotobuf, no exceptions: failures are Status values; after a failure the recorder
// disables itself (Append becomes a no-op), warns once, and keeps the spool for salvage.
// Layout of the spool: record/spool_format.h and docs/FORMAT.md ("Spool").
//
// fork: the child inherits the mapping but not the sealing thread; the interposer must stop
// the child from appending (pthread_atfork) or it would write into the parent's spool.
//
// Thread-safety: Append/AppendWithSeq from any number of threads at once; per-thread order is
// preserved (seq order = log order). Start/Close from one thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "record/spool_format.h"
#include "trace/record_encoders.h"
#include "trace/trace_writer.h"
#include "trace/wire_encoder.h"

namespace ddrr::record {

struct RecorderConfig {
  std::string dir;                 // run directory (created if missing)
  trace::HeaderInfo header;        // header.rank names the files
  size_t wal_bytes = 64ull << 20;  // size of the spool's record area (a ring)
  trace::WriterOptions writer;
  uint32_t seal_interval_ms = 50;  // the sealer wakes at least this often
};

struct RecorderStats {
  uint64_t appended = 0;  // events committed to the log
  uint64_t dropped = 0;   // events lost because the log was full
  uint64_t sealed = 0;    // events written to the rank file
};

class Recorder {
 public:
  static StatusOr<std::unique_ptr<Recorder>> Start(RecorderConfig config);
  virtual ~Recorder() = default;

  // `body` is one Event.body field (record_encoders.h, tag included); `time_ns` counts from
  // header.start_mono_ns; `meta` carries the comm key / op seq of calls and marks (see
  // trace::EventMeta; string views are copied). Returns the seq assigned, 0 if dropped or the
  // recorder is disabled.
  virtual uint64_t Append(uint32_t thread, uint64_t time_ns, std::string_view body,
                          const trace::EventMeta& meta) = 0;
  // For bodies that name an earlier event relative to their own seq (completions, digests,
  // payload references): `encode(seq, e)` writes the body for the seq being assigned. It runs
  // under the log's append lock: keep it short.
  virtual uint64_t AppendWithSeq(uint32_t thread, uint64_t time_ns,
                                 const std::function<void(uint64_t, trace::WireEncoder&)>& encode,
                                 const trace::EventMeta& meta) = 0;
  // Payload data (capture level payloads), stored once per content hash. Never blocks: when
  // the spool is full the payload is dropped and IoError returned (the recorder stays enabled;
  // the caller should then not emit a PayloadRef). Payloads over half the spool never fit.
  virtual Status AppendPayload(uint64_t content_hash, std::string_view data) = 0;

  // Seals everything committed so far (tests; the SIGSEGV/SIGABRT path before re-raising).
  virtual Status Flush() = 0;
  // Seals everything, writes the footer, removes the spool. Idempotent.
  virtual Status Close(const trace::FooterInfo& footer) = 0;

  // The in-flight slot of thread index `thread` (spool_format.h), nullptr beyond the table.
  virtual InFlightSlot* InFlight(uint32_t thread) = 0;

  // Async-signal-safe: notes in the spool that the process is dying of `sig`; the next salvage
  // ends the rank file with END_SIGNAL and the signal number.
  virtual void NoteFatalSignal(int sig) = 0;
  // The process had no rank variable and learnt its rank from its first communicator: the
  // footer (and a salvage) carries it, and readers use it over the header's (file names stay).
  virtual void AssignRank(uint32_t rank, uint32_t world_size) = 0;

  virtual RecorderStats stats() const = 0;
  virtual bool disabled() const = 0;
  virtual const std::string& trace_path() const = 0;
  virtual const std::string& spool_path() const = 0;
};

}  // namespace ddrr::record
