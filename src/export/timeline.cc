#include "export/timeline.h"

#include <google/protobuf/arena.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <initializer_list>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <thread>
#include <unordered_map>

#include "analysis/check.h"
#include "analysis/op_record.h"
#include "common/mix.h"
#include "common/mutex.h"
#include "spec/api_table.h"
#include "spec/api_views.h"
#include "trace/event_printer.h"

namespace ddrr::timeline {
namespace {

using trace::EventPrinter;
using trace::FunctionId;

// A call's or op's arguments: a few, in place (no allocation, no capacity check per argument).
class ArgList {
 public:
  ArgList() {}  // the slots are left unset until used
  void push_back(const Arg& a) { new (&slots_.args[size_++]) Arg(a); }
  operator std::span<const Arg>() const { return {slots_.args, size_}; }

 private:
  union Slots {
    Slots() {}
    Arg args[12];  // the most a call has: seq, comm, op, result, count, datatype, redop, root, peer
  } slots_;
  size_t size_ = 0;
};

// Track uuids: the rank's number times 16 plus the track's number in the rank (0 for its
// process), plus 1, so they stay short on the wire (3 bytes for a thousand ranks); beyond 16
// tracks in a rank, the rank + 1 times 2^20 plus the number, with bit 62 set; beyond 2^20 tracks,
// a hash with the top bit set.
uint64_t Uuid(int64_t rank, uint64_t index) {
  if (rank >= 0 && rank < (int64_t{1} << 40) && index < 16)
    return ((static_cast<uint64_t>(rank) << 4) | index) + 1;
  if (rank >= 0 && rank < (int64_t{1} << 40) && index < (1u << 20))
    return ((static_cast<uint64_t>(rank) + 1) << 20 | index) | (1ull << 62);
  return Mix64(static_cast<uint64_t>(rank) ^ Mix64(index)) | (1ull << 63);
}

// Flow ids: the n-th collective of a communicator, the n-th message from one comm rank to
// another; the same on every rank, so the viewer links the ranks' slices.
uint64_t CollectiveFlow(uint64_t comm_key, uint64_t index) {
  return Mix64(comm_key ^ Mix64(index));
}
uint64_t P2pFlow(uint64_t comm_key, int64_t src, int64_t dst, uint64_t index) {
  return Mix64(comm_key ^ Mix64((static_cast<uint64_t>(src) << 42) ^
                                (static_cast<uint64_t>(dst) << 21) ^ index ^ (1ull << 63)));
}

// A collective or send/recv waiting for its completion. The strings it points to live as long
// as the rank's timeline (name and key caches).
struct PendingOp {
  uint64_t key = 0;  // the call_seq its completion names: its own, or its group's end
  uint64_t seq = 0;
  uint64_t issue = 0, api_end = 0;
  uint64_t stream = 0;
  const std::string* name = nullptr;
  const std::string* comm = nullptr;  // the key in hex; null: none
  uint64_t op_seq = 0;
  uint64_t flow = 0;  // 0: none
};

// The ops waiting for their completion, in the order of their keys (which rise: each is the seq of
// the call just read), in one vector used as a queue: no allocation per op.
class PendingOps {
 public:
  bool empty() const { return head_ == ops_.size(); }
  // How many completions are awaited (a group's ops await one).
  size_t calls() const { return calls_; }
  // The ops of the first key awaited.
  std::span<PendingOp> Front() {
    size_t end = head_ + 1;
    while (end < ops_.size() && ops_[end].key == ops_[head_].key) ++end;
    return {ops_.data() + head_, end - head_};
  }
  void PopFront(size_t n) {
    head_ += n;
    --calls_;
    if (head_ == ops_.size()) {
      ops_.clear();
      head_ = 0;
    } else if (head_ >= 4096 && head_ * 2 >= ops_.size()) {
      ops_.erase(ops_.begin(), ops_.begin() + static_cast<ptrdiff_t>(head_));
      head_ = 0;
    }
  }
  // Adds `ops`, all with the same key.
  void Push(std::span<PendingOp> ops) {
    if (ops.empty()) return;
    ++calls_;
    auto at = ops_.end();
    if (!empty() && ops_.back().key > ops.front().key)  // not expected: keys rise
      at = std::upper_bound(ops_.begin() + static_cast<ptrdiff_t>(head_), ops_.end(),
                            ops.front().key,
                            [](uint64_t key, const PendingOp& p) { return key < p.key; });
    ops_.insert(at, ops.begin(), ops.end());
  }
  void Clear() {
    ops_.clear();
    head_ = 0;
    calls_ = 0;
  }

 private:
  std::vector<PendingOp> ops_;
  size_t head_ = 0;
  size_t calls_ = 0;
};

struct StreamTrack {
  TrackInfo track;
  uint64_t last_end = 0;
};

struct CounterTrack {
  TrackInfo track;
  int64_t total = 0;
};

// Writes one rank: its tracks, its calls as they are read, its ops when they complete.
//
// Written while the run is modelled (`comm_ranks` null), a rank's timeline may need what only the
// whole run tells: its rank in a communicator it got from a split (for send/recv flows), or
// whether it recorded completions at all (assumed until its end). When it does, it gives up
// (abandoned()) and is written again after the model from a second read.
class RankTimeline {
 public:
  RankTimeline(TimelineSink& sink, TimelineStats& stats, int64_t rank, uint64_t base,
               const trace::RankFileReader& reader, const std::map<uint64_t, int64_t>* comm_ranks,
               bool completions, uint32_t sequence)
      : sink_(sink),
        stats_(stats),
        rank_(rank),
        pid_(static_cast<int32_t>(rank + 1)),
        base_(base),
        comm_ranks_(comm_ranks),
        completions_(completions) {
    const trace::Header& h = reader.header();
    live_ = reader.still_running();
    if (live_) {
      // Read while it runs: the calls it is inside last until now.
      const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
      if (now > static_cast<int64_t>(h.start_unix_ns()))
        read_at_ = base + (static_cast<uint64_t>(now) - h.start_unix_ns());
    }
    process_.uuid = Uuid(rank, 0);
    process_.kind = TrackKind::kProcess;
    process_.pid = pid_;
    process_.name = "rank " + std::to_string(rank) + " (" + h.host() + ", pid " +
                    std::to_string(h.pid()) + (live_ ? ", still running" : "") + ")";
    // Most events are calls of the rank's first thread: its track is the sequence's default.
    sink_.BeginSequence(sequence, Uuid(rank, kFirstThread));
    Declare(process_);
  }

  const TrackInfo& process() const { return process_; }
  uint64_t last_ts() const { return last_ts_; }
  bool abandoned() const { return abandoned_; }

  // Written while modelled: each event with the rank's scan so far.
  void Handle(const analysis::RankScan& so_far, const trace::Event& ev,
              const trace::EventPosition& pos) {
    if (abandoned_) return;
    scan_ = &so_far;
    Handle(ev, pos);
    // Ops held for completions the rank may never have recorded: not past a bound.
    if (!so_far.recorded_completions && pending_.calls() + group_ops_.size() > kUnconfirmedOps)
      abandoned_ = true;
  }
  // After the last event: whether the timeline holds (else abandoned()).
  void End(const analysis::RankScan& scan) {
    if (abandoned_) return;
    // Ops were held for completions the rank did not record (no completion event, and no
    // import source that tells which ops completed).
    if (held_ && !scan.recorded_completions) abandoned_ = true;
    // The comm ranks taken for flows are those the model gives.
    for (const auto& [handle, comm_rank] : local_ranks_)
      if (LocalCommRank(scan, handle, /*only=*/true) != comm_rank) abandoned_ = true;
    if (!abandoned_) Finish();
  }

  void Finish() {
    // Calls a thread had entered and not returned from: from their entry to the end of the
    // trace (to now, for a rank still running).
    for (const Entered& e : entered_) {
      const Names& names = NamesOf(e.fn, e.fn);
      ArgList args;
      args.push_back(IntArg("seq", static_cast<int64_t>(e.seq)));
      args.push_back(TextArg("returned", live_ ? "not yet (the rank is still running)"
                                               : "never (not before the trace ended)"));
      sink_.Slice(Thread(e.thread), e.ts, std::max({e.ts, last_ts_, read_at_}), names.library,
                  names.name, args, {});
      ++stats_.slices;
    }
    entered_.clear();
    // Ops still waiting for a completion when the trace ended: running (or stuck) until then.
    while (!pending_.empty()) {
      const std::span<PendingOp> ops = pending_.Front();
      Emit(ops, last_ts_, "none recorded before the trace ended");
      pending_.PopFront(ops.size());
    }
    Emit(group_ops_, last_ts_, "none recorded before the trace ended");
    group_ops_.clear();
  }

  void Read(trace::RankFileReader& reader) {
    // Events are parsed into an arena, cleared every few thousand events: no allocation and
    // free per event body.
    google::protobuf::Arena arena;
    trace::Event* event = google::protobuf::Arena::CreateMessage<trace::Event>(&arena);
    trace::EventPosition pos;
    for (uint32_t n = 1; reader.Next(event, &pos); ++n) {
      Handle(*event, pos);
      if (n % 4096 == 0) {
        arena.Reset();
        event = google::protobuf::Arena::CreateMessage<trace::Event>(&arena);
      }
    }
    Finish();
  }

  void Handle(const trace::Event& ev, const trace::EventPosition& pos) {
    const uint64_t ts = base_ + pos.time_ns;
    last_ts_ = std::max(last_ts_, ts);
    switch (ev.body_case()) {
      case trace::Event::kCall:
        OnCall(ev.call(), ev.thread(), pos.seq, ts);
        break;
      case trace::Event::kCompletion:
        OnCompletion(ev.completion().call_seq(), ts);
        break;
      case trace::Event::kMark: {
        const auto& m = ev.mark();
        Instant(process_, ts, "mark",
                m.label().empty() ? "step " + std::to_string(m.step())
                                  : m.label() + " " + std::to_string(m.step()),
                {TextArg("label", m.label()), IntArg("step", m.step())});
        break;
      }
      case trace::Event::kKernels: {
        const uint64_t stream = ev.kernels().stream();
        CounterTrack& c = Counter(kernels_, stream,
                                  [&] { return "kernel launches, stream " + StreamName(stream); });
        c.total += static_cast<int64_t>(ev.kernels().count());
        sink_.Counter(c.track, ts, c.total);
        ++stats_.counters;
        break;
      }
      case trace::Event::kThreadName:
        Thread(ev.thread(), ev.thread_name().name());
        break;
      case trace::Event::kEnter:  // after the rank's last event: written at its end
        entered_.push_back({ev.enter().fn(), ev.thread(), pos.seq, ts});
        break;
      case trace::Event::kNote:
        Instant(process_, ts, "recorder", "recorder note",
                {TextArg("text", ev.note().text()),
                 IntArg("dropped_events", static_cast<int64_t>(ev.note().dropped_events()))});
        break;
      default:
        break;
    }
  }

  void Instant(const TrackInfo& track, uint64_t ts, std::string_view category,
               std::string_view name, std::initializer_list<Arg> args) {
    sink_.Instant(track, ts, category, name, {args.begin(), args.size()});
    ++stats_.instants;
  }

 private:
  void Declare(const TrackInfo& t) {
    sink_.Track(t);
    ++stats_.tracks;
  }

  // Track numbers in a rank: 0 its process, 1 its first thread, then in order of appearance.
  static constexpr uint64_t kFirstThread = 1;
  // Ops held before the rank's first completion, at most (written while modelled).
  static constexpr size_t kUnconfirmedOps = 4096;

  // Sets up and declares a track of this rank's process.
  void Child(TrackInfo& t, TrackKind track_kind, std::string name, int32_t tid) {
    if (!t.uuid)  // a thread named later keeps its track
      t.uuid = Uuid(rank_, track_kind == TrackKind::kThread && threads_.size() == 1 ? kFirstThread
                                                                                    : ++tracks_);
    t.parent_uuid = process_.uuid;
    t.kind = track_kind;
    t.pid = pid_;
    t.tid = tid;
    t.name = std::move(name);
    Declare(t);
  }

  const TrackInfo& Thread(uint32_t thread, std::string_view name = {}) {
    auto [it, added] = threads_.try_emplace(thread);
    TrackInfo& t = it->second;
    if (added || !name.empty())
      Child(t, TrackKind::kThread,
            "thread " + std::to_string(thread) + (name.empty() ? "" : " " + std::string(name)),
            pid_ * 1000 + static_cast<int32_t>(thread % 500));
    return t;
  }

  std::string StreamName(uint64_t stream) {
    auto it = stream_numbers_.find(stream);
    if (it == stream_numbers_.end())
      it = stream_numbers_.emplace(stream, stream_numbers_.size() + 1).first;
    return std::to_string(it->second) + " (" + EventPrinter::Hex(stream) + ")";
  }

  StreamTrack& Stream(uint64_t stream) {
    auto [it, added] = streams_.try_emplace(stream);
    if (added)
      Child(it->second.track, TrackKind::kNamed, "stream " + StreamName(stream),
            pid_ * 1000 + 500 + static_cast<int32_t>(streams_.size() % 500));
    return it->second;
  }

  // The counter track of `key`, declared with the name `name()` gives the first time.
  template <typename Name>
  CounterTrack& Counter(std::map<uint64_t, CounterTrack>& tracks, uint64_t key, Name&& name) {
    auto [it, added] = tracks.try_emplace(key);
    if (added) Child(it->second.track, TrackKind::kCounter, name(), 0);
    return it->second;
  }

  void OnCall(const trace::ApiCall& c, uint32_t thread, uint64_t seq, uint64_t ts) {
    const uint32_t fn = static_cast<uint32_t>(trace::FunctionOfField(c.fn_case()));
    const Names& names = NamesOf(fn, c.fn_case());
    const std::string& name = names.name;
    const std::string* comm = c.comm_key() ? &KeyText(c.comm_key()) : nullptr;
    ArgList args;
    args.push_back(IntArg("seq", static_cast<int64_t>(seq)));
    if (comm) {
      args.push_back(TextArg("comm", *comm));
      if (c.op_seq()) args.push_back(IntArg("op", static_cast<int64_t>(c.op_seq())));
    }
    std::string result;
    if (c.result() != 0) {
      result = analysis::ResultName(static_cast<uint16_t>(fn), c.result());
      args.push_back(TextArg("result", result));
    }
    trace::OpView v;
    const bool op = trace::ViewOp(c, &v);
    if (op) {
      args.push_back(IntArg("count", static_cast<int64_t>(v.count)));
      if (v.datatype >= 0)
        args.push_back(TextArg("datatype", Cached(datatypes_, v.datatype, analysis::DatatypeName)));
      if (v.redop >= 0)
        args.push_back(TextArg("redop", Cached(redops_, v.redop, analysis::RedOpName)));
      if (v.root >= 0) args.push_back(IntArg("root", v.root));
      if (v.p2p()) args.push_back(IntArg("peer", v.peer));
    }
    const uint64_t end = ts + c.duration_ns();
    const TrackInfo& thread_track = Thread(thread);
    // Bytes passed to the communicator, at the call (before its slice: the native format writes
    // the value with the slice).
    const uint64_t bytes = op ? v.count * analysis::DatatypeBytes(v.datatype) : 0;
    if (bytes) {
      CounterTrack& t = Counter(comm_bytes_, c.comm_key(), [&] { return "bytes, comm " + *comm; });
      t.total += static_cast<int64_t>(bytes);
      sink_.Counter(t.track, ts, t.total);
      ++stats_.counters;
    }
    sink_.Slice(thread_track, ts, end, names.library, name, args, {});
    ++stats_.slices;

    if (fn == static_cast<uint32_t>(FunctionId::kNcclGroupStart)) ++group_depth_;
    if (fn == static_cast<uint32_t>(FunctionId::kNcclGroupEnd) && group_depth_ > 0 &&
        --group_depth_ == 0) {
      // The group's ops complete together: the completion names this call.
      if (completions_ && analysis::NcclOk(c.result())) {
        held_ |= !group_ops_.empty();
        for (PendingOp& p : group_ops_) p.key = seq;
        pending_.Push(group_ops_);
      } else
        Emit(group_ops_, end, "not tracked");
      group_ops_.clear();
    }
    if (!op) return;

    PendingOp p;
    p.key = seq;
    p.seq = seq;
    p.issue = ts;
    p.api_end = end;
    p.stream = v.stream;
    p.name = &name;
    p.comm = comm;
    p.op_seq = c.op_seq();
    p.flow = FlowOf(c, v);
    const bool tracked = completions_ && analysis::NcclOk(c.result()) && !c.graph_captured();
    held_ |= tracked;
    if (tracked && (group_depth_ > 0 || c.group_depth() > 0)) {
      group_ops_.push_back(std::move(p));
    } else if (tracked) {
      pending_.Push({&p, 1});
    } else {
      Emit({&p, 1}, end, c.graph_captured() ? "runs at each graph launch" : "not tracked");
    }
  }

  struct Names {
    std::string name;
    std::string_view library;  // static: the sink knows it by its address
  };
  // Function names and libraries, looked up once per function.
  const Names& NamesOf(uint32_t fn, uint32_t field) {
    Names& n = names_[fn];
    if (n.name.empty()) {
      const trace::FunctionInfo* info = trace::FindFunction(static_cast<FunctionId>(fn));
      n.name = info ? std::string(info->name) : "unknown#" + std::to_string(field);
      n.library = info ? info->library : "api";
    }
    return n;
  }
  const std::string& KeyText(uint64_t key) {
    auto it = keys_.find(key);
    if (it == keys_.end()) it = keys_.emplace(key, EventPrinter::KeyHex(key)).first;
    return it->second;
  }
  static const std::string& Cached(std::map<int, std::string>& cache, int value,
                                   std::string (*name)(int)) {
    auto it = cache.find(value);
    if (it == cache.end()) it = cache.emplace(value, name(value)).first;
    return it->second;
  }

  uint64_t FlowOf(const trace::ApiCall& c, const trace::OpView& v) {
    if (!c.comm_key()) return 0;
    if (!v.p2p()) return CollectiveFlow(c.comm_key(), ++collectives_[v.comm]);
    int64_t my_rank = -1;
    if (comm_ranks_) {
      auto me = comm_ranks_->find(v.comm);
      if (me == comm_ranks_->end()) return 0;
      my_rank = me->second;
    } else {
      my_rank = LocalCommRank(*scan_, v.comm, /*only=*/false);
      if (my_rank < 0) {
        abandoned_ = true;  // only the model can tell (a split's member)
        return 0;
      }
      local_ranks_.emplace(v.comm, my_rank);
    }
    const bool send = analysis::IsSend(static_cast<uint16_t>(v.fn));
    const int64_t src = send ? my_rank : v.peer;
    const int64_t dst = send ? v.peer : my_rank;
    return P2pFlow(c.comm_key(), src, dst, ++messages_[{v.comm, src, dst}]);
  }

  // This rank's rank in the communicator of `handle` as its own calls tell (what NCCL answered,
  // else what it asked for), as the model takes it; -1 when they do not. `only`: -1 too when the
  // handle names more than one communicator in the rank.
  static int64_t LocalCommRank(const analysis::RankScan& scan, uint64_t handle, bool only) {
    const analysis::MemberFacts* found = nullptr;
    for (auto m = scan.members.rbegin(); m != scan.members.rend(); ++m) {
      if (m->handle != handle) continue;
      if (found) return -1;
      found = &*m;
      if (!only) break;
    }
    if (!found || !found->comm_key || found->no_color()) return -1;
    return found->user_rank >= 0 ? found->user_rank : found->claimed_rank;
  }

  void OnCompletion(uint64_t call_seq, uint64_t ts) {
    // Completions are observed in issue order: an op issued before this one that has none by
    // now will never get one (the recorder tracks only calls that returned success).
    while (!pending_.empty() && pending_.Front().front().key < call_seq) {
      const std::span<PendingOp> ops = pending_.Front();
      Emit(ops, ops.front().api_end, "none recorded");
      pending_.PopFront(ops.size());
    }
    if (pending_.empty() || pending_.Front().front().key != call_seq) return;
    const std::span<PendingOp> ops = pending_.Front();
    Emit(ops, ts, "");
    pending_.PopFront(ops.size());
  }

  // The ops of one call (or one group) ended at `end`: one slice per stream, starting when the
  // stream could start them.
  void Emit(std::span<PendingOp> ops, uint64_t end, const std::string& completion) {
    if (ops.size() == 1) {  // the common case: no grouping to do
      one_.assign(1, &ops.front());
      EmitOnStream(ops.front().stream, one_, end, completion);
      return;
    }
    std::map<uint64_t, std::vector<PendingOp*>> by_stream;
    for (PendingOp& p : ops) by_stream[p.stream].push_back(&p);
    for (auto& [stream, list] : by_stream) EmitOnStream(stream, list, end, completion);
  }

  void EmitOnStream(uint64_t stream, const std::vector<PendingOp*>& list, uint64_t end,
                    const std::string& completion) {
    StreamTrack& s = Stream(stream);
    uint64_t issue = list.front()->issue;
    for (const PendingOp* p : list) issue = std::min(issue, p->issue);
    const uint64_t begin = std::max(issue, s.last_end);
    const uint64_t finish = std::max(end, begin);
    std::vector<uint64_t>& flows = flows_;
    flows.clear();
    for (const PendingOp* p : list)
      if (p->flow) flows.push_back(p->flow);
    // The stream's slice names the call(s); the arguments are on the calls' own slices.
    ArgList args;
    std::string_view name;
    std::string calls, group;
    if (list.size() == 1) {
      const PendingOp& p = *list.front();
      name = *p.name;
      args.push_back(IntArg("seq", static_cast<int64_t>(p.seq)));
      if (p.comm) args.push_back(TextArg("comm", *p.comm));
      if (p.op_seq) args.push_back(IntArg("op", static_cast<int64_t>(p.op_seq)));
    } else {
      std::string names;
      for (const PendingOp* p : list) {
        calls += (calls.empty() ? "" : ", ") + *p->name + " #" + std::to_string(p->seq);
        if (names.find(*p->name) == std::string::npos)
          names += (names.empty() ? "" : ", ") + *p->name;
      }
      group = "group: " + names + " (" + std::to_string(list.size()) + " ops)";
      name = group;
      args.push_back(TextArg("calls", calls));
    }
    args.push_back(IntArg("issued_ns", static_cast<int64_t>(issue)));
    if (!completion.empty()) args.push_back(TextArg("completion", completion));
    sink_.Slice(s.track, begin, finish, "stream", name, args, flows);
    ++stats_.slices;
    if (!flows.empty()) ++stats_.flow_slices;
    s.last_end = finish;
  }

  struct Entered {
    uint32_t fn, thread;
    uint64_t seq, ts;
  };

  TimelineSink& sink_;
  TimelineStats& stats_;
  bool live_ = false;     // a snapshot of a rank still running
  uint64_t read_at_ = 0;  // live: when it was read, on the timeline
  std::vector<Entered> entered_;
  int64_t rank_;
  int32_t pid_;
  uint64_t base_;
  const std::map<uint64_t, int64_t>* comm_ranks_;  // null: written while modelled
  bool completions_;
  const analysis::RankScan* scan_ = nullptr;  // while modelled: the scan so far
  std::map<uint64_t, int64_t> local_ranks_;   // while modelled: comm ranks taken, by handle
  bool held_ = false;                         // ops were held for their completion
  bool abandoned_ = false;
  TrackInfo process_;
  uint64_t tracks_ = kFirstThread;  // the last track number given
  uint64_t last_ts_ = 0;
  int group_depth_ = 0;
  std::map<uint32_t, TrackInfo> threads_;
  std::map<uint64_t, StreamTrack> streams_;
  std::map<uint64_t, uint64_t> stream_numbers_;
  std::map<uint64_t, CounterTrack> kernels_, comm_bytes_;
  std::map<uint64_t, uint64_t> collectives_;  // by comm handle
  std::map<std::tuple<uint64_t, int64_t, int64_t>, uint64_t> messages_;
  PendingOps pending_;
  std::vector<PendingOp> group_ops_;
  std::unordered_map<uint32_t, Names> names_;  // node-based: PendingOp points into it
  std::vector<uint64_t> flows_;
  std::vector<PendingOp*> one_;
  std::map<uint64_t, std::string> keys_;
  std::map<int, std::string> datatypes_, redops_;
};

// One rank to write, and what writing it found.
struct RankJob {
  trace::RankFileReader* reader = nullptr;
  int64_t rank = 0;
  uint64_t base = 0;
  bool completions = false;
  const std::map<uint64_t, int64_t>* comm_ranks = nullptr;
  uint32_t sequence = 0;
  // Results.
  bool written = false;
  TimelineStats stats;
  TrackInfo process;
  uint64_t last_ts = 0;
};

void WriteRank(RankJob& j, TimelineSink& sink) {
  static const std::map<uint64_t, int64_t> kNoComms;
  RankTimeline t(sink, j.stats, j.rank, j.base, *j.reader, j.comm_ranks ? j.comm_ranks : &kNoComms,
                 j.completions, j.sequence);
  j.reader->Rewind();
  t.Read(*j.reader);
  j.reader->ReleaseMemory();
  j.process = t.process();
  j.last_ts = t.last_ts();
  j.written = true;
}

// Ranks written in parallel: each worker takes the next rank and writes it into a part of the
// sink; the parts go out in rank order. A part keeps its bytes while earlier ranks are still
// being written, up to kPartBytes; then its worker waits for its turn. Memory: `workers` ranks
// in flight, each with at most kPartBytes of output.
constexpr unsigned kMaxWorkers = 4;
constexpr size_t kPartBytes = 64 << 20;

// Which job's bytes go out now; jobs take their turns in order.
class Turn {
 public:
  void WaitFor(size_t job) {
    MutexLock lock(&mu_);
    while (turn_ != job) changed_.Wait(&mu_);
  }
  void Pass() {
    MutexLock lock(&mu_);
    ++turn_;
    changed_.SignalAll();
  }

 private:
  Mutex mu_;
  CondVar changed_;
  size_t turn_ GUARDED_BY(mu_) = 0;
};

void WriteInParallel(std::vector<RankJob*>& jobs, TimelineSink& sink, unsigned workers) {
  Turn turn;
  std::atomic<size_t> next{0};
  auto work = [&] {
    // One part per worker, reused rank after rank (as are its buffers).
    size_t i = 0;
    std::string held;
    bool due = false;  // once its turn has come, a rank's bytes go straight out
    std::unique_ptr<TimelineSink> part = sink.Part([&](std::string_view bytes) {
      if (!due && held.size() + bytes.size() <= kPartBytes) {
        held.append(bytes);
        return;
      }
      if (!due) turn.WaitFor(i);
      due = true;
      sink.WriteRaw(held);
      held.clear();
      sink.WriteRaw(bytes);
    });
    while ((i = next.fetch_add(1)) < jobs.size()) {
      held.clear();
      due = false;
      WriteRank(*jobs[i], *part);
      part->Finish();
      if (!due) turn.WaitFor(i);
      sink.WriteRaw(held);
      turn.Pass();
    }
  };
  std::vector<std::thread> threads;
  for (unsigned w = 1; w < workers; ++w) threads.emplace_back(work);
  work();
  for (std::thread& t : threads) t.join();
}

// Reads and writes `jobs`, in parallel when there are cores to spare and the format can be
// written in parts.
void WriteRanks(std::vector<RankJob*>& jobs, TimelineSink& sink) {
  const unsigned workers = std::min<unsigned>(kMaxWorkers, std::thread::hardware_concurrency());
  if (workers > 1 && jobs.size() > 1 && sink.Part([](std::string_view) {}))
    WriteInParallel(jobs, sink, workers);
  else
    for (RankJob* j : jobs) WriteRank(*j, sink);
}

// The earliest rank start: the timeline's 0.
StatusOr<uint64_t> Origin(trace::Run& run) {
  uint64_t origin = UINT64_MAX;
  for (const auto& e : run.ranks())
    if (e.reader) origin = std::min<uint64_t>(origin, e.reader->header().start_unix_ns());
  if (origin == UINT64_MAX)
    return Status::InvalidArgument("no readable rank file in " + run.path());
  return origin;
}

// Each rank's communicator handles and its rank in them (for send/recv flows).
std::map<int64_t, std::map<uint64_t, int64_t>> CommRanks(const analysis::RunModel& model) {
  std::map<int64_t, std::map<uint64_t, int64_t>> comm_ranks;
  for (const auto& [key, comm] : model.comms->comms())
    for (const analysis::Member& m : comm.members)
      if (m.facts && m.comm_rank >= 0) comm_ranks[m.rank][m.facts->handle] = m.comm_rank;
  return comm_ranks;
}

// The job for the rank `reader` reads, the `index`-th readable rank of the run.
RankJob JobFor(trace::RankFileReader& reader, size_t index, uint64_t origin) {
  RankJob j;
  j.reader = &reader;
  j.rank = reader.header().rank();
  j.base = reader.header().start_unix_ns() - origin;
  j.sequence = static_cast<uint32_t>(index + 1);  // each rank a packet sequence of its own
  return j;
}

// What the model tells a rank's timeline: whether it recorded completions, its comm ranks.
void CompleteJob(RankJob& j, const analysis::RunModel& model,
                 const std::map<int64_t, std::map<uint64_t, int64_t>>& comm_ranks) {
  const analysis::RankScan* scan = model.Scan(j.rank);
  j.completions = scan && scan->recorded_completions;
  if (auto it = comm_ranks.find(j.rank); it != comm_ranks.end()) j.comm_ranks = &it->second;
}

// The findings, a packet sequence after the ranks', and the end of the output.
StatusOr<TimelineStats> Conclude(const std::vector<RankJob>& jobs, uint64_t origin,
                                 const std::vector<analysis::Finding>& findings,
                                 TimelineSink& sink) {
  TimelineStats stats;
  std::map<int64_t, const RankJob*> placed;
  for (const RankJob& j : jobs) {
    placed[j.rank] = &j;
    stats.ranks += 1;
    stats.tracks += j.stats.tracks;
    stats.slices += j.stats.slices;
    stats.flow_slices += j.stats.flow_slices;
    stats.instants += j.stats.instants;
    stats.counters += j.stats.counters;
  }
  sink.BeginSequence(static_cast<uint32_t>(jobs.size() + 1));
  for (const analysis::Finding& f : findings) {
    for (int64_t rank : f.ranks) {
      auto p = placed.find(rank);
      if (p == placed.end()) continue;
      int64_t when = f.time_ns;
      for (const analysis::RankCall& c : f.calls)
        if (c.rank == rank && c.has_call && c.call.time_ns) when = c.call.time_ns;
      const uint64_t ts = when > 0 && static_cast<uint64_t>(when) >= origin
                              ? static_cast<uint64_t>(when) - origin
                              : p->second->last_ts;
      std::string evidence;
      for (const std::string& line : f.evidence) evidence += (evidence.empty() ? "" : "\n") + line;
      std::vector<Arg> args = {TextArg("severity", analysis::SeverityName(f.severity)),
                               TextArg("message", f.message)};
      const std::string comm = f.comm_key ? EventPrinter::KeyHex(f.comm_key) : "";
      if (f.comm_key) args.push_back(TextArg("comm", comm));
      if (f.op_seq) args.push_back(IntArg("op", static_cast<int64_t>(f.op_seq)));
      if (!evidence.empty()) args.push_back(TextArg("evidence", evidence));
      sink.Instant(p->second->process, ts, "check",
                   std::string("check: ") + analysis::KindName(f.kind), args);
      ++stats.instants;
    }
  }
  if (!sink.Finish()) return Status::IoError("writing the timeline failed");
  stats.bytes = sink.bytes();
  return stats;
}

// Writes each rank's timeline as the model's scan reads it; a rank that turns out to need the
// whole model is taken back out of the output and left for after it.
class WhileModelling : public analysis::ScanObserver {
 public:
  WhileModelling(TimelineSink& sink, uint64_t origin) : sink_(sink), origin_(origin) {}

  void BeginRank(trace::RankFileReader& reader) override {
    jobs_.push_back(JobFor(reader, jobs_.size(), origin_));
    RankJob& j = jobs_.back();
    mark_ = sink_.Mark();
    timeline_.emplace(sink_, j.stats, j.rank, j.base, reader, nullptr,
                      /*completions=*/true, j.sequence);
  }
  void OnEvent(const analysis::RankScan& so_far, const trace::Event& event,
               const trace::EventPosition& pos) override {
    if (!timeline_ || timeline_->abandoned()) return;
    timeline_->Handle(so_far, event, pos);
    if (timeline_->abandoned()) TakeBack();
  }
  void EndRank(const analysis::RankScan& scan) override {
    if (!timeline_) return;
    if (!timeline_->abandoned()) {
      timeline_->End(scan);
      if (timeline_->abandoned()) TakeBack();
    }
    RankJob& j = jobs_.back();
    j.written = !timeline_->abandoned();
    j.process = timeline_->process();
    j.last_ts = timeline_->last_ts();
    timeline_.reset();
  }

  std::vector<RankJob>& jobs() { return jobs_; }
  bool failed() const { return failed_; }

 private:
  void TakeBack() {
    if (!sink_.Rewind(mark_)) failed_ = true;
    jobs_.back().stats = {};
  }

  TimelineSink& sink_;
  uint64_t origin_;
  std::vector<RankJob> jobs_;
  std::optional<RankTimeline> timeline_;
  uint64_t mark_ = 0;
  bool failed_ = false;
};

}  // namespace

StatusOr<TimelineStats> WriteTimeline(trace::Run& run, const analysis::RunModel& model,
                                      const std::vector<analysis::Finding>& findings,
                                      TimelineSink& sink) {
  DDRR_ASSIGN_OR_RETURN(uint64_t origin, Origin(run));
  const auto comm_ranks = CommRanks(model);
  std::vector<RankJob> jobs;  // the ranks in file order
  for (auto& e : run.ranks())
    if (e.reader) jobs.push_back(JobFor(*e.reader, jobs.size(), origin));
  std::vector<RankJob*> todo;
  for (RankJob& j : jobs) {
    CompleteJob(j, model, comm_ranks);
    todo.push_back(&j);
  }
  WriteRanks(todo, sink);
  return Conclude(jobs, origin, findings, sink);
}

namespace {

// Writes while modelling (one read of the run, and a second of the ranks that need the model)
// where the sink can take a rank back, else models first and writes after. `sink_failed`: the
// error is the output's.
StatusOr<TimelineStats> ModelAndWrite(trace::Run& run, TimelineSink& sink,
                                      const std::string& temp_dir, bool* sink_failed) {
  *sink_failed = false;
  DDRR_ASSIGN_OR_RETURN(uint64_t origin, Origin(run));
  WhileModelling writer(sink, origin);
  DDRR_ASSIGN_OR_RETURN(std::unique_ptr<analysis::RunModel> model,
                        analysis::ModelRun(run, temp_dir, /*calls_in_flight=*/true,
                                           sink.CanRewind() ? &writer : nullptr));
  analysis::CheckOptions options;
  options.temp_dir = temp_dir;
  DDRR_ASSIGN_OR_RETURN(analysis::CheckResult checked, analysis::CheckModel(*model, options));
  StatusOr<TimelineStats> stats = Status::Ok();
  if (!sink.CanRewind()) {
    stats = WriteTimeline(run, *model, checked.findings, sink);
  } else if (writer.failed()) {
    stats = Status::IoError("writing the timeline failed");
  } else {
    const auto comm_ranks = CommRanks(*model);
    std::vector<RankJob*> todo;
    for (RankJob& j : writer.jobs()) {
      if (j.written) continue;
      CompleteJob(j, *model, comm_ranks);
      todo.push_back(&j);
    }
    WriteRanks(todo, sink);
    stats = Conclude(writer.jobs(), origin, checked.findings, sink);
  }
  *sink_failed = !stats.ok();
  return stats;
}

}  // namespace

StatusOr<TimelineStats> ExportTimeline(trace::Run& run, Format format, const std::string& out_path,
                                       const std::string& temp_dir) {
  // A file appears whole or not at all: written beside its name, renamed when done. Anything
  // else (a pipe, a device) is written as it is.
  struct stat st;
  const bool in_place = stat(out_path.c_str(), &st) == 0 && !S_ISREG(st.st_mode);
  const std::string path = in_place ? out_path : PartialPath(out_path);
  std::FILE* out = std::fopen(path.c_str(), "wb");
  if (!out)
    return Status::IoError("cannot write " + out_path + ": " + std::strerror(errno) +
                           "; give -o a path in a writable directory");
  std::vector<char> buffer(1 << 20);
  setvbuf(out, buffer.data(), _IOFBF, buffer.size());
  std::unique_ptr<TimelineSink> sink =
      format == Format::kJson ? MakeJsonSink(out) : MakePerfettoSink(out);
  bool sink_failed = false;
  auto stats = ModelAndWrite(run, *sink, temp_dir, &sink_failed);
  sink.reset();  // its writes are done
  int write_errno = std::fclose(out) == 0 ? 0 : errno;
  if (stats.ok() && !write_errno && !in_place && std::rename(path.c_str(), out_path.c_str()) != 0)
    write_errno = errno;
  if (!in_place && (!stats.ok() || write_errno)) std::remove(path.c_str());
  if (!stats.ok() && !sink_failed) return stats.status();  // the run could not be modelled
  if (!stats.ok())
    return Status::IoError("cannot write " + out_path + ": " + stats.status().message() +
                           "; check the free space there");
  if (write_errno)
    return Status::IoError("cannot write " + out_path + ": " + std::strerror(write_errno) +
                           "; check the free space there");
  return stats;
}

std::string PartialPath(const std::string& out_path) { return out_path + ".partial"; }

bool ParseFormat(const std::string& name, Format* format) {
  if (name == "perfetto") {
    *format = Format::kPerfetto;
    return true;
  }
  if (name == "json") {
    *format = Format::kJson;
    return true;
  }
  return false;
}

}  // namespace ddrr::timeline
