#include "analysis/finding.h"

#include <algorithm>
#include <cstdint>
#include <tuple>

#include "common/enum_names.h"

namespace ddrr::analysis {

const char* KindName(FindingKind kind) {
  static constexpr const char* kNames[] = {"comm-size-mismatch",
                                           "duplicate-rank",
                                           "duplicate-device",
                                           "missing-from-init",
                                           "hang-in-setup",
                                           "split-inconsistent",
                                           "mismatched-collective",
                                           "unmatched-p2p",
                                           "mismatched-p2p",
                                           "missing-participant",
                                           "comm-abort",
                                           "nccl-async-error",
                                           "nccl-error",
                                           "cuda-error",
                                           "nan-appeared",
                                           "data-divergence",
                                           "not-completed",
                                           "straggler"};
  static_assert(std::size(kNames) == kFindingKinds);
  return NameIn(kNames, kind, "unknown");
}

int KindClass(FindingKind kind) {
  if (kind <= FindingKind::kSplitInconsistent) return 0;
  if (kind <= FindingKind::kMismatchedP2p) return 1;
  if (kind == FindingKind::kMissingParticipant) return 2;
  if (kind <= FindingKind::kCudaError) return 3;
  if (kind <= FindingKind::kDataDivergence) return 4;
  return 5;
}

const char* SeverityName(Severity severity) {
  static constexpr const char* kNames[] = {"error", "warning", "info"};
  static_assert(std::size(kNames) == static_cast<size_t>(Severity::kInfo) + 1);
  return NameIn(kNames, severity, "error");
}

namespace {

// When a finding happened: its own time, else its earliest quoted call; unknown sorts last.
int64_t When(const Finding& f) {
  if (f.time_ns) return f.time_ns;
  int64_t t = INT64_MAX;
  for (const RankCall& c : f.calls)
    if (c.has_call && c.call.time_ns) t = std::min(t, c.call.time_ns);
  return t;
}

}  // namespace

void SortFindings(std::vector<Finding>& findings) {
  auto key = [](const Finding& f) {
    // A hang whose culprits wait inside another hang's op comes after that hang, its cause.
    const int cls = f.chain_depth ? std::max(KindClass(f.kind), 2) : KindClass(f.kind);
    // Within a class the earliest is the likely cause of the others, whatever its kind (a
    // communicator built wrong first, the first rank to fail); warnings and information go by
    // kind.
    const int64_t when = cls < 5 ? When(f) : 0;
    const int64_t first_rank = f.ranks.empty() ? -1 : f.ranks.front();
    return std::make_tuple(cls, f.chain_depth, when, static_cast<int>(f.kind), f.comm_key, f.op_seq,
                           first_rank);
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

std::string RankRanges(std::vector<int64_t> ranks, std::string_view sep) {
  std::sort(ranks.begin(), ranks.end());
  ranks.erase(std::unique(ranks.begin(), ranks.end()), ranks.end());
  std::string s;
  for (size_t i = 0; i < ranks.size();) {
    size_t j = i;
    while (j + 1 < ranks.size() && ranks[j + 1] == ranks[j] + 1) ++j;
    if (!s.empty()) s += sep;
    s += std::to_string(ranks[i]);
    if (j > i) s += "-" + std::to_string(ranks[j]);
    i = j + 1;
  }
  return s;
}

std::string RanksWord(const std::vector<int64_t>& ranks) {
  return (ranks.size() == 1 ? "rank " : "ranks ") + RankList(ranks);
}

}  // namespace ddrr::analysis
