#include "analysis/rank_scan.h"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <limits>
#include <unordered_map>

#include "common/fnv1a.h"
#include "common/hex.h"
#include "spec/api_table.h"
#include "trace/import_source.h"

namespace ddrr::analysis {
namespace {

using trace::ApiCall;
using trace::FunctionId;

// Digests follow their call closely (the recorder writes them right after the collective); a
// rank keeps its last kWindow ops open for them before they go to the store.
constexpr size_t kWindow = 1024;
// Completions arrive in issue order, give or take threads racing between recording a call and
// tracking it. An op still waiting after this many later ops were tracked never completed.
constexpr size_t kMaxPendingCompletions = 65536;
constexpr int64_t kCudaErrorNotReady = 600;  // cudaStreamQuery / cudaEventQuery: "not yet"

constexpr uint16_t Id(FunctionId f) { return static_cast<uint16_t>(f); }

uint32_t Saturate(uint64_t v) {
  return static_cast<uint32_t>(std::min<uint64_t>(v, std::numeric_limits<uint32_t>::max()));
}

}  // namespace

const RankScan* FindScan(const std::vector<RankScan>& scans, int64_t rank) {
  for (const RankScan& s : scans)
    if (s.rank == rank) return &s;
  return nullptr;
}

std::string SecondsText(int64_t ns) {
  char buf[32];
  snprintf(buf, sizeof(buf), "%.1f s", std::max<int64_t>(ns, 0) * 1e-9);
  return buf;
}

std::string SinceLastEvent(const trace::Header& header, const trace::Footer& footer) {
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  return SecondsText(now - static_cast<int64_t>(header.start_unix_ns() + footer.end_time_ns()));
}

namespace {

std::string EndedText(const trace::RankFileReader& r) {
  const trace::Footer* f = r.footer();
  if (!f) return "trace has no footer (rank killed, still running, or file truncated)";
  switch (f->end_reason()) {
    case trace::END_LIVE:
      return "still running (pid " + std::to_string(r.header().pid()) + "), last event " +
             SinceLastEvent(r.header(), *f) + " ago";
    case trace::END_SALVAGED:
      return "trace salvaged from the spool of a process that died";
    case trace::END_SIGNAL:
      return "rank died of signal " + std::to_string(f->signal());
    case trace::END_EXIT:
      return f->exit_status() ? "rank exited with status " + std::to_string(f->exit_status()) : "";
    default:
      return "";
  }
}

// How a rank's life ended, as the end of a wait: "for 5.0 s until killed".
std::string UntilText(const trace::RankFileReader& r) {
  const trace::Footer* f = r.footer();
  if (!f) return "";
  switch (f->end_reason()) {
    case trace::END_SALVAGED:
      return "until killed";
    case trace::END_SIGNAL:
      return "until signal " + std::to_string(f->signal());
    case trace::END_LIVE:
      return "";
    default:
      return "until the end";
  }
}

// Which physical device each ordinal of this process is, as far as the header tells.
std::map<int64_t, std::string> DeviceIds(const trace::Header& h) {
  std::map<int64_t, std::string> ids;
  for (const auto& d : h.devices()) {
    if (!d.uuid().empty())
      ids[d.ordinal()] = "uuid " + HexBytes(d.uuid());
    else if (!d.pci_bus_id().empty())
      ids[d.ordinal()] = "pci " + d.pci_bus_id();
  }
  if (!ids.empty()) return ids;
  // Without device records, CUDA_VISIBLE_DEVICES says which device ordinal k is.
  auto it = h.env().find("CUDA_VISIBLE_DEVICES");
  if (it == h.env().end() || it->second.empty()) return ids;
  int64_t k = 0;
  size_t start = 0;
  const std::string& v = it->second;
  while (start <= v.size()) {
    const size_t comma = v.find(',', start);
    const std::string tok = v.substr(start, comma == std::string::npos ? v.npos : comma - start);
    if (!tok.empty()) ids[k++] = "visible " + tok;
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return ids;
}

class Scanner {
 public:
  void set_calls_in_flight(bool on) { calls_in_flight_ = on; }
  void set_observer(ScanObserver* observer) { observer_ = observer; }
  Scanner(trace::RankFileReader& reader, OpStore& store, RankScan& out)
      : reader_(reader), store_(store), s_(out) {}

  Status Run() {
    const trace::Header& h = reader_.header();
    s_.rank = h.rank();
    s_.file = reader_.name();
    s_.host = h.host();
    s_.local_rank = h.local_rank();
    s_.start_unix_ns = static_cast<int64_t>(h.start_unix_ns());
    s_.device_ids = DeviceIds(h);
    for (const auto& [name, value] : h.env())
      if (name.size() == 15 + 16 && name.starts_with("DDRR_COMM_NAME_"))
        s_.comm_names[strtoull(name.c_str() + 15, nullptr, 16)] = value;
    // An import whose source tells which ops completed (a Flight Recorder dump, a watchdog
    // message) lists no "completions" among what it lacks: an op without a completion event
    // did not complete, even in a file that has none.
    if (h.env().count(trace::kImportFormatEnv) && !trace::ImportLacks(h.env(), "completions"))
      s_.recorded_completions = true;
    reader_.Rewind();
    trace::Event ev;
    trace::EventPosition pos;
    while (reader_.Next(&ev, &pos)) {
      if (s_.events++ == 0) {
        s_.first_seq = pos.seq;
        s_.first_time_ns = pos.time_ns;
      }
      s_.last_seq = pos.seq;
      s_.last_time_ns = std::max(s_.last_time_ns, pos.time_ns);
      if (ev.has_mark()) {
        if (s_.first_step < 0) s_.first_step = ev.mark().step();
        s_.last_step = ev.mark().step();
      }
      if (ev.has_call()) {
        ++s_.calls;
        if (ev.call().result() != 0) ++s_.failed_calls;
      }
      const int64_t t = s_.start_unix_ns + static_cast<int64_t>(pos.time_ns);
      switch (ev.body_case()) {
        case trace::Event::kCall:
          DDRR_RETURN_IF_ERROR(OnCall(ev.call(), ev.thread(), pos.seq, t));
          break;
        case trace::Event::kCompletion:
          OnCompletion(ev.completion(), t);
          break;
        case trace::Event::kDigest:
          OnDigest(ev.digest());
          break;
        case trace::Event::kEnter:
          if (calls_in_flight_) OnEnter(ev.enter(), pos.seq, t);
          break;
        default:
          break;
      }
      if (observer_) observer_->OnEvent(s_, ev, pos);
    }
    while (!window_.empty()) DDRR_RETURN_IF_ERROR(Retire());
    if (s_.recorded_completions)
      while (!pending_.empty()) PopPending();
    for (const MemberFacts& m : s_.members) {
      DDRR_RETURN_IF_ERROR(store_.Flush(m.coll_stream));
      DDRR_RETURN_IF_ERROR(store_.Flush(m.p2p_stream));
    }
    s_.has_footer = reader_.footer() != nullptr;
    s_.live = reader_.still_running();
    if (s_.live) s_.not_completed.clear();  // still running: its ops may yet complete
    if (struct stat st; s_.live && stat(reader_.name().c_str(), &st) == 0)  // written when read
      s_.read_unix_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    if (s_.has_footer && reader_.footer()->end_time_ns())
      s_.end_unix_ns = s_.start_unix_ns + static_cast<int64_t>(reader_.footer()->end_time_ns());
    s_.ended = EndedText(reader_);
    s_.until = UntilText(reader_);
    if (s_.has_footer) s_.end_reason = reader_.footer()->end_reason();
    s_.problems = reader_.problems().size();
    return Status::Ok();
  }

 private:
  struct WindowEntry {
    OpRecord rec;
    int32_t member;
  };
  struct PendingCompletion {
    uint64_t seq;  // the tracked call: the op, or the ncclGroupEnd of a group
    int32_t member;
    uint32_t group_ops;  // 0: a single op
    OpRecord rec;        // the op (a group's first op)
    bool done = false;
  };

  int32_t NewMember(uint64_t key, uint64_t handle) {
    MemberFacts m;
    m.comm_key = key;
    m.handle = handle;
    m.coll_stream = store_.NewStream();
    m.p2p_stream = store_.NewStream();
    s_.members.push_back(std::move(m));
    const auto idx = static_cast<int32_t>(s_.members.size() - 1);
    if (handle) by_handle_[handle] = idx;
    cached_handle_ = 0;
    return idx;
  }

  // A call the rank had not returned from when it was last read.
  void OnEnter(const trace::CallEnter& e, uint64_t seq, int64_t t) {
    const auto* info = trace::FindFunction(static_cast<trace::FunctionId>(e.fn()));
    if (!info) return;
    if (info->category == "comm_create") {
      RankScan::SetupWait w;
      w.fn = static_cast<uint16_t>(e.fn());
      w.detail = e.detail();
      w.since = t;
      if (auto it = by_handle_.find(e.comm_handle()); e.comm_handle() && it != by_handle_.end())
        w.parent_key = s_.members[it->second].comm_key;
      s_.setup_waits.push_back(w);
      return;
    }
    auto it = e.comm_handle() ? by_handle_.find(e.comm_handle()) : by_handle_.end();
    if (it == by_handle_.end()) {
      s_.blocked.push_back({static_cast<uint16_t>(e.fn()), t});
      return;
    }
    MemberFacts& m = s_.members[it->second];
    m.in_flight_fn = static_cast<uint16_t>(e.fn());
    m.in_flight_since = t;
    m.in_flight_seq = seq;
    if (info->category == "collective" && e.detail() > 0) m.in_flight_count = e.detail();
    if (info->category == "p2p" && e.detail() > 0) m.in_flight_peer = e.detail() - 1;
    if (info->category == "collective") {
      ++m.collectives;
      ++m.last_op;
    }
  }

  // The member a call on `handle` acts on. A handle is reused after ncclCommDestroy, so a key
  // that differs from the registered one means a communicator created out of our sight.
  int32_t MemberFor(uint64_t handle, uint64_t key) {
    if (handle && handle == cached_handle_ && s_.members[cached_member_].comm_key == key)
      return cached_member_;
    auto it = handle ? by_handle_.find(handle) : by_handle_.end();
    int32_t idx;
    if (it != by_handle_.end() && s_.members[it->second].comm_key == key) {
      idx = it->second;
    } else {
      idx = MemberByKey(key);
      if (idx < 0) idx = NewMember(key, handle);
    }
    if (handle) {
      cached_handle_ = handle;
      cached_member_ = idx;
    }
    return idx;
  }

  int32_t MemberByKey(uint64_t key) const {
    for (size_t i = 0; i < s_.members.size(); ++i)
      if (s_.members[i].comm_key == key) return static_cast<int32_t>(i);
    return -1;
  }

  int64_t ThreadDevice(uint32_t thread) const {
    auto it = thread_device_.find(thread);
    return it == thread_device_.end() ? 0 : it->second;  // CUDA's default device is 0
  }

  Status OnCall(const ApiCall& c, uint32_t thread, uint64_t seq, int64_t t) {
    OpRecord rec;
    uint64_t handle = 0;
    if (ExtractOp(c, seq, t, &rec, &handle)) {
      if (c.comm_key() == 0) {  // no communicator (NULL comm): only the error matters
        if (!NcclOk(c.result())) AddNcclError(Summarize(c, s_.rank, seq, t), -1);
        return Status::Ok();
      }
      const int32_t member = MemberFor(handle, c.comm_key());
      if (!NcclOk(rec.result)) AddNcclError(Summarize(c, s_.rank, seq, t), member);
      return OnOp(rec, member);
    }
    OnOtherCall(c, thread, seq, t);
    return Status::Ok();
  }

  Status OnOp(const OpRecord& rec, int32_t member) {
    MemberFacts& m = s_.members[member];
    if (rec.op_seq > m.last_op + 1) {
      m.lost_ops += rec.op_seq - m.last_op - 1;
      if (m.first_gap < 0) m.first_gap = static_cast<int64_t>(m.collectives);
    }
    if (rec.op_seq >= m.last_op) {
      m.last_op = rec.op_seq;
      m.last_record = rec;
    }
    if (IsP2p(rec.fn))
      ++m.p2p;
    else
      ++m.collectives;
    if (NcclOk(rec.result) && !(rec.flags & kOpGraphCaptured)) {
      if (rec.flags & kOpInGroup) {
        if (group_ops_++ == 0) {
          group_member_ = member;
          group_first_ = rec;
        }
      } else {
        Track({rec.seq, member, 0, rec});
      }
    }
    window_.push_back({rec, member});
    if (window_.size() > kWindow) return Retire();
    return Status::Ok();
  }

  // The oldest op leaves the window: its digests are final.
  Status Retire() {
    const WindowEntry e = window_.front();
    window_.pop_front();
    const OpRecord& r = e.rec;
    if (!s_.fed_nonfinite && !received_nonfinite_ && (r.in_nan || r.in_inf)) {
      s_.fed_nonfinite = true;
      s_.fed_member = e.member;
      s_.fed_record = r;
    }
    if (r.flags & kOpOutNonFinite) received_nonfinite_ = true;
    const MemberFacts& m = s_.members[e.member];
    return store_.Append(IsP2p(r.fn) ? m.p2p_stream : m.coll_stream, r);
  }

  void OnDigest(const trace::Digest& d) {
    for (auto it = window_.rbegin(); it != window_.rend(); ++it) {
      OpRecord& r = it->rec;
      if (r.seq > d.call_seq()) continue;
      if (r.seq < d.call_seq()) break;
      if (d.role() == trace::BUFFER_INPUT) {
        r.in_digest = d.value();
        r.in_nan = Saturate(d.nan_count());
        r.in_inf = Saturate(d.inf_count());
        r.flags |= kOpHasIn;
      } else {
        r.out_digest = d.value();
        r.flags |= kOpHasOut;
        if (d.nan_count() || d.inf_count()) r.flags |= kOpOutNonFinite;
      }
      return;
    }
    if (!window_.empty() && d.call_seq() < window_.front().rec.seq) ++s_.late_digests;
  }

  void Track(const PendingCompletion& p) {
    // Kept in seq order (threads may record out of order) so completions find theirs quickly.
    auto at = pending_.end();
    while (at != pending_.begin() && std::prev(at)->seq > p.seq) --at;
    pending_.insert(at, p);
    if (pending_.size() > kMaxPendingCompletions) PopPending();
  }

  void PopPending() {
    const PendingCompletion p = pending_.front();
    pending_.pop_front();
    if (!p.done) AddNotCompleted(p);
  }

  void OnCompletion(const trace::Completion& c, int64_t t) {
    s_.recorded_completions = true;
    if (c.error()) {
      Incident inc;
      inc.call.rank = s_.rank;
      inc.call.seq = c.call_seq();
      inc.call.time_ns = t;
      inc.call.comm_key = c.comm_key();
      inc.call.op_seq = c.op_seq();
      inc.call.fn = "stream";
      inc.call.result = c.error();
      inc.call.result_name = "cuda error " + std::to_string(c.error());
      inc.detail = c.error();
      inc.what = "the stream of #" + std::to_string(c.call_seq()) + " reported CUDA error " +
                 std::to_string(c.error());
      inc.member = MemberByKey(c.comm_key());
      s_.cuda_errors.push_back(std::move(inc));
    }
    auto it =
        std::lower_bound(pending_.begin(), pending_.end(), c.call_seq(),
                         [](const PendingCompletion& p, uint64_t seq) { return p.seq < seq; });
    if (it != pending_.end() && it->seq == c.call_seq()) it->done = true;
    while (!pending_.empty() && pending_.front().done) pending_.pop_front();
  }

  void AddNotCompleted(const PendingCompletion& p) {
    const uint64_t ops = p.group_ops ? p.group_ops : 1;
    for (Incident& inc : s_.not_completed)
      if (inc.member == p.member) {
        inc.count += ops;
        return;
      }
    Incident inc;
    inc.member = p.member;
    inc.call = FromRecord(p.rec, s_.rank, s_.members[p.member].comm_key);
    inc.count = ops;
    inc.last_op = s_.members[p.member].last_op;
    inc.detail = p.group_ops;
    if (p.group_ops)
      inc.what = "in a group of " + std::to_string(p.group_ops) + " op(s) ended by #" +
                 std::to_string(p.seq);
    s_.not_completed.push_back(std::move(inc));
  }

  void AddNcclError(CallSummary call, int32_t member) {
    const uint64_t key = call.comm_key;
    for (Incident& inc : s_.nccl_errors)
      if (inc.call.comm_key == key && inc.call.result == call.result) {
        ++inc.count;
        return;
      }
    Incident inc;
    inc.member = member >= 0 ? member : (key ? MemberByKey(key) : -1);
    inc.last_op = inc.member >= 0 ? s_.members[inc.member].last_op : 0;
    inc.call = std::move(call);
    s_.nccl_errors.push_back(std::move(inc));
  }

  void AddCudaError(CallSummary call) {
    for (Incident& inc : s_.cuda_errors)
      if (inc.call.fn == call.fn && inc.call.result == call.result) {
        ++inc.count;
        return;
      }
    Incident inc;
    inc.call = std::move(call);
    s_.cuda_errors.push_back(std::move(inc));
  }

  MemberFacts& Created(const ApiCall& c, uint64_t handle, uint64_t seq, int64_t t) {
    const int32_t idx = NewMember(c.comm_key(), handle);
    MemberFacts& m = s_.members[idx];
    m.created_by = static_cast<uint16_t>(trace::FunctionOfField(c.fn_case()));
    m.create_call = Summarize(c, s_.rank, seq, t);
    return m;
  }

  void InitFromId(MemberFacts& m, uint64_t id_hash, int64_t rank, int64_t size, uint32_t thread) {
    m.claimed_rank = rank;
    m.claimed_size = size;
    m.id_hash = id_hash;
    m.id_occurrence = id_seen_[id_hash]++;
    m.device = ThreadDevice(thread);
  }

  // A split or shrink of the parent `parent_handle`. Splits and shrinks are counted apart, as the
  // recorder keys their communicators: a rank a shrink excludes does not call it.
  void OnSplit(const ApiCall& c, uint64_t parent_handle, uint64_t newcomm, int64_t color,
               int64_t key, bool shrink, uint64_t seq, int64_t t) {
    auto it = by_handle_.find(parent_handle);
    const int32_t parent = it == by_handle_.end() ? -1 : it->second;
    uint32_t ordinal = 0;
    if (parent >= 0) {
      MemberFacts& p = s_.members[parent];
      ordinal = static_cast<uint32_t>(shrink ? ++p.shrinks_made : ++p.splits_made);
    }
    MemberFacts& m = Created(c, newcomm, seq, t);
    if (c.created_nranks() > 0) {  // asked of NCCL as the call returned
      m.counted_size = c.created_nranks();
      m.user_rank = c.created_rank();
    }
    m.parent_member = parent;
    m.split_ordinal = ordinal;
    m.split_color = color;
    m.split_key = key;
    if (parent >= 0) {
      m.parent_key = s_.members[parent].comm_key;
      m.device = s_.members[parent].device_used();  // NCCL splits stay on the parent's device
    }
  }

  void OnOtherCall(const ApiCall& c, uint32_t thread, uint64_t seq, int64_t t) {
    const uint32_t id = static_cast<uint32_t>(trace::FunctionOfField(c.fn_case()));
    // Out-arguments are valid when the call succeeded (a non-blocking NCCL call: in progress).
    const bool ok = trace::IsNcclFunction(id) ? NcclOk(c.result()) : c.result() == 0;
    switch (c.fn_case()) {
      case ApiCall::kNcclCommInitRank: {
        const auto& a = c.nccl_comm_init_rank();
        InitFromId(Created(c, a.comm(), seq, t), Fnv1a(a.comm_id()), a.rank(), a.nranks(), thread);
        break;
      }
      case ApiCall::kNcclCommInitRankConfig: {
        const auto& a = c.nccl_comm_init_rank_config();
        InitFromId(Created(c, a.comm(), seq, t), Fnv1a(a.comm_id()), a.rank(), a.nranks(), thread);
        break;
      }
      case ApiCall::kNcclCommInitRankScalable: {
        const auto& a = c.nccl_comm_init_rank_scalable();
        uint64_t h = kFnv1aSeed;
        for (const std::string& id_bytes : a.comm_ids()) h = Fnv1a(id_bytes, h);
        InitFromId(Created(c, a.newcomm(), seq, t), h, a.myrank(), a.nranks(), thread);
        break;
      }
      case ApiCall::kNcclCommInitAll: {
        // One process, one member per device; the handles are only valid when it succeeded.
        const auto& a = c.nccl_comm_init_all();
        for (int64_t i = 0; i < a.ndev(); ++i) {
          const uint64_t handle = ok && i < a.comms_size() ? a.comms(static_cast<int>(i)) : 0;
          MemberFacts& m = Created(c, handle, seq, t);
          m.claimed_rank = i;
          m.claimed_size = a.ndev();
          m.device = i < a.devlist_size() ? a.devlist(static_cast<int>(i)) : i;
        }
        break;
      }
      case ApiCall::kNcclCommSplit: {
        const auto& a = c.nccl_comm_split();
        OnSplit(c, a.comm(), ok ? a.newcomm() : 0, a.color(), a.key(), false, seq, t);
        break;
      }
      case ApiCall::kNcclCommShrink: {
        const auto& a = c.nccl_comm_shrink();
        OnSplit(c, a.comm(), ok ? a.newcomm() : 0, 0, 0, true, seq, t);
        s_.members.back().excluded.assign(a.exclude_ranks().begin(), a.exclude_ranks().end());
        break;
      }
      case ApiCall::kNcclCommCount:
        if (ok)
          s_.members[MemberFor(c.nccl_comm_count().comm(), c.comm_key())].counted_size =
              c.nccl_comm_count().count();
        break;
      case ApiCall::kNcclCommUserRank:
        if (ok)
          s_.members[MemberFor(c.nccl_comm_user_rank().comm(), c.comm_key())].user_rank =
              c.nccl_comm_user_rank().rank();
        break;
      case ApiCall::kNcclCommCuDevice:
        if (ok)
          s_.members[MemberFor(c.nccl_comm_cu_device().comm(), c.comm_key())].cu_device =
              c.nccl_comm_cu_device().device();
        break;
      case ApiCall::kNcclCommAbort:
      case ApiCall::kNcclCommRevoke: {
        const uint64_t handle =
            c.has_nccl_comm_abort() ? c.nccl_comm_abort().comm() : c.nccl_comm_revoke().comm();
        Incident inc;
        inc.member = c.comm_key() ? MemberFor(handle, c.comm_key()) : -1;
        inc.last_op = inc.member >= 0 ? s_.members[inc.member].last_op : 0;
        inc.call = Summarize(c, s_.rank, seq, t);
        s_.aborts.push_back(std::move(inc));
        break;
      }
      case ApiCall::kNcclCommGetAsyncError: {
        const auto& a = c.nccl_comm_get_async_error();
        if (!ok || NcclOk(a.async_error()) || !c.comm_key()) break;
        const int32_t member = MemberFor(a.comm(), c.comm_key());
        bool seen = false;
        for (Incident& inc : s_.async_errors)
          if (inc.member == member && inc.detail == a.async_error()) {
            ++inc.count;
            seen = true;
          }
        if (seen) break;
        Incident inc;
        inc.member = member;
        inc.last_op = s_.members[member].last_op;
        inc.detail = a.async_error();
        inc.call = Summarize(c, s_.rank, seq, t);
        s_.async_errors.push_back(std::move(inc));
        break;
      }
      case ApiCall::kNcclGroupStart:
        if (NcclOk(c.result()) && c.group_depth() == 0) group_ops_ = 0;
        break;
      case ApiCall::kNcclGroupEnd:
        // The outermost end (depth 1 when called) completes the group's ops together.
        if (NcclOk(c.result()) && c.group_depth() == 1 && group_ops_ > 0) {
          Track({seq, group_member_, group_ops_, group_first_});
          group_ops_ = 0;
        }
        break;
      case ApiCall::kCudaSetDevice:
        if (ok) thread_device_[thread] = c.cuda_set_device().device();
        break;
      case ApiCall::kCudaGetDevice:
        if (ok) thread_device_[thread] = c.cuda_get_device().device();
        break;
      default:
        break;
    }
    if (trace::IsNcclFunction(id) && !NcclOk(c.result()))
      AddNcclError(Summarize(c, s_.rank, seq, t), -1);
    if (trace::IsCudartFunction(id) && c.result() != 0 && c.result() != kCudaErrorNotReady)
      AddCudaError(Summarize(c, s_.rank, seq, t));
  }

  trace::RankFileReader& reader_;
  OpStore& store_;
  RankScan& s_;
  std::unordered_map<uint64_t, int32_t> by_handle_;
  uint64_t cached_handle_ = 0;
  int32_t cached_member_ = -1;
  std::unordered_map<uint32_t, int64_t> thread_device_;
  std::unordered_map<uint64_t, uint32_t> id_seen_;
  std::deque<WindowEntry> window_;
  std::deque<PendingCompletion> pending_;
  uint32_t group_ops_ = 0;
  int32_t group_member_ = -1;
  OpRecord group_first_;
  bool received_nonfinite_ = false;
  bool calls_in_flight_ = true;
  ScanObserver* observer_ = nullptr;
};

}  // namespace

StatusOr<RankScan> ScanRank(trace::RankEntry& entry, OpStore& store, bool calls_in_flight,
                            ScanObserver* observer) {
  RankScan scan;
  if (!entry.reader) return Status::InvalidArgument(entry.path + ": not readable");
  Scanner sc(*entry.reader, store, scan);
  sc.set_calls_in_flight(calls_in_flight);
  sc.set_observer(observer);
  if (observer) observer->BeginRank(*entry.reader);
  Status st = sc.Run();
  if (observer && st.ok()) observer->EndRank(scan);
  entry.reader->ReleaseMemory();
  if (!st.ok()) return st;
  return scan;
}

std::string DeviceIdentity(const RankScan& scan, int64_t ordinal) {
  auto it = scan.device_ids.find(ordinal);
  if (it != scan.device_ids.end()) return scan.host + " " + it->second;
  return scan.host + " device " + std::to_string(ordinal);
}

}  // namespace ddrr::analysis
