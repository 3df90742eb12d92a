#include "analysis/failure_checks.h"

#include <algorithm>
#include <map>

#include "spec/api_table.h"

namespace ddrr::analysis {
namespace {

std::string More(uint64_t count, const char* what) {
  return count > 1 ? " (and " + std::to_string(count - 1) + " more " + what + ")" : "";
}

Finding Base(CheckContext& ctx, FindingKind kind, const RankScan& s, const Incident& inc) {
  Finding f;
  f.kind = kind;
  const uint64_t key = inc.member >= 0 ? s.members[inc.member].comm_key : inc.call.comm_key;
  if (const Comm* c = key ? ctx.model.Find(key) : nullptr)
    SetComm(f, *c);
  else
    f.comm_key = key;
  // The failing op, or for calls that are no op (queries, aborts) the last op the rank reached.
  f.op_seq = inc.call.op_seq ? inc.call.op_seq : inc.last_op;
  f.ranks = {s.rank};
  // A failure happens when the call returns: a call that blocked until a peer failed started
  // before the failure it reports.
  f.time_ns = inc.call.time_ns + static_cast<int64_t>(inc.call.duration_ns);
  return f;
}

// Marks the earliest finding of [from, end) "first to fail".
void MarkFirst(std::vector<Finding>& out, size_t from) {
  if (out.size() <= from) return;
  auto first =
      std::min_element(out.begin() + static_cast<std::ptrdiff_t>(from), out.end(),
                       [](const Finding& a, const Finding& b) { return a.time_ns < b.time_ns; });
  first->message += "; first rank to fail";
  if (!first->calls.empty()) first->calls.front().note = "first to fail";
}

std::string Where(const CallSummary& c) {
  return " (seq " + std::to_string(c.seq) + (c.op_seq ? ", op " + std::to_string(c.op_seq) : "") +
         ")";
}

// One finding per incident of `list` on every rank, worded by `say(rank, incident)`; with
// `mark_first`, the earliest is marked "first to fail".
template <typename Say>
void EachIncident(CheckContext& ctx, FindingKind kind, std::vector<Incident> RankScan::*list,
                  bool mark_first, Say say) {
  const size_t from = ctx.out.size();
  for (const RankScan& s : ctx.scans)
    for (const Incident& inc : s.*list) {
      Finding f = Base(ctx, kind, s, inc);
      f.message = "rank " + std::to_string(s.rank) + " " + say(inc);
      f.calls.push_back(SideOf(s, inc.member, &inc.call, ""));
      ctx.out.push_back(std::move(f));
    }
  if (mark_first) MarkFirst(ctx.out, from);
}

void NcclErrors(CheckContext& ctx) {
  EachIncident(ctx, FindingKind::kNcclError, &RankScan::nccl_errors, true, [](const Incident& i) {
    return i.call.Describe() + " returned " + i.call.result_name + Where(i.call) +
           More(i.count, "failed calls like it");
  });
}

void CudaErrors(CheckContext& ctx) {
  EachIncident(ctx, FindingKind::kCudaError, &RankScan::cuda_errors, true, [](const Incident& i) {
    if (!i.what.empty()) return i.what;  // a stream error the completion poller saw
    return i.call.fn + " returned " + i.call.result_name + Where(i.call) + More(i.count, "like it");
  });
}

void AsyncErrors(CheckContext& ctx) {
  constexpr auto kFn = static_cast<uint16_t>(trace::FunctionId::kNcclCommGetAsyncError);
  EachIncident(ctx, FindingKind::kNcclAsyncError, &RankScan::async_errors, true,
               [&](const Incident& i) {
                 return "ncclCommGetAsyncError reported " + ResultName(kFn, i.detail) +
                        " after op " + std::to_string(i.last_op) + " (seq " +
                        std::to_string(i.call.seq) + ")" + More(i.count, "polls reporting it");
               });
}

// One finding per communicator: who aborted (or revoked) it first, and who followed.
void Aborts(CheckContext& ctx) {
  std::map<uint64_t, std::vector<std::pair<const RankScan*, const Incident*>>> by_comm;
  for (const RankScan& s : ctx.scans)
    for (const Incident& inc : s.aborts) {
      const uint64_t key = inc.member >= 0 ? s.members[inc.member].comm_key : 0;
      by_comm[key].emplace_back(&s, &inc);
    }
  for (auto& [key, list] : by_comm) {
    std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) {
      return a.second->call.time_ns < b.second->call.time_ns;
    });
    const auto& [s, inc] = list.front();
    Finding f = Base(ctx, FindingKind::kCommAbort, *s, *inc);
    f.time_ns = inc->call.time_ns;  // the decision to abort, not its end
    f.message = "rank " + std::to_string(s->rank) + " called " + inc->call.fn + " after op " +
                std::to_string(inc->last_op) + " (seq " + std::to_string(inc->call.seq) + ")";
    std::vector<int64_t> others;
    for (size_t i = 0; i < list.size(); ++i) {
      f.calls.push_back(SideOf(*list[i].first, list[i].second->member, &list[i].second->call,
                               i == 0 ? "first" : "later"));
      f.evidence.push_back("rank " + std::to_string(list[i].first->rank) + ": " +
                           list[i].second->call.fn + " after op " +
                           std::to_string(list[i].second->last_op));
      if (i) others.push_back(list[i].first->rank);
    }
    SortUnique(others);
    if (!others.empty()) f.message += "; " + RanksWord(others) + " followed";
    ctx.out.push_back(std::move(f));
  }
}

void NotCompleted(CheckContext& ctx) {
  const size_t from = ctx.out.size();
  EachIncident(
      ctx, FindingKind::kNotCompleted, &RankScan::not_completed, false, [](const Incident& i) {
        std::string m = i.call.Describe() + Where(i.call) + (i.what.empty() ? "" : " " + i.what) +
                        " has no completion";
        if (i.count > 1)
          m += "; " + std::to_string(i.count) + " ops on this communicator never completed";
        return m;
      });
  for (size_t k = from; k < ctx.out.size(); ++k) ctx.out[k].severity = Severity::kWarning;
}

}  // namespace

void CheckFailures(CheckContext& ctx) {
  Aborts(ctx);
  AsyncErrors(ctx);
  NcclErrors(ctx);
  CudaErrors(ctx);
  NotCompleted(ctx);
}

}  // namespace ddrr::analysis
