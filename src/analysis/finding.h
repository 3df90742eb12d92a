// Finding: one problem `ddrr check` reports, and the order findings are reported in.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analysis/call_summary.h"

namespace ddrr::analysis {

// Declared in report order: a root cause (ranks disagree, a rank stopped) explains the errors
// and hangs that follow it, so it comes first.
enum class FindingKind {
  kMismatchedCollective,
  kMissingParticipant,
  kNcclError,
  kNotCompleted,
};
const char* KindName(FindingKind kind);  // "mismatched-collective", ...

enum class Severity { kError, kWarning };
const char* SeverityName(Severity severity);  // "error" | "warning"

// One rank's side of a finding.
struct RankCall {
  int64_t rank = -1;
  bool has_call = false;  // false: the rank never issued the op (the call fields are empty)
  CallSummary call;
  uint64_t last_op = 0;  // the last op_seq this rank reached on the finding's communicator
  std::string note;      // "first to fail", "odd one out", ...
};

struct Finding {
  FindingKind kind{};
  Severity severity = Severity::kError;
  uint64_t comm_key = 0;       // 0: not tied to a communicator
  int64_t comm_size = -1;      // -1: unknown
  uint64_t op_seq = 0;         // 0: not tied to an op
  std::vector<int64_t> ranks;  // the ranks the finding blames or concerns, ascending
  std::vector<RankCall> calls;
  std::string message;
};

// Root causes first, then by communicator, op, and the first rank involved.
void SortFindings(std::vector<Finding>& findings);

// "0,1,3"
std::string RankList(const std::vector<int64_t>& ranks);

}  // namespace ddrr::analysis
