#include "analysis/rank_tables.h"

namespace ddrr::analysis {
namespace {

// ncclInProgress is how non-blocking communicators answer; it is not a failure.
constexpr int64_t kNcclInProgress = 7;

int64_t InitSize(const trace::ApiCall& c) {
  if (c.has_nccl_comm_init_rank()) return c.nccl_comm_init_rank().nranks();
  if (c.has_nccl_comm_init_rank_config()) return c.nccl_comm_init_rank_config().nranks();
  if (c.has_nccl_comm_init_rank_scalable()) return c.nccl_comm_init_rank_scalable().nranks();
  return -1;
}

void ReadRank(trace::RankEntry& entry, RankTables& t) {
  trace::RankFileReader& r = *entry.reader;
  r.Rewind();
  const int64_t rank = r.header().rank();
  const uint64_t start = r.header().start_mono_ns();
  RankCompletions& done = t.completions[rank];
  trace::Event ev;
  trace::EventPosition pos;
  while (r.Next(&ev, &pos)) {
    if (ev.has_completion()) {
      done.any = true;
      done.completed.insert(ev.completion().call_seq());
      continue;
    }
    if (!ev.has_call()) continue;
    const trace::ApiCall& c = ev.call();
    CallSummary s = Summarize(c, rank, pos.seq, start + pos.time_ns);
    if (s.nccl && s.result != 0 && s.result != kNcclInProgress) t.failed_nccl_calls.push_back(s);
    if (!c.comm_key()) continue;
    CommTable& comm = t.comms[c.comm_key()];
    std::vector<CallSummary>& ops = comm.ops[rank];  // membership even without ops
    if (const int64_t size = InitSize(c); size > 0) comm.size = size;
    const uint64_t k = c.op_seq();
    if (k == 0) continue;
    // op_seq is dense from 1 on a rank; a gap (damage skipped frames) leaves empty slots.
    if (ops.size() < k) ops.resize(k);
    ops[k - 1] = std::move(s);
  }
}

}  // namespace

RankTables ReadRankTables(trace::Run& run) {
  RankTables t;
  for (auto& e : run.ranks())
    if (e.reader) ReadRank(e, t);
  return t;
}

}  // namespace ddrr::analysis
