#include "replay/verdict.h"

#include <nccl.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <optional>
#include <unordered_map>

#include "analysis/event_diff.h"
#include "analysis/op_record.h"
#include "analysis/report.h"
#include "replay/hang.h"
#include "replay/window.h"
#include "spec/api_table.h"
#include "spec/api_views.h"
#include "trace/event_printer.h"
#include "trace/import_source.h"

namespace ddrr::replay {
namespace {

using trace::ApiCall;
using trace::FunctionId;

constexpr size_t kMaxPendingTimes = 65536;  // ops waiting for their completion, for timing
constexpr int32_t kBuiltinRedOps = 5;       // ncclSum .. ncclAvg; higher values are PreMulSum ops

struct OpTimes {
  std::vector<double> call_us, done_us;
  void Add(const OpTimes& o) {
    call_us.insert(call_us.end(), o.call_us.begin(), o.call_us.end());
    done_us.insert(done_us.end(), o.done_us.begin(), o.done_us.end());
  }
};

// One communication call, reduced to what the two runs must share.
struct Item {
  uint64_t seq = 0;
  FunctionId fn{};
  std::string_view category;
  uint64_t comm_key = 0;
  uint64_t op_seq = 0;
  bool op = false;
  trace::OpView view;
  int64_t result = 0;
  bool hung = false;
  bool result_known = true;  // false: an import whose source has no results (success written)
  trace::Event event;        // rendered as `ddrr dump` shows it only when a report quotes it
  trace::EventPosition pos;
  class CommStream* from = nullptr;
  std::string Line() const;
};

// The communication calls of one rank file, in order, that a predicate keeps.
class CommStream {
 public:
  using Keep = std::function<bool(const ApiCall&, uint64_t seq, const trace::FunctionInfo&,
                                  uint64_t parent_key)>;
  CommStream(trace::RankEntry& e, const analysis::RankScan* scan, double timeout, Keep keep)
      : reader_(*e.reader),
        printer_(e.rank),
        timeout_(timeout),
        keep_(std::move(keep)),
        results_known_(!trace::ImportLacks(e.reader->header().env(), "results")) {
    reader_.Rewind();
    const trace::Footer* end = reader_.footer();
    if (scan && scan->recorded_completions && (!end || end->end_reason() != trace::END_EXIT)) {
      // A rank that did not exit (killed, crashed): ops it issued that never completed hung.
      for (const analysis::Incident& inc : scan->not_completed)
        if (inc.member >= 0)
          first_not_completed_[scan->members[inc.member].comm_key] = inc.call.op_seq;
    }
  }

  std::optional<Item> Next() {
    trace::Event ev;
    trace::EventPosition pos;
    while (reader_.Next(&ev, &pos)) {
      if (ev.has_completion()) {
        Completed(ev.completion(), pos);
        continue;
      }
      if (!ev.has_call()) {
        printer_.Observe(ev);
        continue;
      }
      const ApiCall& c = ev.call();
      const FunctionId fn = trace::FunctionOfField(c.fn_case());
      const trace::FunctionInfo* info = trace::FindFunction(fn);
      uint64_t parent = 0;
      if (info && info->category == "comm_create") {
        parent = ParentKey(c);
        Created(c);
      }
      // What `ddrr diff` compares of a replay, less what a comm replay does not re-issue.
      const bool keep = info && info->replay != "skip" && analysis::IsCommunication(c) &&
                        keep_(c, pos.seq, *info, parent);
      if (!keep) {
        printer_.Observe(ev);
        continue;
      }
      Item it;
      it.seq = pos.seq;
      it.fn = fn;
      it.category = info->category;
      it.comm_key = c.comm_key();
      it.op_seq = c.op_seq();
      it.op = trace::ViewOp(c, &it.view);
      it.result = c.result();
      it.hung = Hung(c);
      it.result_known = results_known_;
      if (it.op) Started(it, pos, c);
      printer_.Observe(ev);
      it.pos = pos;
      it.from = this;
      it.event = std::move(ev);
      return it;
    }
    FlushTimes();
    return std::nullopt;
  }

 private:
  bool Hung(const ApiCall& c) const {
    if (!analysis::NcclOk(c.result())) return BlockedUntilTimeout(c.duration_ns(), timeout_);
    auto it = first_not_completed_.find(c.comm_key());
    return c.op_seq() && it != first_not_completed_.end() && c.op_seq() >= it->second;
  }

  void Created(const ApiCall& c) {
    if (!analysis::NcclOk(c.result())) return;
    switch (c.fn_case()) {
      case ApiCall::kNcclCommInitRank:
        handles_[c.nccl_comm_init_rank().comm()] = c.comm_key();
        break;
      case ApiCall::kNcclCommInitRankConfig:
        handles_[c.nccl_comm_init_rank_config().comm()] = c.comm_key();
        break;
      case ApiCall::kNcclCommInitRankScalable:
        handles_[c.nccl_comm_init_rank_scalable().newcomm()] = c.comm_key();
        break;
      case ApiCall::kNcclCommInitAll:
        for (uint64_t h : c.nccl_comm_init_all().comms()) handles_[h] = c.comm_key();
        break;
      case ApiCall::kNcclCommSplit:
        handles_[c.nccl_comm_split().newcomm()] = c.comm_key();
        break;
      case ApiCall::kNcclCommShrink:
        handles_[c.nccl_comm_shrink().newcomm()] = c.comm_key();
        break;
      default:
        break;
    }
  }

  uint64_t ParentKey(const ApiCall& c) const {
    uint64_t h = 0;
    if (c.has_nccl_comm_split()) h = c.nccl_comm_split().comm();
    if (c.has_nccl_comm_shrink()) h = c.nccl_comm_shrink().comm();
    auto it = handles_.find(h);
    return h && it != handles_.end() ? it->second : 0;
  }

  struct Pending {
    std::string fn;
    uint64_t bytes;
    uint64_t start_ns;
    uint64_t duration_ns;
  };
  void Started(const Item& it, const trace::EventPosition& pos, const ApiCall& c) {
    if (!analysis::NcclOk(c.result())) return;
    uint64_t bytes = it.view.count * analysis::DatatypeBytes(it.view.datatype);
    uint64_t bucket = 1;
    while (bucket < bytes) bucket <<= 1;
    pending_[it.seq] = {std::string(trace::FindFunction(it.fn)->name), bytes ? bucket : 0,
                        pos.time_ns, c.duration_ns()};
    if (pending_.size() > kMaxPendingTimes) {
      auto first = pending_.begin();
      Sample(first->second, first->second.duration_ns);  // its completion never came
      pending_.erase(first);
    }
  }
  void Completed(const trace::Completion& done, const trace::EventPosition& pos) {
    auto it = pending_.find(done.call_seq());
    if (it == pending_.end()) return;
    const int64_t observed = static_cast<int64_t>(pos.time_ns) + done.observed_delta_ns();
    const int64_t took = observed - static_cast<int64_t>(it->second.start_ns);
    Sample(it->second, std::max<uint64_t>(static_cast<uint64_t>(std::max<int64_t>(took, 0)),
                                          it->second.duration_ns));
    pending_.erase(it);
  }
  void FlushTimes() {
    for (const auto& [seq, p] : pending_) Sample(p, p.duration_ns);
    pending_.clear();
  }
  // `done_ns`: from the call until its completion was seen (the call's own time without one).
  void Sample(const Pending& p, uint64_t done_ns) {
    OpTimes& t = samples_[{p.fn, p.bytes}];
    t.call_us.push_back(static_cast<double>(p.duration_ns) / 1e3);
    t.done_us.push_back(static_cast<double>(done_ns) / 1e3);
  }

 public:
  std::map<std::pair<std::string, uint64_t>, OpTimes>& samples() { return samples_; }
  // The dump line of a call this stream returned (its handles keep the names they got).
  std::string Render(const Item& it) { return printer_.Text(it.event, it.pos); }

 private:
  trace::RankFileReader& reader_;
  trace::EventPrinter printer_;
  double timeout_;
  Keep keep_;
  bool results_known_;
  std::unordered_map<uint64_t, uint64_t> handles_;  // comm handle -> key
  std::unordered_map<uint64_t, uint64_t> first_not_completed_;
  std::map<uint64_t, Pending> pending_;
  std::map<std::pair<std::string, uint64_t>, OpTimes> samples_;
};

std::string Item::Line() const { return from->Render(*this); }

std::string ResultText(FunctionId fn, int64_t result) {
  return analysis::ResultName(static_cast<uint16_t>(fn), result);
}

// Ops of the recording that `ddrr check` found used wrongly (arguments that disagree across
// ranks): recorded key -> the first such op. NCCL hangs on them where emu fails them.
using Misused = std::map<uint64_t, uint64_t>;

bool MisusedAt(const Misused& misused, const Item& r) {
  auto it = misused.find(r.comm_key);
  return it != misused.end() && r.op_seq >= it->second;
}

// What differs between the recorded and the replayed call, or "".
std::string Differ(const Item& r, const Item& p, std::map<uint64_t, uint64_t>& keys,
                   const Misused& misused) {
  const bool creates = r.category == "comm_create" && p.category == "comm_create";
  if (r.fn != p.fn && !creates)
    return std::string(trace::FindFunction(p.fn)->name) + " where the recording called " +
           std::string(trace::FindFunction(r.fn)->name);
  if (creates) {
    if (p.comm_key) keys[p.comm_key] = r.comm_key;
  } else if (r.comm_key) {
    auto it = keys.find(p.comm_key);
    if (it == keys.end() || it->second != r.comm_key)
      return "on another communicator than communicator " + trace::EventPrinter::KeyHex(r.comm_key);
  }
  if (r.op && p.op) {
    const trace::OpView &a = r.view, &b = p.view;
    if (a.count != b.count)
      return "count " + std::to_string(b.count) + " where the recording had " +
             std::to_string(a.count);
    if (a.datatype != b.datatype)
      return "datatype " + analysis::DatatypeName(b.datatype) + " where the recording had " +
             analysis::DatatypeName(a.datatype);
    const bool builtin_a = a.redop < kBuiltinRedOps, builtin_b = b.redop < kBuiltinRedOps;
    if (builtin_a != builtin_b || (builtin_a && a.redop != b.redop))
      return "reduction op " + analysis::RedOpName(b.redop) + " where the recording had " +
             analysis::RedOpName(a.redop);
    if (a.root != b.root)
      return "root " + std::to_string(b.root) + " where the recording had " +
             std::to_string(a.root);
    if (a.peer != b.peer)
      return "peer " + std::to_string(b.peer) + " where the recording had " +
             std::to_string(a.peer);
  }
  const bool ok_r = analysis::NcclOk(r.result), ok_p = analysis::NcclOk(p.result);
  // NCCL hangs on arguments that disagree across ranks; emu checks them and fails the op.
  if (r.hung && !p.hung && !ok_p && MisusedAt(misused, r)) return "";
  // An import without results wrote each call as successful: where its arguments disagree,
  // emu's failure is what NCCL's would have been, or its hang.
  if (!r.result_known && (!ok_p || p.hung) && MisusedAt(misused, r)) return "";
  if (r.hung != p.hung)
    return r.hung ? "it did not hang, as it did when recorded"
                  : "it hung (blocked until the replay's timeout, or never completed), which it "
                    "did not when recorded";
  if (r.hung) return "";
  if (ok_r && ok_p) return "";  // ncclInProgress and ncclSuccess: both still fine
  // ncclRemoteError means a peer failed first: whether a rank finds a mismatch itself or hears
  // of it from the peer that found it is timing, in NCCL as in emu.
  const bool nccl = trace::FindFunction(r.fn)->library == "nccl";
  if (!ok_r && !ok_p && nccl && (r.result == ncclRemoteError || p.result == ncclRemoteError))
    return "";
  if (r.result != p.result)
    return "returned " + ResultText(p.fn, p.result) + " where the recording returned " +
           ResultText(r.fn, r.result);
  return "";
}

std::string FirstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

const analysis::Finding* FirstError(const std::vector<analysis::Finding>& findings) {
  for (const analysis::Finding& f : findings)
    if (f.severity == analysis::Severity::kError) return &f;
  return nullptr;
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Compares two runs' calls in order, into `rv`: stops at the first difference, or at a call that
// hung in both (what follows a hang is moot), or where the replay stopped while the recording
// hung there.
template <typename NextRecorded, typename NextReplayed>
void Compare(NextRecorded next_recorded, NextReplayed next_replayed,
             std::map<uint64_t, uint64_t>& keys, const Misused& misused, RankVerdict& rv) {
  for (;;) {
    std::optional<Item> r = next_recorded(), p = next_replayed();
    if (!r && !p) return;
    if (!p) {
      if (r->hung) {
        rv.hung = true;
        rv.hung_call = r->Line();
        return;
      }
      rv.diverged = true;
      rv.difference = "the replay stopped before this call of the recording";
      rv.recorded_call = r->Line();
      rv.recorded_seq = r->seq;
      rv.replayed_call = "(none)";
      return;
    }
    if (!r) {
      rv.diverged = true;
      rv.difference = "the replay made a call the recording did not";
      rv.recorded_call = "(none)";
      rv.recorded_seq = ~0ull;
      rv.replayed_call = p->Line();
      return;
    }
    const std::string diff = Differ(*r, *p, keys, misused);
    if (!diff.empty()) {
      rv.diverged = true;
      rv.difference = diff;
      rv.recorded_call = r->Line();
      rv.recorded_seq = r->seq;
      rv.replayed_call = p->Line();
      return;
    }
    ++rv.compared;
    if (r->hung && p->hung) {
      rv.hung = true;
      rv.hung_call = r->Line();
      return;
    }
  }
}

}  // namespace

StatusOr<Verdict> Judge(trace::Run& recording, const analysis::RunModel& recorded_model,
                        const std::vector<analysis::Finding>& recorded_findings, trace::Run& replay,
                        const analysis::RunModel& replay_model,
                        const std::vector<analysis::Finding>& replay_findings,
                        const ReplayPlan& plan) {
  Verdict v;
  std::unordered_map<uint64_t, const PlanComm*> comms;
  for (const PlanComm& c : plan.comms()) comms[c.key()] = &c;
  auto replayed = [&](uint64_t key) {
    auto it = comms.find(key);
    return it != comms.end() && it->second->replayed();
  };
  Misused misused;
  for (const analysis::Finding& f : recorded_findings) {
    using analysis::FindingKind;
    if (f.kind != FindingKind::kMismatchedCollective && f.kind != FindingKind::kUnmatchedP2p &&
        f.kind != FindingKind::kMismatchedP2p && f.kind != FindingKind::kCommSizeMismatch &&
        f.kind != FindingKind::kDuplicateRank)
      continue;
    uint64_t op = f.op_seq;
    for (const auto& side : f.calls)
      if (side.has_call) op = std::min(op, side.call.op_seq);
    auto [it, fresh] = misused.emplace(f.comm_key, op);
    if (!fresh) it->second = std::min(it->second, op);
  }
  std::map<std::pair<std::string, uint64_t>, OpTimes> rec_times, rep_times;
  for (const RankPlan& rp : plan.ranks()) {
    RankVerdict rv;
    rv.rank = rp.rank();
    trace::RankEntry* re = recording.FindRank(rp.rank());
    trace::RankEntry* pe = replay.FindRank(rp.rank());
    if (!re || !re->reader)
      return Status::NotFound("rank " + std::to_string(rp.rank()) + " vanished from the recording");
    if (!pe || !pe->reader) {
      rv.diverged = true;
      rv.difference = "the replay left no readable trace for this rank";
      v.ranks.push_back(rv);
      continue;
    }
    CommStream rec(
        *re, recorded_model.Scan(rp.rank()), RunTimeout(re->reader->header()),
        [&](const ApiCall& c, uint64_t seq, const trace::FunctionInfo& f, uint64_t parent) {
          if (c.graph_captured()) return false;  // not replayed: graphs are left out
          if (rp.damage_seq() && seq >= rp.damage_seq()) return false;
          if (rp.until_seq() && seq > rp.until_seq()) return false;
          if (seq < rp.from_seq() && !ReplayedBeforeWindow(f.category)) return false;
          if (f.category == "group") return true;
          if (f.category == "comm_create")
            return replayed(c.comm_key()) || (parent && replayed(parent));
          return c.comm_key() != 0 && replayed(c.comm_key());
        });
    CommStream rep(
        *pe, replay_model.Scan(rp.rank()), plan.timeout_seconds(),
        [](const ApiCall&, uint64_t, const trace::FunctionInfo&, uint64_t) { return true; });
    std::map<uint64_t, uint64_t> keys;
    if (rp.threads() <= 1) {
      Compare([&] { return rec.Next(); }, [&] { return rep.Next(); }, keys, misused, rv);
    } else {
      // Threads interleave differently from run to run: each communicator's calls are compared
      // in their order (a communicator is driven from one thread at a time), group boundaries
      // are left out, and communicators pair up in the order they were created.
      std::map<uint64_t, std::deque<Item>> rec_by_comm, rep_by_comm;
      std::vector<uint64_t> rec_created, rep_created;
      auto collect = [](CommStream& from, std::map<uint64_t, std::deque<Item>>& by,
                        std::vector<uint64_t>& created) {
        while (std::optional<Item> it = from.Next()) {
          if (it->category == "group") continue;
          if (it->category == "comm_create") created.push_back(it->comm_key);
          by[it->comm_key].push_back(std::move(*it));
        }
      };
      collect(rec, rec_by_comm, rec_created);
      collect(rep, rep_by_comm, rep_created);
      for (size_t i = 0; i < rec_created.size() && i < rep_created.size(); ++i)
        if (rep_created[i]) keys[rep_created[i]] = rec_created[i];
      std::map<uint64_t, uint64_t> recorded_to_replay;
      for (const auto& [replay_key, recorded_key] : keys)
        recorded_to_replay[recorded_key] = replay_key;
      RankVerdict first;
      for (auto& [key, recorded] : rec_by_comm) {
        RankVerdict one;
        one.rank = rv.rank;
        std::deque<Item>& replayed =
            rep_by_comm[recorded_to_replay.count(key) ? recorded_to_replay[key] : 0];
        auto pop = [](std::deque<Item>& q) -> std::optional<Item> {
          if (q.empty()) return std::nullopt;
          Item it = std::move(q.front());
          q.pop_front();
          return it;
        };
        std::deque<Item>& ours = recorded;  // lambdas cannot capture a structured binding
        Compare([&] { return pop(ours); }, [&] { return pop(replayed); }, keys, misused, one);
        rv.compared += one.compared;
        rv.hung |= one.hung;
        if (one.hung && rv.hung_call.empty()) rv.hung_call = one.hung_call;
        if (one.diverged && (!first.diverged || one.recorded_seq < first.recorded_seq)) first = one;
      }
      if (first.diverged) {
        rv.diverged = true;
        rv.difference = first.difference;
        rv.recorded_call = first.recorded_call;
        rv.replayed_call = first.replayed_call;
      }
    }
    for (auto& [k, t] : rec.samples()) rec_times[k].Add(t);
    for (auto& [k, t] : rep.samples()) rep_times[k].Add(t);
    for (const auto& [replay_key, recorded_key] : keys) v.replay_keys[replay_key] = recorded_key;
    re->reader->ReleaseMemory();
    pe->reader->ReleaseMemory();
    v.ranks.push_back(std::move(rv));
  }

  const analysis::Finding* fr = FirstError(recorded_findings);
  const analysis::Finding* fp = FirstError(replay_findings);
  if (fr) v.recorded_finding = FirstLine(analysis::FindingText(*fr));
  if (fp) v.replayed_finding = FirstLine(analysis::FindingText(*fp));
  if (!fr || !fp) {
    v.findings_agree = !fr && !fp;
  } else {
    auto key = v.replay_keys.find(fp->comm_key);
    const uint64_t mapped = fp->comm_key == 0            ? 0
                            : key == v.replay_keys.end() ? ~0ull
                                                         : key->second;
    const bool windowed = std::any_of(plan.ranks().begin(), plan.ranks().end(),
                                      [](const RankPlan& r) { return r.from_seq() != 0; });
    v.findings_agree = fr->kind == fp->kind && fr->comm_key == mapped && fr->ranks == fp->ranks &&
                       (windowed || fr->op_seq == fp->op_seq);
  }

  for (const auto& [k, t] : rec_times) {
    TimingRow row;
    row.fn = k.first;
    row.bytes = k.second;
    row.recorded_ops = t.call_us.size();
    row.recorded_call_us = Median(t.call_us);
    row.recorded_done_us = Median(t.done_us);
    auto it = rep_times.find(k);
    if (it != rep_times.end()) {
      row.replayed_ops = it->second.call_us.size();
      row.replayed_call_us = Median(it->second.call_us);
      row.replayed_done_us = Median(it->second.done_us);
    }
    v.timing.push_back(row);
  }
  bool diverged = false;
  for (const RankVerdict& rv : v.ranks) diverged |= rv.diverged;
  v.reproduced = !diverged && v.findings_agree;
  return v;
}

}  // namespace ddrr::replay
