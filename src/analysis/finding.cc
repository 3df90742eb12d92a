#include "analysis/finding.h"

#include <algorithm>
#include <tuple>

namespace ddrr::analysis {

const char* KindName(FindingKind kind) {
  switch (kind) {
    case FindingKind::kMismatchedCollective:
      return "mismatched-collective";
    case FindingKind::kMissingParticipant:
      return "missing-participant";
    case FindingKind::kNcclError:
      return "nccl-error";
    case FindingKind::kNotCompleted:
      return "not-completed";
  }
  return "unknown";
}

const char* SeverityName(Severity severity) {
  return severity == Severity::kError ? "error" : "warning";
}

void SortFindings(std::vector<Finding>& findings) {
  auto key = [](const Finding& f) {
    const int64_t first_rank = f.ranks.empty() ? -1 : f.ranks.front();
    return std::make_tuple(static_cast<int>(f.kind), f.comm_key, f.op_seq, first_rank);
  };
  std::stable_sort(findings.begin(), findings.end(),
                   [&](const Finding& a, const Finding& b) { return key(a) < key(b); });
}

std::string RankList(const std::vector<int64_t>& ranks) {
  std::string s;
  for (int64_t r : ranks) {
    if (!s.empty()) s += ',';
    s += std::to_string(r);
  }
  return s;
}

}  // namespace ddrr::analysis
