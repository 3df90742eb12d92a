#include "analysis/event_diff.h"

#include <google/protobuf/descriptor.h>

#include <tuple>
#include <utility>

#include "ddrr/options.pb.h"
#include "spec/api_table.h"

namespace ddrr::analysis {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using trace::EventPrinter;

constexpr size_t kRecentCalls = 4096;  // calls kept to name the call a digest belongs to

bool CapturesDigests(const trace::RankFileReader& r) {
  return r.header().capture().level() >= trace::CAPTURE_DIGESTS;
}

}  // namespace

bool IsCommunication(const trace::ApiCall& call) {
  if (call.fn_case() == trace::ApiCall::kNcclCommGetAsyncError) return false;
  const trace::FunctionInfo* f = trace::FindFunction(trace::FunctionOfField(call.fn_case()));
  if (!f || f->library != "nccl") return false;
  for (std::string_view want : {"comm_create", "comm_destroy", "comm_query", "registration",
                                "redop", "collective", "p2p", "group"})
    if (f->category == want) return true;
  return false;
}

namespace {

bool SameData(const trace::Digest& a, const trace::Digest& b) {
  return a.value() == b.value() && a.nan_count() == b.nan_count() && a.inf_count() == b.inf_count();
}

std::string DigestText(const trace::Digest& d) {
  std::string s = EventPrinter::Hex(d.value()) + " (" + std::to_string(d.bytes()) + " bytes";
  if (d.nan_count()) s += ", " + std::to_string(d.nan_count()) + " NaN";
  if (d.inf_count()) s += ", " + std::to_string(d.inf_count()) + " Inf";
  return s + ")";
}

}  // namespace

bool IsReplay(const trace::Run& run) {
  for (const auto& e : run.ranks())
    if (e.reader && e.reader->header().env().contains(kReplayOfEnv)) return true;
  return false;
}

NormalizedStream::NormalizedStream(trace::RankFileReader& reader, int64_t rank,
                                   const DiffOptions& options, bool compare_digests)
    : reader_(reader),
      scope_(options.scope),
      digests_(compare_digests && options.scope == DiffScope::kAll),
      printer_(rank) {}

bool NormalizedStream::InScope(const trace::Event& event) const {
  switch (event.body_case()) {
    case trace::Event::kCompletion:
    case trace::Event::kPayload:
    case trace::Event::kNote:   // the recorder's, not the program's (what it captured, dropped)
    case trace::Event::kEnter:  // where a reader found the rank: timing
      return false;
    case trace::Event::kCall:
      return scope_ == DiffScope::kAll || IsCommunication(event.call());
    case trace::Event::kDigest:
      return digests_;
    default:
      return scope_ == DiffScope::kAll;
  }
}

std::optional<NormalizedEvent> NormalizedStream::Next() {
  trace::Event ev;
  trace::EventPosition pos;
  for (;;) {
    if (!reader_.Next(&ev, &pos)) return std::nullopt;
    if (InScope(ev) && !ev.has_digest()) break;
    if (InScope(ev)) {  // a digest: set aside with the call it belongs to
      PendingDigest d;
      if (auto it = recent_calls_.find(ev.digest().call_seq()); it != recent_calls_.end()) {
        d.call_index = it->second.index;
        d.call_thread = it->second.thread;
        d.thread_call = it->second.thread_call;
        d.call_line = it->second.line;
      }
      d.digest = ev.digest();
      digests_read_.push_back(std::move(d));
    }
    printer_.Observe(ev);
  }
  NormalizedEvent n;
  n.seq = pos.seq;
  n.thread = ev.thread();
  n.line = printer_.Text(ev, pos);
  n.key = Key(ev, pos, &n.comm_ordinal);
  ++returned_;
  if (digests_ && ev.has_call()) {
    auto [t, fresh] =
        call_threads_.try_emplace(ev.thread(), static_cast<uint32_t>(call_threads_.size() + 1), 0);
    recent_calls_[pos.seq] = {returned_, t->second.first, ++t->second.second, n.line};
    if (recent_calls_.size() > kRecentCalls) recent_calls_.erase(recent_calls_.begin());
  }
  n.event = std::move(ev);
  return n;
}

std::string NormalizedStream::Key(const trace::Event& event, const trace::EventPosition& pos,
                                  uint32_t* comm_ordinal) {
  // Which thread did what is the program's in scope kAll; a replay picks its own threads.
  std::string k;
  if (scope_ == DiffScope::kAll) k.append("T").append(std::to_string(event.thread())).append(" ");
  switch (event.body_case()) {
    case trace::Event::kCall:
      return k + CallKey(event.call(), comm_ordinal);
    case trace::Event::kMark:
      return k + "mark " + EventPrinter::JsonString(event.mark().label()) + " step " +
             std::to_string(event.mark().step());
    case trace::Event::kRng:
      return k + "rng " + EventPrinter::JsonString(event.rng().name()) + " " +
             EventPrinter::JsonString(event.rng().state());
    case trace::Event::kEntropy:
      return k + "entropy " + std::to_string(event.entropy().source()) + " " +
             std::to_string(event.entropy().data().size()) + " bytes";
    case trace::Event::kDigest: {
      // Which call (by its distance back), which buffer, how big; the value is data.
      const trace::Digest& d = event.digest();
      return k + "digest -" + std::to_string(pos.seq - d.call_seq()) + " " +
             std::to_string(d.role()) + " " + std::to_string(d.bytes());
    }
    case trace::Event::kKernels:
      return k + "kernels " + handles_.Name("stream", event.kernels().stream()) + " count " +
             std::to_string(event.kernels().count());
    case trace::Event::kThreadName:
      return k + "thread name " + EventPrinter::JsonString(event.thread_name().name());
    case trace::Event::kNote:
      return k + "note " + EventPrinter::JsonString(event.note().text()) + " dropped " +
             std::to_string(event.note().dropped_events());
    default:
      return k + "event " + std::to_string(event.body_case());
  }
}

std::string NormalizedStream::CallKey(const trace::ApiCall& call, uint32_t* comm_ordinal) {
  std::string k;
  if (const Message* m = trace::CallArgs(call)) {
    const bool pointers = scope_ == DiffScope::kAll;
    if (pointers) allocations_.Before(call);
    const auto* d = m->GetDescriptor();
    const auto* r = m->GetReflection();
    k = d->options().GetExtension(trace::c_name) + "(";
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* f = d->field(i);
      if (!pointers && f->options().GetExtension(trace::arg_kind) == trace::ARG_POINTER) continue;
      k += f->name() + "=";
      if (!f->is_repeated()) {
        k += ArgKey(f, trace::ReadArg(*m, f, -1));
      } else {
        k += "[";
        for (int j = 0; j < r->FieldSize(*m, f); ++j) {
          if (j) k += ",";
          k += ArgKey(f, trace::ReadArg(*m, f, j));
        }
        k += "]";
      }
      k += " ";
    }
    k += ")";
    if (pointers) allocations_.After(call);
  } else {
    k = "unknown#" + std::to_string(call.fn_case());
  }
  k += " = " + std::to_string(call.result());
  if (call.comm_key()) {
    *comm_ordinal =
        comm_ordinals_.emplace(call.comm_key(), comm_ordinals_.size() + 1).first->second;
    k += " [comm " + std::to_string(*comm_ordinal) + " op " + std::to_string(call.op_seq()) + "]";
  }
  k += " [group " + std::to_string(call.group_depth()) + "]";
  if (call.graph_captured()) k += " [graph capture]";
  return k;
}

std::string NormalizedStream::ArgKey(const FieldDescriptor* f, const trace::ArgValue& v) {
  const auto kind = f->options().GetExtension(trace::arg_kind);
  switch (v.type) {
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_ENUM:
      return std::to_string(v.i);
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64: {
      if (kind == trace::ARG_HANDLE)
        return handles_.Name(f->options().GetExtension(trace::handle_family), v.u);
      // Addresses are the run's: only where they point inside a recorded allocation is shared.
      if (kind == trace::ARG_FUNCTION) return "<addr>";
      if (kind != trace::ARG_POINTER) return std::to_string(v.u);
      if (v.u == 0) return "NULL";
      uint64_t id, offset;
      if (!allocations_.Find(v.u, &id, &offset)) return "<addr>";
      return "alloc" + std::to_string(id) + "+" + std::to_string(offset);
    }
    case FieldDescriptor::CPPTYPE_FLOAT:
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return std::to_string(v.d);
    case FieldDescriptor::CPPTYPE_STRING:
      // A unique id is random per run; what is shared is that there is one.
      if (kind == trace::ARG_UNIQUE_ID) return std::to_string(v.bytes.size()) + " bytes";
      return EventPrinter::JsonString(v.bytes);
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return v.sub ? v.sub->ShortDebugString() : "NULL";
    default:
      return "?";
  }
}

RankDiff DiffRank(trace::RankFileReader& a, trace::RankFileReader& b, int64_t rank,
                  const DiffOptions& options) {
  RankDiff diff;
  diff.rank = rank;
  diff.scope = options.scope;
  bool digests = false;
  if (options.scope == DiffScope::kAll) {
    const bool da = CapturesDigests(a), db = CapturesDigests(b);
    if (da != db) diff.digests_only_in = da ? Side::kA : Side::kB;
    digests = da && db;
  }
  NormalizedStream sa(a, rank, options, digests), sb(b, rank, options, digests);
  // Compares the digests of each call and buffer once both sides have read them; of those that
  // differ, the earliest call's is the data difference.
  using DigestKey = std::tuple<uint32_t, uint64_t, int>;  // thread, its call, buffer role
  std::map<DigestKey, NormalizedStream::PendingDigest> only_a, only_b;
  auto compare_data = [&] {
    for (auto [queue, mine, theirs, mine_is_a] :
         {std::tuple{&sa.digests(), &only_a, &only_b, true},
          std::tuple{&sb.digests(), &only_b, &only_a, false}}) {
      for (; !queue->empty(); queue->pop_front()) {
        NormalizedStream::PendingDigest& p = queue->front();
        if (!p.call_thread) continue;  // its call was forgotten: nothing to pair it by
        const DigestKey key{p.call_thread, p.thread_call, p.digest.role()};
        auto other = theirs->find(key);
        if (other == theirs->end()) {
          mine->emplace(key, std::move(p));
          continue;
        }
        const auto& x = mine_is_a ? p : other->second;
        const auto& y = mine_is_a ? other->second : p;
        const bool same = x.digest.bytes() == y.digest.bytes() && SameData(x.digest, y.digest);
        if (!same && (!diff.data || x.call_index < diff.data->index)) {
          DataDifference& d = diff.data.emplace();
          d.index = x.call_index;
          d.a = x.digest;
          d.b = y.digest;
          d.call_line = x.call_line;
        }
        theirs->erase(other);
      }
    }
  };
  std::deque<std::string> context;
  for (uint64_t n = 1;; ++n) {
    auto x = sa.Next();
    auto y = sb.Next();
    compare_data();
    if (!x && !y) return diff;
    if (!x || !y) {
      const bool a_ended = !x;
      if ((a_ended ? a : b).still_running()) {  // not there yet
        diff.still_running = a_ended ? Side::kA : Side::kB;
        return diff;
      }
    }
    if (x && y && x->key == y->key) {
      ++diff.events_compared;
      context.push_back(std::move(x->line));
      if (context.size() > options.context) context.pop_front();
      continue;
    }
    diff.structure = StructuralDifference{n, std::move(context), std::move(x), std::move(y)};
    return diff;
  }
}

std::string FormatRankDiff(const RankDiff& diff, std::string_view a_name, std::string_view b_name) {
  const std::string rank = "rank " + std::to_string(diff.rank) + ": ";
  std::string s;
  if (diff.digests_only_in)
    s += rank + "digests only in " +
         std::string(*diff.digests_only_in == Side::kA ? a_name : b_name) + "; data not compared\n";
  if (const auto& d = diff.data) {
    s += rank + "first data difference at event " + std::to_string(d->index) + ": " +
         (d->a.role() == trace::BUFFER_INPUT ? "input" : "output") + " digest of #" +
         std::to_string(d->a.call_seq()) + "\n";
    if (!d->call_line.empty()) s += "    " + d->call_line + "\n";
    s += "  A " + DigestText(d->a) + "\n  B " + DigestText(d->b) + "\n";
  }
  if (const auto& st = diff.structure) {
    s += rank + "first difference at event " + std::to_string(st->index) + "\n";
    for (const auto& line : st->context) s += "    " + line + "\n";
    s += "  A " + (st->a ? st->a->line : "(no more events)") + "\n";
    s += "  B " + (st->b ? st->b->line : "(no more events)") + "\n";
  }
  return s;
}

}  // namespace ddrr::analysis
