// RankScan: what one pass over one rank file leaves for the cross-rank checks. Collectives and
// send/recv become OpRecords in an OpStore (one stream per communicator handle and kind);
// everything else the checks need is small and kept here: how each communicator was created
// (rank, size, device, unique id, split lineage), failures (aggregated: the first of each kind
// and a count), aborts, and where NaN first entered this rank's collectives.
//
// Ranks are scanned one at a time, so memory holds one rank's window of recent ops (digests
// refer back to their call), never a whole run.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "analysis/call_summary.h"
#include "analysis/op_store.h"
#include "common/status.h"
#include "trace/run.h"

namespace ddrr::analysis {

// One communicator handle on one rank: a member of the communicator with that key.
struct MemberFacts {
  uint64_t comm_key = 0;
  uint64_t handle = 0;
  uint16_t created_by = 0;     // trace::FunctionId of the creating call; 0: not seen
  CallSummary create_call;     // valid when created_by != 0
  int64_t claimed_rank = -1;   // InitRank's rank, InitAll's index
  int64_t claimed_size = -1;   // InitRank's nranks, InitAll's ndev
  int64_t counted_size = -1;   // ncclCommCount's answer
  int64_t user_rank = -1;      // ncclCommUserRank's answer
  int64_t device = -1;         // the thread's device at creation, InitAll's devlist entry
  int64_t cu_device = -1;      // ncclCommCuDevice's answer
  uint64_t id_hash = 0;        // the unique id(s) it was created from (InitRank*); 0: none
  uint32_t id_occurrence = 0;  // inits with the same id earlier on this rank
  // Split / shrink lineage.
  uint64_t parent_key = 0;
  int32_t parent_member = -1;  // index in RankScan::members
  uint32_t split_ordinal = 0;  // this was the n-th ncclCommSplit (or, apart, Shrink) of the parent
  int64_t split_color = 0;     // < 0: NCCL_SPLIT_NOCOLOR, no communicator results
  int64_t split_key = 0;
  std::vector<int64_t> excluded;  // ncclCommShrink's exclude list
  // Operations.
  OpStore::StreamId coll_stream = 0;
  OpStore::StreamId p2p_stream = 0;
  uint64_t collectives = 0;
  uint64_t p2p = 0;
  uint64_t last_op = 0;  // highest op_seq issued
  // Ops lost to damage (op numbers are dense on a rank, so a jump means frames were skipped):
  // how many, and how many collectives were read before the first loss (-1: none lost).
  uint64_t lost_ops = 0;
  int64_t first_gap = -1;
  OpRecord last_record;  // the op that reached it
  // A collective or send/recv the rank was inside when last read (live or killed): not
  // returned, so not recorded as a call; counted in `collectives` / `last_op` as issued.
  uint16_t in_flight_fn = 0;     // trace::FunctionId; 0: none
  int64_t in_flight_since = 0;   // unix ns
  uint64_t in_flight_seq = 0;    // the `enter` event's seq
  int64_t in_flight_count = -1;  // a collective's element count, when the trace gives it
  int64_t in_flight_peer = -1;   // a send/recv's peer (comm rank), when the trace gives it
  uint64_t splits_made = 0;      // ncclCommSplit calls with this as the parent
  uint64_t shrinks_made = 0;     // ncclCommShrink calls with this as the parent

  bool no_color() const { return split_color < 0; }
  int64_t device_used() const { return cu_device >= 0 ? cu_device : device; }
};

// A failure or abort on this rank, aggregated: the first call and how many like it.
struct Incident {
  CallSummary call;
  int32_t member = -1;  // the communicator handle involved; -1: none
  uint64_t count = 1;
  uint64_t last_op = 0;  // the member's last op when it happened
  int64_t detail = 0;    // async error code; completion error; ops in a group
  std::string what;      // extra words for the message
};

struct RankScan {
  int64_t rank = -1;
  std::string file;
  std::string host;
  int32_t local_rank = -1;
  int64_t start_unix_ns = 0;
  std::map<int64_t, std::string> device_ids;  // ordinal -> UUID / PCI id / visible-devices id
  bool has_footer = false;
  bool live = false;         // a snapshot of a rank still running: waits count to now
  int64_t read_unix_ns = 0;  // live: when the snapshot was taken
  // Communicator creation the rank was inside when last read (it never returned).
  struct SetupWait {
    uint16_t fn = 0;          // trace::FunctionId
    int64_t detail = 0;       // nranks, or a split's color
    uint64_t parent_key = 0;  // a split's parent
    int64_t since = 0;        // unix ns
  };
  std::vector<SetupWait> setup_waits;
  // Any other call it was inside (ncclGroupEnd, a synchronisation, a synchronous copy), the first
  // thread's first: what it waits for is not a communicator the trace can name.
  struct Blocked {
    uint16_t fn = 0;    // trace::FunctionId
    int64_t since = 0;  // unix ns
  };
  std::vector<Blocked> blocked;
  // The footer's end: when it exited, or, for a rank that died, its last sign of life (the
  // recorder's sealing thread notes it while the rank lives). 0: no footer.
  int64_t end_unix_ns = 0;
  int32_t end_reason = 0;  // the footer's trace::EndReason (0: none)
  std::string until;       // how that end came, for waits: "until killed"; empty: no footer or live
  std::string ended;       // "killed or still running (no footer)", "salvaged from spool", ...
  uint64_t events = 0;
  uint64_t problems = 0;                 // damage the reader skipped
  uint64_t calls = 0, failed_calls = 0;  // failed: a result other than success / in progress
  uint64_t first_seq = 0, last_seq = 0;
  uint64_t first_time_ns = 0, last_time_ns = 0;  // since the header's start
  int64_t first_step = -1, last_step = -1;       // from marks

  std::vector<MemberFacts> members;
  std::vector<Incident> nccl_errors;    // one per (communicator, result)
  std::vector<Incident> cuda_errors;    // one per (function, result); stream errors too
  std::vector<Incident> async_errors;   // one per (communicator, error)
  std::vector<Incident> aborts;         // every ncclCommAbort / ncclCommRevoke
  std::vector<Incident> not_completed;  // one per communicator (ops that never completed)
  bool recorded_completions = false;

  // NaN/Inf: the first op whose input digest counted some, before any output of this rank's
  // did (so this rank fed them in rather than passing on what it received).
  bool fed_nonfinite = false;
  int32_t fed_member = -1;
  OpRecord fed_record;
  uint64_t late_digests = 0;  // digests whose call had left the window (not attached)

  // Communicator names the header gives (DDRR_COMM_NAME_<16 hex digits of the key>; runs
  // written by `ddrr import` name process groups so).
  std::map<uint64_t, std::string> comm_names;
};

// Sees a rank's events as ScanRank reads them, each after the scan has taken it in: what writes
// a run's timeline in the same pass as its model (src/export).
class ScanObserver {
 public:
  virtual ~ScanObserver() = default;
  virtual void BeginRank(trace::RankFileReader& reader) = 0;
  virtual void OnEvent(const RankScan& so_far, const trace::Event& event,
                       const trace::EventPosition& pos) = 0;
  virtual void EndRank(const RankScan& scan) = 0;
};

// Reads one rank from its start, appending its ops to `store`. The reader's pages are released
// afterwards, so scanning a thousand ranks holds one rank's file at a time.
// `calls_in_flight`: calls the rank was inside when last read (`enter` events) count as issued;
// false reads only the calls that returned (what a comm replay can re-issue).
// `observer` (optional) sees the events.
StatusOr<RankScan> ScanRank(trace::RankEntry& entry, OpStore& store, bool calls_in_flight = true,
                            ScanObserver* observer = nullptr);

// The scan of `rank` among `scans`; null when it left no readable rank file.
const RankScan* FindScan(const std::vector<RankScan>& scans, int64_t rank);

// A duration as reports show it: "12.3 s".
std::string SecondsText(int64_t ns);
// How long ago a rank's last event was, by the wall clock ("12.3 s"): for ranks still running.
std::string SinceLastEvent(const trace::Header& header, const trace::Footer& footer);

// Identity of a device across the ranks of a run: host + UUID when the header lists one, else
// host + the device the process's CUDA_VISIBLE_DEVICES maps the ordinal to.
std::string DeviceIdentity(const RankScan& scan, int64_t ordinal);

}  // namespace ddrr::analysis
