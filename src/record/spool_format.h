// The spool: the recorder's write-ahead log, a MAP_SHARED file <dir>/rank-<r>.spool.
// Shared by the recorder (writes it inside the job) and salvage (reads what a killed rank left).
// docs/FORMAT.md ("Spool") is the prose version; keep them in step. Little endian, native
// alignment (the spool is read back on the machine that wrote it).
//
//   offset 0                 SpoolHeader (kSpoolHeaderSize bytes, zero padded)
//   preamble_offset          the rank file's preamble (TraceWriter::EncodePreamble), so salvage
//                            can rebuild a rank file whose .ddrr is missing
//   ring_offset              the ring: ring_capacity bytes of records
//
// Ring positions are byte counts that only grow (u64); a position's place in the ring is
// position % ring_capacity. [tail, head) holds records; the appender reserves at head, the
// sealer frees from tail once the records are written to the .ddrr. A record never wraps: when
// it does not fit before the end of the ring, a padding record fills the rest.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "trace/record_encoders.h"

namespace ddrr::record {

inline constexpr char kSpoolMagic[8] = {'D', 'D', 'R', 'R', 's', 'p', 'l', '\0'};
inline constexpr uint32_t kSpoolVersion = 1;
inline constexpr size_t kSpoolHeaderSize = 4096;
inline constexpr size_t kSpoolAlign = 8;         // records start at multiples of 8
inline constexpr uint64_t kMinRingBytes = 4096;  // smaller rings are refused
inline constexpr uint64_t kMaxRingBytes = 1ull << 40;
inline constexpr uint32_t kMaxPreambleBytes = 16u << 20;

// A call in progress on one thread: written by the wrapper before the call goes through (`fn`
// last, with release), cleared (`fn` = 0) when it returns. Relaxed stores to the thread's own
// cache line: no lock, no event. Spools written before the table existed read zeros (idle).
struct InFlightSlot {
  std::atomic<uint32_t> fn;  // trace::FunctionId of the call in progress; 0: none
  uint32_t reserved;
  std::atomic<uint64_t> comm_handle;  // the communicator it acts on (0: none, or being created)
  std::atomic<uint64_t> detail;       // as trace CallEnter.detail (nranks, color, count, peer+1)
  std::atomic<uint64_t> since_ns;     // when it was entered, since the header's start_mono_ns
};
inline constexpr size_t kInFlightSlots = 64;

// The fields the appenders and the sealer update live on their own cache lines, so appending
// threads do not false-share with the sealer. Updated with atomic stores on the mapping: after
// SIGKILL the kernel keeps the pages, so salvage sees every store that happened.
struct SpoolHeader {
  char magic[8];
  uint32_t version;
  uint32_t header_size;  // kSpoolHeaderSize
  uint32_t rank;
  uint32_t preamble_len;
  uint32_t preamble_crc;  // CRC-32C of the preamble bytes
  uint32_t writer_pid;
  uint64_t preamble_offset;
  uint64_t ring_offset;
  uint64_t ring_capacity;  // multiple of kSpoolAlign

  alignas(64) std::atomic<uint64_t> head;  // end of the last reserved record (under the lock)
  std::atomic<uint64_t> next_seq;          // seq the next event gets (events start at 1)
  std::atomic<uint64_t> dropped;           // events dropped because the ring was full

  alignas(64) std::atomic<uint64_t> tail;  // records before it are sealed in the .ddrr
  std::atomic<uint64_t> sealed_seq;        // last event seq written to the .ddrr (0: none)
  std::atomic<uint64_t> sealed_events;     // events written to the .ddrr
  // The sealing thread's last look (ns since the header's start_mono_ns): the rank's last sign
  // of life, so a killed rank's waits end where it died rather than at its last event. 0: never
  // (spools written before this field).
  std::atomic<uint64_t> alive_ns;

  // Set (async-signal-safely) by the fatal-signal handler; salvage reports it in the footer.
  // Spools written before this field existed read 0 here (the header is zero padded).
  alignas(64) std::atomic<int32_t> fatal_signal;
  // A rank taken from the first communicator (no rank variable): rank + 1, 0 while unknown.
  std::atomic<uint32_t> assigned_rank_plus1;
  std::atomic<uint32_t> assigned_world_size;

  // Calls in progress, one slot per thread index (the first kInFlightSlots threads): a call that
  // never returns leaves no event, so a reader of a live or killed rank finds it here.
  alignas(64) InFlightSlot in_flight[kInFlightSlots];
};
static_assert(sizeof(SpoolHeader) <= kSpoolHeaderSize);
static_assert(offsetof(SpoolHeader, ring_capacity) == 48 && offsetof(SpoolHeader, head) == 64 &&
              offsetof(SpoolHeader, dropped) == 80 && offsetof(SpoolHeader, tail) == 128 &&
              offsetof(SpoolHeader, sealed_events) == 144 &&
              offsetof(SpoolHeader, alive_ns) == 152 &&
              offsetof(SpoolHeader, fatal_signal) == 192 &&
              offsetof(SpoolHeader, assigned_rank_plus1) == 196 &&
              offsetof(SpoolHeader, assigned_world_size) == 200);  // docs/FORMAT.md "Spool"
static_assert(std::atomic<uint64_t>::is_always_lock_free);

// The rank a process learnt from its first communicator, if any, into a footer.
inline void AssignedRankInto(const SpoolHeader& h, trace::FooterInfo* f) {
  if (const uint32_t r = h.assigned_rank_plus1.load(std::memory_order_acquire); r != 0) {
    f->has_assigned_rank = true;
    f->assigned_rank = r - 1;
    f->assigned_world_size = h.assigned_world_size.load(std::memory_order_relaxed);
  }
}

// Record commit states. A record is written in three steps: under the append lock its `len`
// and `state = kReserved` (so the chain of records from tail to head is always walkable), then
// outside the lock its fields and bytes, then `state = kCommitted` with a release store.
// A record that is still kReserved after a crash was never returned to the caller: skipped.
enum RecordState : uint32_t {
  kReserved = 0,
  kCommitted = 0x544D4F43,  // "COMT"
  kPadding = 0x44415050,    // "PPAD": skip `len` bytes to the end of the ring
};

enum RecordFlags : uint16_t {
  kFlagMark = 1 << 0,     // event is a Mark (mark_step, label follow)
  kFlagPayload = 1 << 1,  // not an event: payload data, `comm_key` holds the content hash
};

// One record: this header, then `label_len` bytes of mark label, then `body_len` bytes of
// Event.body (tag included, as record_encoders.h writes it), then zero padding to `len`.
// A padding record has only `len` and `state` (it may be as short as 8 bytes).
struct RecordHeader {
  uint32_t len;                 // whole record, multiple of kSpoolAlign
  std::atomic<uint32_t> state;  // RecordState
  uint64_t seq;                 // event seq; 0 for payload records
  uint64_t time_ns;             // since the header's start_mono_ns
  uint64_t comm_key;            // EventMeta::comm_key, or the payload's content hash
  uint64_t op_seq;              // EventMeta::op_seq
  int64_t mark_step;            // EventMeta::mark_step
  uint32_t thread;
  uint16_t flags;  // RecordFlags
  uint16_t label_len;
  uint32_t body_len;
  uint32_t reserved;
};
static_assert(sizeof(RecordHeader) == 64 && offsetof(RecordHeader, body_len) == 56);
static_assert(std::atomic<uint32_t>::is_always_lock_free);

inline constexpr uint64_t AlignUp(uint64_t n) { return (n + kSpoolAlign - 1) & ~(kSpoolAlign - 1); }
inline constexpr uint64_t RecordBytes(uint64_t label_len, uint64_t body_len) {
  return AlignUp(sizeof(RecordHeader) + label_len + body_len);
}

}  // namespace ddrr::record
