#include "analysis/check.h"

#include <algorithm>
#include <cstdint>
#include <map>

#include "analysis/rank_tables.h"

namespace ddrr::analysis {
namespace {

// An empty slot: the rank's op at that op_seq was not read (damage) or not issued.
bool Present(const CallSummary& c) { return c.seq != 0; }

uint64_t LastOp(const std::vector<CallSummary>& ops) { return ops.size(); }

RankCall SideOf(const CommTable& comm, int64_t rank, const CallSummary* call, std::string note) {
  RankCall rc;
  rc.rank = rank;
  rc.has_call = call != nullptr;
  if (call) rc.call = *call;
  auto it = comm.ops.find(rank);
  rc.last_op = it == comm.ops.end() ? 0 : LastOp(it->second);
  rc.note = std::move(note);
  return rc;
}

std::string RanksWord(const std::vector<int64_t>& ranks) {
  return (ranks.size() == 1 ? "rank " : "ranks ") + RankList(ranks);
}

// Which argument makes `odd` differ from `usual`, for the message.
std::string Difference(const CallSummary& odd, const CallSummary& usual) {
  if (odd.fn != usual.fn) return "function";
  std::string d;
  auto add = [&](bool differs, const char* what) {
    if (differs) d += (d.empty() ? "" : ", ") + std::string(what);
  };
  add(odd.count != usual.count, "count");
  add(odd.datatype != usual.datatype, "datatype");
  add(odd.op != usual.op, "reduction op");
  add(odd.root != usual.root, "root");
  return d.empty() ? "arguments" : d;
}

// Each rank's collectives on a communicator in issue order. Send/recv counts legitimately
// differ per rank (a pipeline's first stage only sends), and they share op_seq with the
// collectives, so collectives are aligned by their index among collectives, not by op_seq.
std::map<int64_t, std::vector<const CallSummary*>> Collectives(const CommTable& comm) {
  std::map<int64_t, std::vector<const CallSummary*>> out;
  for (const auto& [rank, ops] : comm.ops) {
    auto& mine = out[rank];
    for (const CallSummary& c : ops)
      if (Present(c) && !c.p2p) mine.push_back(&c);
  }
  return out;
}

// Only the first disagreement per communicator is reported: once one rank is off by an op,
// every later op would disagree too and bury the cause.
void CheckMismatches(uint64_t key, const CommTable& comm, std::vector<Finding>& out) {
  const auto colls = Collectives(comm);
  size_t max_ops = 0;
  for (const auto& [rank, mine] : colls) max_ops = std::max(max_ops, mine.size());
  for (size_t k = 0; k < max_ops; ++k) {
    std::map<std::string, std::vector<int64_t>> groups;  // description -> ranks
    std::map<int64_t, const CallSummary*> calls;
    for (const auto& [rank, mine] : colls) {
      if (k >= mine.size()) continue;
      groups[mine[k]->Describe()].push_back(rank);
      calls[rank] = mine[k];
    }
    if (groups.size() < 2) continue;
    // The majority is taken as intended; ties go to the group holding the lowest rank.
    const std::vector<int64_t>* majority = nullptr;
    for (const auto& [desc, ranks] : groups)
      if (!majority || ranks.size() > majority->size() ||
          (ranks.size() == majority->size() && ranks.front() < majority->front()))
        majority = &ranks;
    const CallSummary& usual = *calls.at(majority->front());
    Finding f;
    f.kind = FindingKind::kMismatchedCollective;
    f.comm_key = key;
    f.comm_size = comm.size;
    f.op_seq = usual.op_seq;
    std::string odd_text;
    for (const auto& [desc, ranks] : groups) {
      if (&ranks == majority) continue;
      f.ranks.insert(f.ranks.end(), ranks.begin(), ranks.end());
      if (!odd_text.empty()) odd_text += "; ";
      odd_text += RanksWord(ranks) + " called " + desc + " (" +
                  Difference(*calls.at(ranks.front()), usual) + " differs)";
    }
    std::sort(f.ranks.begin(), f.ranks.end());
    f.message = odd_text + " while " + RanksWord(*majority) + " called " + usual.Describe();
    for (const auto& [rank, call] : calls) {
      const bool odd = std::binary_search(f.ranks.begin(), f.ranks.end(), rank);
      f.calls.push_back(SideOf(comm, rank, call, odd ? "odd one out" : ""));
    }
    out.push_back(std::move(f));
    return;
  }
}

// A rank stopped early when it issued fewer collectives than the others (send/recv counts may
// differ legitimately); the evidence quotes the last op_seq each rank reached.
void CheckMissing(uint64_t key, const CommTable& comm, std::vector<Finding>& out) {
  const auto colls = Collectives(comm);
  std::map<size_t, std::vector<int64_t>> by_count;  // collectives issued -> ranks
  for (const auto& [rank, mine] : colls) by_count[mine.size()].push_back(rank);
  if (by_count.size() < 2) return;
  const size_t full = by_count.rbegin()->first;
  const std::vector<int64_t>& culprits = by_count.begin()->second;
  auto last_op = [&](int64_t rank) { return LastOp(comm.ops.at(rank)); };
  // Evidence grouped by last op reached, furthest first.
  std::map<uint64_t, std::vector<int64_t>, std::greater<>> by_last;
  for (const auto& [rank, mine] : colls) by_last[last_op(rank)].push_back(rank);
  Finding f;
  f.kind = FindingKind::kMissingParticipant;
  f.comm_key = key;
  f.comm_size = comm.size;
  f.ranks = culprits;
  uint64_t first_stop = UINT64_MAX;
  for (int64_t r : culprits) first_stop = std::min(first_stop, last_op(r));
  f.op_seq = first_stop + 1;
  std::string evidence;
  for (const auto& [last, ranks] : by_last) {
    if (!evidence.empty()) evidence += "; ";
    const bool reached = colls.at(ranks.front()).size() == full;
    evidence +=
        RanksWord(ranks) + (reached ? " reached op " : " stopped at op ") + std::to_string(last);
  }
  f.message = evidence + "; " + RanksWord(culprits) + " stopped first (likely culprit" +
              (culprits.size() > 1 ? "s" : "") + ")";
  if (comm.size > 0 && static_cast<size_t>(comm.size) > comm.ops.size())
    f.message += "; " + std::to_string(comm.size - comm.ops.size()) + " of " +
                 std::to_string(comm.size) + " members left no trace of this communicator";
  for (const auto& [rank, ops] : comm.ops) {
    const CallSummary* last = ops.empty() || !Present(ops.back()) ? nullptr : &ops.back();
    const bool culprit = std::binary_search(culprits.begin(), culprits.end(), rank);
    f.calls.push_back(SideOf(comm, rank, last, culprit ? "stopped first" : ""));
  }
  out.push_back(std::move(f));
}

void CheckErrors(const RankTables& t, std::vector<Finding>& out) {
  const CallSummary* first = nullptr;
  for (const CallSummary& c : t.failed_nccl_calls)
    if (!first || c.time_ns < first->time_ns) first = &c;
  static const CommTable kNoComm;
  for (const CallSummary& c : t.failed_nccl_calls) {
    auto it = t.comms.find(c.comm_key);
    const CommTable& comm = c.comm_key && it != t.comms.end() ? it->second : kNoComm;
    Finding f;
    f.kind = FindingKind::kNcclError;
    f.comm_key = c.comm_key;
    f.comm_size = comm.size;
    f.op_seq = c.op_seq;
    f.ranks = {c.rank};
    f.message = "rank " + std::to_string(c.rank) + " " + c.Describe() + " returned " +
                c.result_name + " (seq " + std::to_string(c.seq) + ")";
    const bool is_first = &c == first;
    if (is_first) f.message += "; first rank to fail";
    f.calls.push_back(SideOf(comm, c.rank, &c, is_first ? "first to fail" : ""));
    out.push_back(std::move(f));
  }
}

// Calls inside a group complete through their ncclGroupEnd, graph-captured ones when the graph
// launches, and failed ones never; only plain successful calls are expected to complete.
void CheckCompletions(const RankTables& t, std::vector<Finding>& out) {
  for (const auto& [key, comm] : t.comms) {
    for (const auto& [rank, ops] : comm.ops) {
      auto done = t.completions.find(rank);
      if (done == t.completions.end() || !done->second.any) continue;
      for (const CallSummary& c : ops) {
        if (!Present(c) || c.group_depth || c.graph_captured || (c.result != 0 && c.result != 7))
          continue;
        if (done->second.completed.count(c.seq)) continue;
        Finding f;
        f.kind = FindingKind::kNotCompleted;
        f.severity = Severity::kWarning;
        f.comm_key = key;
        f.comm_size = comm.size;
        f.op_seq = c.op_seq;
        f.ranks = {rank};
        f.message = "rank " + std::to_string(rank) + " " + c.Describe() + " (seq " +
                    std::to_string(c.seq) + ") has no completion";
        f.calls.push_back(SideOf(comm, rank, &c, ""));
        out.push_back(std::move(f));
      }
    }
  }
}

}  // namespace

std::vector<Finding> CheckRun(trace::Run& run) {
  const RankTables t = ReadRankTables(run);
  std::vector<Finding> out;
  for (const auto& [key, comm] : t.comms) {
    CheckMismatches(key, comm, out);
    CheckMissing(key, comm, out);
  }
  CheckErrors(t, out);
  CheckCompletions(t, out);
  SortFindings(out);
  return out;
}

}  // namespace ddrr::analysis
