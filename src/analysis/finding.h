// Finding: one problem `ddrr check` reports, and the order findings are reported in.
// docs/CHECK.md describes every kind and the JSON form; keep the two in step.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/call_summary.h"

namespace ddrr::analysis {

// Declared in report order. A communicator built wrong explains everything after it; ranks
// that disagree on what to call explain the hangs and errors that follow; a rank that stopped
// explains the others' errors; failures are then ordered by time among themselves (the first
// one is the likely cause of the rest); data problems and timing come last.
enum class FindingKind {
  // setup
  kCommSizeMismatch,
  kDuplicateRank,
  kDuplicateDevice,
  kMissingFromInit,
  kHangInSetup,
  kSplitInconsistent,
  // usage
  kMismatchedCollective,
  kUnmatchedP2p,
  kMismatchedP2p,
  // a rank stopped
  kMissingParticipant,
  // failures (sorted by time)
  kCommAbort,
  kNcclAsyncError,
  kNcclError,
  kCudaError,
  // data
  kNanAppeared,
  kDataDivergence,
  // warnings and information
  kNotCompleted,
  kStraggler,
};
constexpr int kFindingKinds = static_cast<int>(FindingKind::kStraggler) + 1;
const char* KindName(FindingKind kind);  // "mismatched-collective", ...
// The report class of a kind: findings sort by class first (the comment above).
int KindClass(FindingKind kind);

enum class Severity { kError, kWarning, kInfo };
const char* SeverityName(Severity severity);  // "error" | "warning" | "info"

// One rank's side of a finding.
struct RankCall {
  int64_t rank = -1;       // global rank (the rank file's)
  int64_t comm_rank = -1;  // its rank in the finding's communicator; -1: unknown or none
  bool has_call = false;   // false: the rank never issued the op (the call fields are empty)
  CallSummary call;
  uint64_t last_op = 0;  // the last op_seq this rank reached on the finding's communicator
  std::string note;      // "first to fail", "odd one out", ...
};

struct Finding {
  FindingKind kind{};
  Severity severity = Severity::kError;
  uint64_t comm_key = 0;       // 0: not tied to a communicator
  int64_t comm_size = -1;      // -1: unknown
  uint64_t parent_key = 0;     // the communicator it was split or shrunk from; 0: none
  std::string comm_name;       // the communicator's name when the run gives one (Comm::name)
  uint64_t op_seq = 0;         // 0: not tied to an op
  std::vector<int64_t> ranks;  // the ranks the finding blames, ascending
  std::vector<RankCall> calls;
  std::string message;                // one line
  std::vector<std::string> evidence;  // the facts behind it, one line each
  int64_t time_ns = 0;                // Unix time of the first call involved; 0: unknown
  // Hangs (hang-in-setup, missing-participant): the ranks inside the finding's call or op,
  // waiting for the blamed ones, and what blames them ("rank 2 stopped first"). ChainWaits
  // follows a blamed rank that itself waits inside another hang's op to the ranks at the end
  // of the chain, and ends the message with the conclusion.
  std::vector<int64_t> waiting;
  std::string blame;
  int64_t silent_peer = -1;  // unmatched-p2p: the rank that never posted its side
  int chain_depth = 0;       // hangs between this one and its root cause (0: it is the root)
};

// Report order: kind class, then (failures) time, then kind, communicator, op, first rank.
void SortFindings(std::vector<Finding>& findings);

// "0,1,3"
std::string RankList(const std::vector<int64_t>& ranks);
// "0-511, 513-1023": sorted, duplicates dropped, runs compacted, items joined by `sep`.
std::string RankRanges(std::vector<int64_t> ranks, std::string_view sep = ", ");
// "rank 3" / "ranks 0,1,3"
std::string RanksWord(const std::vector<int64_t>& ranks);

}  // namespace ddrr::analysis
