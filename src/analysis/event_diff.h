// Comparison of two traces of one program, rank by rank: two recordings, or a recording and the
// trace of its replay. Reports the first event where a rank's two traces differ, with the events
// before it (`ddrr diff`).
//
// Events are compared on their decoded structure, reduced to what two runs of one program
// share. A call is its function, every argument, its result, its per-communicator op number,
// group depth and whether it was graph-captured, and (scope kAll) the thread that made it.
// Handles are numbered per family in order of first appearance, communicator keys likewise per
// trace; pointers are allocation number + offset, NULL, or else equal to each other (host
// buffers: outside any recorded allocation), function pointers always equal; unique-id bytes
// count by their length only (random per run). Never times or durations. Completion events
// are left out: when the poller sees an op finish is timing, not program behaviour. So are
// payload events: which calls have one is the recording's window and budget, and their data is
// what the digests compare; and the recorder's notes (what it captured or dropped). Other events
// compare as: marks by label and step, RNG states by name and state, entropy by source and length
// (the bytes are random per run), kernel counts by stream and count, thread names by name, digests
// by which call (counted back), which buffer and its size.
//
// Data: when both traces have digests (capture level `digests`), digests are compared on the
// side, not as events: the recorder's poller thread writes them whenever a stream has passed the
// call, so where they fall among the program's own events, and in which order across streams,
// is timing. A digest names its call by the calling thread (threads counted in order of their
// first call) and the call's number in that thread; the two sides' digests of the same call and
// buffer are compared, and of those whose size, value or NaN/Inf counts differ, the one of the
// earliest call is the rank's first data difference, reported with its call. Structure that matches
// but data that does not is the signature of nondeterminism or corruption; a structural difference
// ends the comparison of that rank, so data is compared up to it. When only one trace has digests,
// digests are left out of both.
//
// Scope kNccl compares only the NCCL calls that describe communication (communicator creation,
// destruction and queries, registration, reduction ops, collectives, send/recv, groups), less
// ncclCommGetAsyncError, which programs poll a timing-dependent number of times. Pointers are
// not compared (a replay allocates its own buffers), nor threads; handles are numbered among
// these calls only; other events, digests included, are left out. This compares a recording
// with a replay of its communication.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "ddrr/trace.pb.h"
#include "trace/event_printer.h"
#include "trace/run.h"
#include "trace/trace_reader.h"

namespace ddrr::analysis {

enum class DiffScope { kAll, kNccl };

struct DiffOptions {
  DiffScope scope = DiffScope::kAll;
  size_t context = 3;  // equal events shown before a structural difference
};

// Whether scope kNccl compares this call: an NCCL call of a category that describes
// communication (api_spec.py), less ncclCommGetAsyncError.
bool IsCommunication(const trace::ApiCall& call);

// The header variable that marks a comm replay's rank files (their calls are ddrr-replay-rank's,
// so only communication compares with the recording).
inline constexpr char kReplayOfEnv[] = "DDRR_REPLAY_OF";
// The one that marks an application replay's (the program itself ran: everything compares).
inline constexpr char kAppReplayOfEnv[] = "DDRR_APP_REPLAY_OF";
// Whether any rank file of `run` was written by a comm replay.
bool IsReplay(const trace::Run& run);

// One event reduced to what two runs of one program share.
struct NormalizedEvent {
  uint64_t seq = 0;  // in its own trace
  uint32_t thread = 0;
  std::string line;  // as `ddrr dump` prints it
  std::string key;   // compared structure: equal keys <=> same behaviour
  trace::Event event;
  uint32_t comm_ordinal = 0;  // order of first appearance of the call's comm key; 0: none
};

// The events of one rank in file order that the scope compares, one at a time.
class NormalizedStream {
 public:
  // `compare_digests`: digest events are compared (both traces have them), else left out.
  NormalizedStream(trace::RankFileReader& reader, int64_t rank, const DiffOptions& options,
                   bool compare_digests);

  std::optional<NormalizedEvent> Next();

  // Digests read so far and not yet compared, in file order (Next() sets them aside).
  struct PendingDigest {
    uint64_t call_index = 0;   // the call's place among the events Next() returned; 0: unknown
    uint32_t call_thread = 0;  // the calling thread, in order of first call (from 1; 0: unknown)
    uint64_t thread_call = 0;  // the call's number among that thread's calls
    std::string call_line;
    trace::Digest digest;
  };
  std::deque<PendingDigest>& digests() { return digests_read_; }

 private:
  bool InScope(const trace::Event& event) const;
  std::string Key(const trace::Event& event, const trace::EventPosition& pos,
                  uint32_t* comm_ordinal);
  std::string CallKey(const trace::ApiCall& call, uint32_t* comm_ordinal);
  std::string ArgKey(const google::protobuf::FieldDescriptor* f, const trace::ArgValue& v);

  trace::RankFileReader& reader_;
  DiffScope scope_;
  bool digests_;
  trace::EventPrinter printer_;  // sees every event, so lines read as in `ddrr dump`
  trace::HandleNumbering handles_;
  trace::AllocationMap allocations_;
  std::unordered_map<uint64_t, uint32_t> comm_ordinals_;
  uint64_t returned_ = 0;  // events Next() gave
  struct RecentCall {
    uint64_t index;
    uint32_t thread;
    uint64_t thread_call;
    std::string line;
  };
  std::map<uint64_t, RecentCall> recent_calls_;                               // by seq
  std::unordered_map<uint32_t, std::pair<uint32_t, uint64_t>> call_threads_;  // order, calls
  std::deque<PendingDigest> digests_read_;
};

enum class Side { kA, kB };

struct StructuralDifference {
  uint64_t index = 0;                // of the differing event among those compared, from 1
  std::deque<std::string> context;   // dump lines of the equal events before it
  std::optional<NormalizedEvent> a;  // nullopt: no more events on that side
  std::optional<NormalizedEvent> b;
};

struct DataDifference {
  uint64_t index = 0;     // of the digest's call among the events compared, from 1
  std::string call_line;  // dump line of the call the digest belongs to; empty if forgotten
  trace::Digest a, b;
};

struct RankDiff {
  int64_t rank = 0;
  DiffScope scope = DiffScope::kAll;
  uint64_t events_compared = 0;         // equal events before the end or the structural difference
  std::optional<Side> digests_only_in;  // data not compared
  std::optional<DataDifference> data;
  std::optional<StructuralDifference> structure;
  // The side whose rank still runs (a live snapshot) and whose events ran out first, every one
  // the same as the other side's: it has not got further yet, which is no difference.
  std::optional<Side> still_running;

  bool differs() const { return data || structure; }
};

// Compares one rank's two traces from where the readers stand (opened: the first event). A trace
// of a rank still running (footer END_LIVE) that ends first is compared up to its end.
RankDiff DiffRank(trace::RankFileReader& a, trace::RankFileReader& b, int64_t rank,
                  const DiffOptions& options);

// The rank's report as `ddrr diff` prints it, lines ending in '\n'; empty when nothing to say.
// `a_name` and `b_name` name the traces in notes.
std::string FormatRankDiff(const RankDiff& diff, std::string_view a_name, std::string_view b_name);

}  // namespace ddrr::analysis
