#include "replay/plan.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <set>

#include "analysis/op_record.h"
#include "analysis/run_model.h"
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

bool Replayed(const ApiCall& c) {
  const trace::FunctionInfo* f = trace::FindFunction(trace::FunctionOfField(c.fn_case()));
  return f != nullptr && f->replay != "skip";
}

bool Setup(const ApiCall& c) {
  const trace::FunctionInfo* f = trace::FindFunction(trace::FunctionOfField(c.fn_case()));
  return f != nullptr && ReplayedBeforeWindow(f->category);
}

// Disjoint address ranges, merged as they are added.
class Ranges {
 public:
  void Add(uint64_t begin, uint64_t end) {
    auto it = ranges_.upper_bound(begin);
    if (it != ranges_.begin() && std::prev(it)->second >= begin) {
      --it;
      begin = it->first;
    }
    while (it != ranges_.end() && it->first <= end) {
      end = std::max(end, it->second);
      it = ranges_.erase(it);
    }
    ranges_[begin] = end;
  }
  const std::map<uint64_t, uint64_t>& ranges() const { return ranges_; }

 private:
  std::map<uint64_t, uint64_t> ranges_;  // begin -> end
};

// What one pass over a rank file gives the plan.
class RankPass {
 public:
  RankPass(const std::map<uint64_t, int64_t>& comm_sizes, int64_t world_size,
           const PlanOptions& options, RankPlan& out)
      : comm_sizes_(comm_sizes), world_size_(world_size), options_(options), out_(out) {}

  void Run(trace::RankFileReader& reader, std::vector<std::string>& damage) {
    reader.Rewind();
    trace::Event ev;
    trace::EventPosition pos;
    bool passed_from = options_.from.kind == WindowPoint::kNone;
    // Replay stops at the first damage: what follows it may be missing calls the peers wait for.
    // The reader may already know the damage (an earlier pass), or find it now.
    auto first_damage = [&reader]() -> const trace::TraceProblem* {
      const trace::TraceProblem* first = nullptr;
      for (const trace::TraceProblem& p : reader.problems())
        if (!first || p.offset < first->offset) first = &p;
      return first;
    };
    while (reader.Next(&ev, &pos)) {
      const trace::TraceProblem* d = first_damage();
      if (d && pos.frame_offset > d->offset) {
        out_.set_damage_seq(pos.seq);
        damage.push_back(d->ToString());
        break;
      }
      last_time_ns_ = static_cast<int64_t>(pos.time_ns);
      if (ev.has_mark()) {
        OnMark(ev.mark(), pos.seq, passed_from);
        continue;
      }
      if (!ev.has_call()) continue;
      const ApiCall& c = ev.call();
      if (!first_comm_ && c.comm_key()) first_comm_ = c.comm_key();
      OnWindowOp(c, pos.seq, passed_from);
      if (out_.until_seq() && pos.seq > out_.until_seq()) continue;
      OnCall(c, ev.thread(), pos.seq, passed_from || Setup(c));
    }
    if (const trace::TraceProblem* d = first_damage(); d && out_.damage_seq() == 0) {
      out_.set_damage_seq(std::numeric_limits<uint64_t>::max());  // damage after the last event
      damage.push_back(d->ToString());
    }
    if (!passed_from) out_.set_from_seq(std::numeric_limits<uint64_t>::max());
    Finish();
  }

  int64_t last_time_ns() const { return last_time_ns_; }
  uint64_t captured() const { return captured_; }
  bool reduces() const { return reduces_; }  // an op in the window reduces
  bool rooted() const { return rooted_; }    // an op in the window has a root
  const std::set<int>& device_set() const { return devices_; }

 private:
  struct Live {
    uint64_t seq;
    uint64_t size;
  };

  void OnMark(const trace::Mark& m, uint64_t seq, bool& passed_from) {
    if (!passed_from && options_.from.kind == WindowPoint::kStep &&
        m.step() >= options_.from.step) {
      out_.set_from_seq(seq);
      passed_from = true;
    }
    if (options_.until.kind == WindowPoint::kStep && !out_.until_seq() &&
        m.step() > options_.until.step)
      out_.set_until_seq(seq - 1);
  }

  bool OnWindowComm(uint64_t key, const WindowPoint& w) const {
    return w.kind == WindowPoint::kOp && key && key == (w.comm_key ? w.comm_key : first_comm_);
  }

  void OnWindowOp(const ApiCall& c, uint64_t seq, bool& passed_from) {
    if (!c.op_seq()) return;
    if (!passed_from && OnWindowComm(c.comm_key(), options_.from) &&
        c.op_seq() >= options_.from.op) {
      out_.set_from_seq(seq);
      passed_from = true;
    }
    if (!out_.until_seq() && OnWindowComm(c.comm_key(), options_.until) &&
        c.op_seq() >= options_.until.op)
      out_.set_until_seq(seq);
  }

  // Memory NCCL reads or writes: into the allocation that holds it, or a region of its own.
  void Use(uint64_t ptr, uint64_t bytes) {
    if (ptr == 0 || bytes == 0) return;
    auto it = live_.upper_bound(ptr);
    if (it != live_.begin()) {
      --it;
      if (ptr - it->first < std::max<uint64_t>(it->second.size, 1)) {
        uint64_t& need = need_[it->second.seq];
        need = std::max(need, ptr - it->first + bytes);
        return;
      }
    }
    regions_.Add(ptr, ptr + bytes);
  }

  void Allocated(const ApiCall& c, uint64_t seq, uint64_t ptr, uint64_t size) {
    if (analysis::NcclOk(c.result()) && ptr) live_[ptr] = {seq, size};
  }
  void Freed(uint64_t ptr) { live_.erase(ptr); }

  int64_t CommSize(uint64_t key) const {
    auto it = comm_sizes_.find(key);
    return it != comm_sizes_.end() && it->second > 0 ? it->second : world_size_;
  }

  void OnCall(const ApiCall& c, uint32_t thread, uint64_t seq, bool in_window) {
    switch (c.fn_case()) {  // memory comes and goes whatever the window
      case ApiCall::kCudaMalloc:
        return Allocated(c, seq, c.cuda_malloc().dev_ptr(), c.cuda_malloc().size());
      case ApiCall::kCudaMallocHost:
        return Allocated(c, seq, c.cuda_malloc_host().ptr(), c.cuda_malloc_host().size());
      case ApiCall::kCudaHostAlloc:
        return Allocated(c, seq, c.cuda_host_alloc().host_ptr(), c.cuda_host_alloc().size());
      case ApiCall::kCudaMallocManaged:
        return Allocated(c, seq, c.cuda_malloc_managed().dev_ptr(), c.cuda_malloc_managed().size());
      case ApiCall::kCudaMallocAsync:
        return Allocated(c, seq, c.cuda_malloc_async().dev_ptr(), c.cuda_malloc_async().size());
      case ApiCall::kNcclMemAlloc:
        return Allocated(c, seq, c.nccl_mem_alloc().ptr(), c.nccl_mem_alloc().size());
      case ApiCall::kCudaFree:
        return Freed(c.cuda_free().dev_ptr());
      case ApiCall::kCudaFreeHost:
        return Freed(c.cuda_free_host().ptr());
      case ApiCall::kCudaFreeAsync:
        return Freed(c.cuda_free_async().dev_ptr());
      case ApiCall::kNcclMemFree:
        return Freed(c.nccl_mem_free().ptr());
      default:
        break;
    }
    if (!Replayed(c) || !in_window) return;
    if (c.graph_captured()) {  // it ran at each launch of its graph, which is not replayed
      ++captured_;
      return;
    }
    ++calls_;
    threads_.insert(thread);
    if (!device_set_.count(thread)) uses_default_device_ = true;
    trace::OpView view;
    if (trace::ViewOp(c, &view)) {
      reduces_ |= view.redop >= 0;
      rooted_ |= view.root >= 0;
      const uint64_t bytes = analysis::DatatypeBytes(view.datatype);
      for (uint32_t b = 0; b < view.nbuffers; ++b)
        Use(view.buffers[b].ptr, view.buffers[b].Elements(CommSize(c.comm_key())) * bytes);
      return;
    }
    switch (c.fn_case()) {
      case ApiCall::kNcclCommRegister:
        Use(c.nccl_comm_register().buff(), c.nccl_comm_register().size());
        break;
      case ApiCall::kNcclCommWindowRegister:
        Use(c.nccl_comm_window_register().buff(), c.nccl_comm_window_register().size());
        break;
      case ApiCall::kNcclRedOpCreatePreMulSum: {
        const auto& m = c.nccl_red_op_create_pre_mul_sum();
        if (m.residence() == trace::NCCL_SCALAR_RESIDENCE_ncclScalarDevice)
          Use(m.scalar(), analysis::DatatypeBytes(m.datatype()));
        break;
      }
      case ApiCall::kCudaSetDevice:
        if (analysis::NcclOk(c.result())) {
          devices_.insert(static_cast<int>(c.cuda_set_device().device()));
          device_set_.insert(thread);
        }
        break;
      case ApiCall::kNcclCommInitAll: {
        const auto& m = c.nccl_comm_init_all();
        for (int64_t i = 0; i < m.ndev(); ++i)
          devices_.insert(
              static_cast<int>(i < m.devlist_size() ? m.devlist(static_cast<int>(i)) : i));
        break;
      }
      default:
        break;
    }
  }

  void Finish() {
    for (const auto& [seq, bytes] : need_) {
      PlanAllocation* a = out_.add_allocations();
      a->set_call_seq(seq);
      a->set_bytes(bytes);
    }
    for (const auto& [begin, end] : regions_.ranges()) {
      PlanRegion* r = out_.add_regions();
      r->set_base(begin);
      r->set_bytes(end - begin);
    }
    if (uses_default_device_ || devices_.empty()) devices_.insert(0);
    out_.set_initial_device(0);
    out_.set_threads(static_cast<uint32_t>(threads_.size()));
    out_.set_calls(calls_);
  }

  const std::map<uint64_t, int64_t>& comm_sizes_;
  int64_t world_size_;
  const PlanOptions& options_;
  RankPlan& out_;
  std::map<uint64_t, Live> live_;
  std::map<uint64_t, uint64_t> need_;  // allocating call's seq -> bytes used
  Ranges regions_;
  std::set<int> devices_;
  std::set<uint32_t> device_set_;  // threads that chose a device
  bool uses_default_device_ = false;
  std::set<uint32_t> threads_;
  uint64_t calls_ = 0;
  uint64_t captured_ = 0;
  bool reduces_ = false, rooted_ = false;
  uint64_t first_comm_ = 0;
  int64_t last_time_ns_ = 0;
};

// How the recorded process ended, as far as its file tells. A process that died without a word
// (killed) either died right there (its peers then failed at once) or stalled until it was
// killed with the rest (its peers then waited): `peers_failed_after` tells them apart.
void SetEnd(const trace::RankFileReader& reader, bool peers_failed_after, RankPlan& out) {
  const trace::Footer* f = reader.footer();
  if (f && f->end_reason() == trace::END_EXIT) {
    out.set_end(END_EXIT);
    out.set_exit_status(f->exit_status());
  } else if (f && f->end_reason() == trace::END_SIGNAL) {
    out.set_end(END_SIGNAL);
    out.set_signal(f->signal());
  } else if (const auto& env = reader.header().env();
             f && env.count(trace::kImportFormatEnv) && !trace::ImportLacks(env, "completions")) {
    // An import of what a live process wrote about itself (a Flight Recorder dump): the
    // process was alive where its file ends, waiting on what never completed.
    out.set_end(END_IDLE);
  } else if (f && f->end_reason() != trace::END_SALVAGED) {
    out.set_end(END_EXIT);  // closed by a tool: nothing to imitate
  } else if (peers_failed_after) {
    out.set_end(END_SIGNAL);
    out.set_signal(9);
  } else {
    out.set_end(END_IDLE);
  }
}

}  // namespace

Status RequireEnded(const trace::Run& run) {
  const std::string running = analysis::StillRunning(run);
  if (running.empty()) return Status::Ok();
  return Status::Unavailable(running +
                             ": replay needs a recording whose job has ended; `ddrr check` "
                             "diagnoses it now, and once the job ends or is killed it can be "
                             "replayed");
}

StatusOr<WindowPoint> ParseWindowPoint(const std::string& text) {
  WindowPoint w;
  auto number = [](const std::string& s, int base, uint64_t* v) {
    if (s.empty() || s[0] == '-') return false;
    char* end = nullptr;
    *v = strtoull(s.c_str(), &end, base);
    return *end == '\0';
  };
  const std::string usage = "'" + text + "': expected step:N, op:N or op:KEY:N";
  uint64_t v = 0;
  if (text.rfind("step:", 0) == 0) {
    if (!number(text.substr(5), 10, &v)) return Status::InvalidArgument(usage);
    w.kind = WindowPoint::kStep;
    w.step = static_cast<int64_t>(v);
    return w;
  }
  if (text.rfind("op:", 0) != 0) return Status::InvalidArgument(usage);
  std::string rest = text.substr(3);
  const size_t colon = rest.find(':');
  if (colon != std::string::npos) {
    if (colon != 16 || !number(rest.substr(0, colon), 16, &w.comm_key) || w.comm_key == 0)
      return Status::InvalidArgument(usage + " (KEY: 16 hex digits, as `ddrr info` prints)");
    rest = rest.substr(colon + 1);
  }
  if (!number(rest, 10, &v) || v == 0) return Status::InvalidArgument(usage + ", N >= 1");
  w.kind = WindowPoint::kOp;
  w.op = v;
  return w;
}

StatusOr<PlannedReplay> BuildPlan(trace::Run& run, const analysis::RunModel& recording,
                                  const std::vector<analysis::Finding>& findings,
                                  const PlanOptions& options) {
  PlannedReplay out;
  ReplayPlan& plan = out.plan;
  plan.set_recording(run.path());
  plan.set_data(options.data);
  plan.set_pace_recorded(options.pace_recorded);
  plan.set_timeout_seconds(options.timeout_seconds);
  plan.set_work_dir(options.work_dir);
  plan.set_exact_reductions(options.exact_reductions);

  // Which ranks.
  std::set<int64_t> selected(options.ranks.begin(), options.ranks.end());
  const std::vector<uint32_t> missing = run.MissingRanks();
  if (selected.empty()) {
    if (!missing.empty()) {
      std::string present;
      for (const auto& e : run.ranks())
        if (e.reader) present += (present.empty() ? "" : ",") + std::to_string(e.rank);
      return Status::InvalidArgument(
          "rank " + std::to_string(missing.front()) + " of " + std::to_string(run.world_size()) +
          " has no readable rank file in " + run.path() + "; replay the others with --ranks " +
          (present.empty() ? "LIST" : present));
    }
    for (const auto& e : run.ranks()) selected.insert(e.rank);
  }
  for (int64_t r : selected) {
    const trace::RankEntry* e = run.FindRank(r);
    if (e == nullptr || !e->reader)
      return Status::InvalidArgument("rank " + std::to_string(r) +
                                     " has no readable rank file in " + run.path() +
                                     (e ? ": " + e->open_status.message() : ""));
  }
  bool everyone = missing.empty();
  for (const auto& e : run.ranks()) everyone &= selected.count(e.rank) > 0;

  // Communicators, from the ranks' scans.
  for (const analysis::RankScan& scan : recording.scans)
    if (const trace::RankEntry* e = run.FindRank(scan.rank); e && e->reader)
      if (!e->reader->header().run_id().empty()) plan.set_run_id(e->reader->header().run_id());
  const analysis::CommModel& model = *recording.comms;
  const std::vector<analysis::RankScan>& scans = recording.scans;
  std::map<uint64_t, int64_t> sizes;
  for (const auto& [key, c] : model.comms()) {
    PlanComm* pc = plan.add_comms();
    pc->set_key(key);
    pc->set_size(static_cast<int32_t>(c.size));
    pc->set_parent_key(c.parent_key);
    sizes[key] = c.size;
    if (c.size > 0) {
      pc->mutable_member_ranks()->Resize(static_cast<int>(c.size), -1);
      for (const analysis::Member& m : c.members)
        if (m.comm_rank >= 0 && m.comm_rank < c.size && pc->member_ranks(m.comm_rank) < 0)
          pc->set_member_ranks(static_cast<int>(m.comm_rank), m.rank);
    }
    std::string why;
    for (const analysis::Member& m : c.members)
      if (!selected.count(m.rank) && why.empty())
        why = "rank " + std::to_string(m.rank) + " is a member and is not replayed";
    // Replaying every rank, a member that never joined is absent from the replay too, as
    // recorded; replaying some, a member without a trace may be one of the others.
    if (why.empty() && !everyone) {
      if (c.size < 0) why = "its size is unknown";
      for (int i = 0; why.empty() && i < pc->member_ranks_size(); ++i)
        if (pc->member_ranks(i) < 0)
          why = "its comm rank " + std::to_string(i) + " is in no replayed rank's recording";
    }
    pc->set_replayed(why.empty());
    pc->set_skip_reason(why);
  }
  for (PlanComm& pc : *plan.mutable_comms()) {
    if (!pc.replayed() || !pc.parent_key()) continue;
    const PlanComm* parent = nullptr;
    for (const PlanComm& p : plan.comms())
      if (p.key() == pc.parent_key()) parent = &p;
    if (parent && parent->replayed()) continue;
    bool ranks_known = pc.size() > 0;
    for (int64_t r : pc.member_ranks()) ranks_known &= r >= 0;
    if (ranks_known) {
      pc.set_init_instead(true);
      out.notes.push_back("communicator " + trace::EventPrinter::KeyHex(pc.key()) +
                          " is created from a fresh id: its parent " +
                          trace::EventPrinter::KeyHex(pc.parent_key()) + " is not replayed");
    } else {
      pc.set_replayed(false);
      pc.set_skip_reason("its parent is not replayed and its members' ranks are unknown");
    }
  }
  for (const PlanComm& pc : plan.comms())
    if (!pc.replayed())
      out.notes.push_back("communicator " + trace::EventPrinter::KeyHex(pc.key()) +
                          " is left out: " + pc.skip_reason());

  // Each rank's own pass.
  std::map<int64_t, int64_t> last_unix;
  struct {
    bool buffers = false, redop = false, root = false;
  } made_up;
  std::map<int64_t, std::unique_ptr<RankPass>> passes;
  for (trace::RankEntry& e : run.ranks()) {
    if (!e.reader || !selected.count(e.rank)) continue;
    RankPlan* rp = plan.add_ranks();
    rp->set_rank(e.rank);
    rp->set_path(e.path);
    auto& pass = passes[e.rank];
    pass = std::make_unique<RankPass>(sizes, run.world_size(), options, *rp);
    pass->Run(*e.reader, out.damage);
    e.reader->ReleaseMemory();
    last_unix[e.rank] =
        static_cast<int64_t>(e.reader->header().start_unix_ns()) + pass->last_time_ns();
    // An import from a source that lacks pointers, reduction ops or roots (its header says
    // which): what the replay uses instead is said once for the run.
    const auto& env = e.reader->header().env();
    rp->set_placeholder_buffers(trace::ImportLacks(env, "pointers"));
    made_up.buffers |= rp->placeholder_buffers();
    made_up.redop |= pass->reduces() && trace::ImportLacks(env, "reduce-op");
    made_up.root |= pass->rooted() && trace::ImportLacks(env, "root");
  }
  if (made_up.buffers)
    out.notes.push_back(
        "the recording has no buffer pointers: each op runs on placeholder buffers of its size, "
        "and their data is dummy");
  if (made_up.redop)
    out.notes.push_back("the recording has no reduction ops: ncclSum is used for every reduction");
  if (made_up.root) out.notes.push_back("the recording has no roots: root 0 is used");
  // Devices: one replay device per device the recording used, in order of first use. Ranks
  // that shared a device when recorded (by design, or by mistake) share one in the replay.
  std::map<std::string, int> replay_devices;
  for (RankPlan& rp : *plan.mutable_ranks()) {
    const analysis::RankScan* scan = recording.Scan(rp.rank());
    for (int d : passes[rp.rank()]->device_set()) {
      const std::string id =
          scan ? analysis::DeviceIdentity(*scan, d)
               : "rank " + std::to_string(rp.rank()) + " device " + std::to_string(d);
      auto [it, fresh] = replay_devices.emplace(id, out.devices);
      if (fresh) ++out.devices;
      PlanDevice* pd = rp.add_devices();
      pd->set_recorded(d);
      pd->set_replay(it->second);
    }
    if (const uint64_t n = passes[rp.rank()]->captured())
      out.notes.push_back("rank " + std::to_string(rp.rank()) + ": " + std::to_string(n) +
                          " call(s) captured into CUDA graphs are not replayed (they ran at each "
                          "graph launch)");
    if (rp.from_seq() == std::numeric_limits<uint64_t>::max())
      out.notes.push_back("rank " + std::to_string(rp.rank()) +
                          " never reaches the window's start: only its setup is replayed");
  }
  // Ends. A peer's call that failed soon after this rank's last event (not one that waited for
  // it until its run gave up: that is a hang) says this rank died right there.
  for (RankPlan& rp : *plan.mutable_ranks()) {
    bool peers_failed_after = false;
    for (const analysis::RankScan& s : scans) {
      if (s.rank == rp.rank()) continue;
      const trace::RankEntry* pe = run.FindRank(s.rank);
      const double timeout =
          pe && pe->reader ? RunTimeout(pe->reader->header()) : kDefaultEmuTimeout;
      for (const auto& inc : s.nccl_errors)
        peers_failed_after |=
            inc.call.time_ns + static_cast<int64_t>(inc.call.duration_ns) >= last_unix[rp.rank()] &&
            !BlockedUntilTimeout(inc.call.duration_ns, timeout);
    }
    SetEnd(*run.FindRank(rp.rank())->reader, peers_failed_after, rp);
  }
  // Faulty operations: no data is right there, nor after on that communicator.
  std::map<uint64_t, uint64_t> unchecked;
  for (const analysis::Finding& f : findings) {
    if (f.severity != analysis::Severity::kError || !f.comm_key) continue;
    uint64_t op = f.op_seq ? f.op_seq : 1;
    for (const auto& side : f.calls)
      if (side.has_call && side.call.op_seq) op = std::min(op, side.call.op_seq);
    auto [it, fresh] = unchecked.emplace(f.comm_key, op);
    if (!fresh) it->second = std::min(it->second, op);
  }
  for (const auto& [key, op] : unchecked) {
    PlanOp* po = plan.add_unchecked_ops();
    po->set_comm_key(key);
    po->set_op_seq(op);
  }
  return out;
}

}  // namespace ddrr::replay
