#include "analysis/call_summary.h"

#include <google/protobuf/descriptor.h>

#include "ddrr/options.pb.h"
#include "trace/event_printer.h"

namespace ddrr::analysis {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using trace::ArgValue;
using trace::EventPrinter;

}  // namespace

CallSummary Summarize(const trace::ApiCall& call, int64_t rank, uint64_t seq, int64_t time_ns) {
  CallSummary s;
  s.rank = rank;
  s.seq = seq;
  s.time_ns = time_ns;
  s.duration_ns = call.duration_ns();
  s.comm_key = call.comm_key();
  s.op_seq = call.op_seq();
  s.fn = EventPrinter::FunctionName(call);
  s.result = call.result();
  s.result_name = EventPrinter::ResultName(call);
  const Message* args = trace::CallArgs(call);
  if (!args) return s;
  const Message& m = *args;
  const auto* d = m.GetDescriptor();
  s.nccl = d->options().GetExtension(trace::library) == "nccl";
  if (!s.nccl) return s;  // what follows is how NCCL names its arguments
  // Argument names differ per function (count, sendcount, recvcount); any of them is "the
  // count" that all ranks must agree on.
  for (const char* name : {"count", "sendcount", "recvcount"}) {
    if (const FieldDescriptor* f = d->FindFieldByName(name)) {
      const ArgValue v = trace::ReadArg(m, f, -1);
      s.has_count = true;
      s.count = v.u ? v.u : static_cast<uint64_t>(v.i);
      break;
    }
  }
  if (const FieldDescriptor* f = d->FindFieldByName("datatype"))
    s.datatype = trace::EnumName(f->enum_type(), trace::ReadArg(m, f, -1).i);
  if (const FieldDescriptor* f = d->FindFieldByName("op"); f && f->enum_type())
    s.op = trace::EnumName(f->enum_type(), trace::ReadArg(m, f, -1).i);
  if (const FieldDescriptor* f = d->FindFieldByName("root")) {
    s.has_root = true;
    s.root = trace::ReadArg(m, f, -1).i;
  }
  if (const FieldDescriptor* f = d->FindFieldByName("peer")) {
    s.has_peer = true;
    s.peer = trace::ReadArg(m, f, -1).i;
  }
  return s;
}

CallSummary FromRecord(const OpRecord& r, int64_t rank, uint64_t comm_key) {
  CallSummary s;
  s.rank = rank;
  s.seq = r.seq;
  s.time_ns = r.time_ns;
  s.comm_key = comm_key;
  s.op_seq = r.op_seq;
  s.fn = FunctionName(r.fn);
  s.has_count = true;
  s.count = r.count;
  if (r.datatype >= 0) s.datatype = DatatypeName(r.datatype);
  if (r.redop >= 0) s.op = RedOpName(r.redop);
  if (IsP2p(r.fn)) {
    s.has_peer = true;
    s.peer = r.root;
  } else if (r.root >= 0) {
    s.has_root = true;
    s.root = r.root;
  }
  s.result = r.result;
  s.result_name = ResultName(r.fn, r.result);
  s.nccl = true;
  return s;
}

std::string CallSummary::Describe() const {
  std::string s = fn;
  if (has_count) s += " count " + std::to_string(count);
  if (!datatype.empty()) s += " " + datatype;
  if (!op.empty()) s += " " + op;
  if (has_root) s += " root " + std::to_string(root);
  if (has_peer) s += " peer " + std::to_string(peer);
  return s;
}

}  // namespace ddrr::analysis
