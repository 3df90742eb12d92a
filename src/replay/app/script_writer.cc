#include "replay/app/script_writer.h"

#include <nccl.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <unordered_map>

#include "common/crc32c.h"
#include "ddrr/options.pb.h"
#include "replay/app/script_format.h"
#include "spec/api_table.h"
#include "spec/api_views.h"
#include "trace/event_printer.h"

namespace ddrr::replay::app {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using trace::ArgValue;
using trace::FunctionId;
using trace::FunctionInfo;

// A recorded call that failed: NCCL's ncclInProgress is not a failure, nor is a query's "not
// ready" (the recording polled, and so will the replay).
bool Failed(const FunctionInfo& info, int64_t result) {
  if (info.library == "nccl") return result != ncclSuccess && result != ncclInProgress;
  if (info.app == "query") return result != 0 && result != 600;  // cudaErrorNotReady
  return result != 0;
}

uint64_t DoubleBits(double d) {
  uint64_t bits;
  memcpy(&bits, &d, sizeof(bits));
  return bits;
}

uint64_t ScalarBits(const ArgValue& v) {
  switch (v.type) {
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_ENUM:
      return static_cast<uint64_t>(v.i);
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64:
      return v.u;
    case FieldDescriptor::CPPTYPE_FLOAT:
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return DoubleBits(v.d);
    default:
      return 0;
  }
}

struct ThreadRecords {
  uint64_t first_seen = 0;
  std::vector<ScriptCall> calls;
  std::vector<ScriptEntropy> entropy;
  std::vector<ScriptRng> rngs;
  uint64_t resume_call = 0, resume_entropy = 0, resume_rng = 0;
  // Group being recorded: depth and whether it holds a call that runs for real.
  int group_depth = 0;
  bool group_has_real = false;
};

class Compiler {
 public:
  Compiler(const analysis::RunModel& model, int64_t rank, const ScriptOptions& options,
           uint32_t world)
      : model_(model), rank_(rank), running_(options.running), resume_(options.resume_step) {
    const std::set<int64_t>& running = options.running;
    all_running_ = true;
    for (uint32_t r = 0; r < world; ++r) all_running_ = all_running_ && running.count(r) != 0;
  }

  // First pass: which communicator each unique id this rank saw creates.
  void NoteCreation(const trace::ApiCall& call) {
    const FunctionInfo* info = FindFunction(trace::FunctionOfField(call.fn_case()));
    if (!info || info->category != "comm_create" || call.result() != 0) return;
    const Message* m = trace::CallArgs(call);
    const auto* d = m->GetDescriptor();
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* f = d->field(i);
      if (f->options().GetExtension(trace::arg_kind) != trace::ARG_UNIQUE_ID) continue;
      if (f->is_repeated()) {
        if (m->GetReflection()->FieldSize(*m, f) > 0)
          id_comm_[trace::ReadArg(*m, f, 0).bytes] = call.comm_key();
      } else {
        id_comm_[trace::ReadArg(*m, f, -1).bytes] = call.comm_key();
      }
    }
  }

  void Add(const trace::Event& e, const trace::EventPosition& pos, trace::RankFileReader& reader) {
    if (e.has_mark() && e.mark().step() >= 0) step_ = e.mark().step();
    if (resume_ && !cut_ && e.has_mark() && e.mark().step() == *resume_) {
      // The cut: every thread resumes where it stands now.
      cut_ = true;
      for (auto& [index, t] : threads_) {
        t.resume_call = t.calls.size();
        t.resume_entropy = t.entropy.size();
        t.resume_rng = t.rngs.size();
      }
    }
    if (e.has_call()) return AddCall(e, pos);
    if (e.has_entropy()) {
      ScriptEntropy s{};
      s.source = static_cast<uint32_t>(e.entropy().source());
      s.blob = Blob(e.entropy().data());
      s.bytes = e.entropy().data().size();
      Thread(e.thread()).entropy.push_back(s);
      ++summary_.entropy;
      return;
    }
    if (e.has_rng()) {
      ThreadRecords& t = Thread(e.thread());
      ScriptRng s{};
      s.name_blob = Blob(e.rng().name());
      s.name_bytes = e.rng().name().size();
      s.state_blob = Blob(e.rng().state());
      s.state_bytes = e.rng().state().size();
      s.calls_before = t.calls.size();
      t.rngs.push_back(s);
      ++summary_.rng_states;
      return;
    }
    if (e.has_digest() && e.digest().role() == trace::BUFFER_INPUT) {
      if (ScriptCall* c = CallAt(e.digest().call_seq())) {
        c->flags |= kCallHasInputDigest;
        c->input_digest = e.digest().value();
        c->input_bytes = e.digest().bytes();
      }
      return;
    }
    if (e.has_payload() && e.payload().role() == trace::BUFFER_OUTPUT) {
      ScriptCall* c = CallAt(e.payload().call_seq());
      if (!c || c->mode != kModeServe) return;
      auto data = reader.Payload(e.payload().content_hash());
      if (!data.ok()) return;  // counted as missing below
      c->flags |= kCallHasOutput;
      c->output_blob = Blob(*data);
      c->output_bytes = data->size();
    }
  }

  Status Write(const std::string& path, const trace::Header& header, uint32_t slot) {
    if (resume_ && !cut_)
      return Status::InvalidArgument("rank " + std::to_string(rank_) + " never marked step " +
                                     std::to_string(*resume_) +
                                     " (ddrr_mark): there is nothing to resume at");
    // Threads in order of their first call or draw; missing outputs known now.
    std::vector<ThreadRecords*> order;
    for (auto& [index, t] : threads_) order.push_back(&t);
    std::sort(order.begin(), order.end(), [](const ThreadRecords* a, const ThreadRecords* b) {
      return a->first_seen < b->first_seen;
    });
    std::vector<ScriptThread> threads;
    std::vector<ScriptCall> calls;
    std::vector<ScriptEntropy> entropy;
    std::vector<ScriptRng> rngs;
    for (ThreadRecords* t : order) {
      ScriptThread st{};
      st.first_call = calls.size();
      st.call_count = t->calls.size();
      st.first_entropy = entropy.size();
      st.entropy_count = t->entropy.size();
      st.first_rng = rngs.size();
      st.rng_count = t->rngs.size();
      st.resume_call = t->resume_call;
      st.resume_entropy = t->resume_entropy;
      st.resume_rng = t->resume_rng;
      threads.push_back(st);
      for (size_t k = 0; k < t->calls.size(); ++k) {
        ScriptCall c = t->calls[k];
        // Before the resume point only setup is replayed: its data is not needed.
        const bool skipped = resume_ && k < t->resume_call;
        if (!skipped && expects_output_.count(c.seq) && !(c.flags & kCallHasOutput)) {
          c.flags |= kCallMissingOutput;
          ++summary_.missing_outputs;
        }
        calls.push_back(c);
      }
      entropy.insert(entropy.end(), t->entropy.begin(), t->entropy.end());
      rngs.insert(rngs.end(), t->rngs.begin(), t->rngs.end());
    }
    summary_.threads = static_cast<uint32_t>(threads.size());
    if (resume_) {  // the calls the resumed program is to make: setup, then from the step on
      summary_.calls = 0;
      for (const ThreadRecords* t : order) {
        summary_.calls += t->calls.size() - t->resume_call;
        for (uint64_t k = 0; k < t->resume_call; ++k)
          if (t->calls[k].flags & kCallSetup) ++summary_.calls;
      }
    }

    ScriptHeader h{};
    memcpy(h.magic, kScriptMagic, sizeof(h.magic));
    h.version = kScriptVersion;
    h.rank = static_cast<uint32_t>(rank_);
    h.world_size = header.world_size();
    h.thread_count = static_cast<uint32_t>(threads.size());
    h.call_count = calls.size();
    h.arg_count = args_.size();
    h.entropy_count = entropy.size();
    h.rng_count = rngs.size();
    h.slot = slot;
    h.resume_step = resume_ ? *resume_ : INT64_MIN;
    h.payload_step_begin = header.capture().payload_step_begin();
    h.payload_step_end = header.capture().payload_step_end();
    std::string body;
    auto table = [&](const auto& v) {
      body.resize((body.size() + 7) & ~size_t{7});
      const uint64_t at = sizeof(ScriptHeader) + body.size();
      body.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(v[0]));
      return at;
    };
    h.threads_offset = table(threads);
    h.calls_offset = table(calls);
    h.args_offset = table(args_);
    h.entropy_offset = table(entropy);
    h.rng_offset = table(rngs);
    body.resize((body.size() + 7) & ~size_t{7});
    h.blob_offset = sizeof(ScriptHeader) + body.size();
    h.blob_bytes = blob_.size();
    body += blob_;
    h.file_bytes = sizeof(ScriptHeader) + body.size();
    h.crc = Crc32c(body.data(), body.size());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(&h), sizeof(h));
    out.write(body.data(), static_cast<std::streamsize>(body.size()));
    out.close();
    if (!out) return Status::IoError("cannot write the replay script " + path);
    return Status::Ok();
  }

  ScriptSummary& summary() { return summary_; }

 private:
  ThreadRecords& Thread(uint32_t index) {
    auto [it, fresh] = threads_.try_emplace(index);
    if (fresh) it->second.first_seen = next_seen_++;
    return it->second;
  }

  uint64_t Blob(std::string_view bytes) {
    const uint64_t at = blob_.size();
    blob_.append(bytes);
    return at;
  }

  ScriptCall* CallAt(uint64_t seq) {
    auto it = call_at_.find(seq);
    if (it == call_at_.end()) return nullptr;
    return &threads_[it->second.first].calls[it->second.second];
  }

  // A communicator runs for real when all of its members run.
  bool CommRuns(uint64_t key) const {
    if (all_running_) return true;
    const analysis::Comm* c = model_.comms ? model_.comms->Find(key) : nullptr;
    if (!c || c->size <= 0 || static_cast<int64_t>(c->members.size()) != c->size) return false;
    for (const analysis::Member& m : c->members)
      if (!running_.count(m.rank)) return false;
    return true;
  }

  // The peer communicator a call acts on; for ncclGetUniqueId, the one made from its id.
  uint64_t PeerComm(const FunctionInfo& info, const trace::ApiCall& call, const Message& m) {
    if (info.id != FunctionId::kNcclGetUniqueId) return call.comm_key();
    const FieldDescriptor* f = m.GetDescriptor()->field(0);
    auto it = id_comm_.find(trace::ReadArg(m, f, -1).bytes);
    return it == id_comm_.end() ? 0 : it->second;
  }

  void AddCall(const trace::Event& e, const trace::EventPosition& pos) {
    const trace::ApiCall& call = e.call();
    const FunctionInfo* info = FindFunction(trace::FunctionOfField(call.fn_case()));
    const Message* m = trace::CallArgs(call);
    if (!info || !m || info->category == "launch") {
      // Kernel launches are matched by count, not call by call; numbering still sees them.
      handles_.Observe(call);
      return;
    }
    ThreadRecords& t = Thread(e.thread());
    ScriptCall c{};
    c.seq = pos.seq;
    c.fn = static_cast<uint32_t>(info->id);
    c.result = call.result();
    c.comm_key = call.comm_key();
    c.op_seq = call.op_seq();
    c.step = step_;
    const bool failed = Failed(*info, call.result());
    bool runs_for_real = true;
    if (info->app == "peer") {
      runs_for_real = CommRuns(PeerComm(*info, call, *m));
      if (info->category == "comm_create") {
        // A split runs for real only from a parent that does; a served one has the shape the
        // recording had.
        const analysis::Comm* made = model_.comms ? model_.comms->Find(call.comm_key()) : nullptr;
        if (made && made->parent_key) runs_for_real = runs_for_real && CommRuns(made->parent_key);
        c.comm_size = made ? static_cast<int32_t>(made->size) : -1;
        c.comm_rank = -1;
        if (made)
          for (const analysis::Member& mm : made->members)
            if (mm.rank == rank_) c.comm_rank = static_cast<int32_t>(mm.comm_rank);
      }
      c.mode = runs_for_real ? kModeReal : kModeServe;
    } else if (info->app == "recorded") {
      c.mode = kModeServe;
    } else if (info->app == "device") {
      c.mode = kModeDevice;
    } else if (info->app == "group") {
      c.mode = kModeCallServe;
      if (info->id == FunctionId::kNcclGroupEnd) {
        if (t.group_has_real) c.mode = kModeReal;
        if (t.group_depth > 0 && --t.group_depth == 0) t.group_has_real = false;
      } else if (info->id == FunctionId::kNcclGroupStart && !failed) {
        ++t.group_depth;
      }
    } else if (info->app == "query") {
      c.mode = call.result() == 600 ? kModeServe : kModeReal;  // not ready: as recorded
    }
    if (info->app == "peer" && runs_for_real && t.group_depth > 0) t.group_has_real = true;
    if (failed) {
      c.mode = kModeServe;
      c.flags |= kCallFailed;
    }
    if (resume_ && !cut_ &&
        (info->category == "comm_create" || info->id == FunctionId::kNcclGetUniqueId))
      c.flags |= kCallSetup;
    if (c.mode == kModeServe) ++summary_.served;

    allocations_.Before(call);
    c.first_arg = args_.size();
    const auto* d = m->GetDescriptor();
    c.arg_count = static_cast<uint32_t>(d->field_count());
    for (int i = 0; i < d->field_count(); ++i) args_.push_back(Arg(*m, d->field(i), failed));
    allocations_.After(call);

    if (c.mode == kModeServe && !failed && !call.graph_captured()) NoteExpectedOutput(call, c.seq);
    call_at_[pos.seq] = {e.thread(), t.calls.size()};
    t.calls.push_back(c);
    ++summary_.calls;
  }

  ScriptArg Arg(const Message& m, const FieldDescriptor* f, bool failed) {
    ScriptArg a{};
    const auto kind = f->options().GetExtension(trace::arg_kind);
    const bool out = f->options().GetExtension(trace::out);
    if (out) a.flags |= kArgOut;
    if (f->is_repeated()) return a;  // arrays: shown, not compared
    const ArgValue v = trace::ReadArg(m, f, -1);
    switch (kind) {
      case trace::ARG_INT:
      case trace::ARG_SIZE:
      case trace::ARG_FLAGS:
      case trace::ARG_FLOAT:
      case trace::ARG_ENUM:
        a.kind = kArgScalar;
        a.value = a.raw = ScalarBits(v);
        break;
      case trace::ARG_HANDLE:
        a.kind = kArgHandle;
        a.raw = v.u;
        // A failed call's out handle is whatever the variable held: not a handle of the run.
        if (!(out && failed))
          a.value = handles_.Number(f->options().GetExtension(trace::handle_family), v.u);
        break;
      case trace::ARG_POINTER:
        a.raw = v.u;
        if (v.u == 0) a.flags |= kArgNull;
        if (!out) {
          a.kind = kArgPointer;
          allocations_.Find(v.u, &a.value, &a.offset);
        }
        break;
      case trace::ARG_UNIQUE_ID:
        a.flags |= kArgBytes;
        a.raw = Blob(v.bytes);
        a.raw_bytes = v.bytes.size();
        break;
      default:
        break;
    }
    return a;
  }

  // A served collective or receive that writes data on this rank needs the recorded payload.
  void NoteExpectedOutput(const trace::ApiCall& call, uint64_t seq) {
    trace::OpView view;
    if (!trace::ViewOp(call, &view)) return;
    const analysis::Comm* comm = model_.comms ? model_.comms->Find(call.comm_key()) : nullptr;
    int64_t comm_rank = -1;
    if (comm)
      for (const analysis::Member& m : comm->members)
        if (m.rank == rank_) comm_rank = m.comm_rank;
    for (uint32_t b = 0; b < view.nbuffers; ++b) {
      const trace::BufferView& buf = view.buffers[b];
      if (!buf.output) continue;
      const bool holds = !buf.root_only || comm_rank < 0 || comm_rank == view.root;
      if (holds && buf.Elements(comm ? comm->size : 1) > 0) expects_output_.insert(seq);
    }
  }

  const analysis::RunModel& model_;
  int64_t rank_;
  const std::set<int64_t>& running_;
  std::optional<int64_t> resume_;
  bool cut_ = false;  // the resume step's mark has been seen
  bool all_running_ = false;
  std::map<uint32_t, ThreadRecords> threads_;
  uint64_t next_seen_ = 0;
  std::vector<ScriptArg> args_;
  std::string blob_;
  std::unordered_map<uint64_t, std::pair<uint32_t, size_t>> call_at_;  // seq -> thread, index
  std::set<uint64_t> expects_output_;
  std::unordered_map<std::string, uint64_t> id_comm_;
  trace::HandleNumbering handles_;
  trace::AllocationMap allocations_;
  int64_t step_ = INT64_MIN;
  ScriptSummary summary_;
};

}  // namespace

StatusOr<ScriptSummary> WriteScript(trace::Run& run, const analysis::RunModel& model, int64_t rank,
                                    const ScriptOptions& options, const std::string& path) {
  trace::RankEntry* entry = run.FindRank(rank);
  if (!entry) return Status::NotFound("rank " + std::to_string(rank) + " is not in " + run.path());
  if (!entry->reader)
    return Status::InvalidArgument(entry->path + ": " + entry->open_status.message());
  trace::RankFileReader& reader = *entry->reader;
  Compiler compiler(model, rank, options, run.world_size());
  trace::Event e;
  trace::EventPosition pos;
  reader.Rewind();
  while (reader.Next(&e, &pos))
    if (e.has_call()) compiler.NoteCreation(e.call());
  reader.Rewind();
  while (reader.Next(&e, &pos)) compiler.Add(e, pos, reader);
  if (Status st = compiler.Write(path, reader.header(), options.slot); !st.ok()) return st;
  compiler.summary().capture_level = reader.header().capture().level();
  return compiler.summary();
}

}  // namespace ddrr::replay::app
