#include "analysis/op_record.h"

#include <google/protobuf/descriptor.h>

#include "ddrr/options.pb.h"
#include "spec/api_table.h"
#include "spec/api_views.h"
#include "trace/event_printer.h"

namespace ddrr::analysis {
namespace {

using trace::ApiCall;
using trace::FunctionId;

constexpr uint16_t Id(FunctionId f) { return static_cast<uint16_t>(f); }

const google::protobuf::Descriptor* FnMessage(uint16_t fn) {
  const auto* f = ApiCall::descriptor()->FindFieldByNumber(
      static_cast<int>(trace::ApiCallField(static_cast<FunctionId>(fn))));
  return f ? f->message_type() : nullptr;
}

}  // namespace

bool IsCollective(uint16_t fn) {
  return fn >= Id(FunctionId::kNcclReduce) && fn <= Id(FunctionId::kNcclScatter);
}
bool IsP2p(uint16_t fn) {
  return fn == Id(FunctionId::kNcclSend) || fn == Id(FunctionId::kNcclRecv);
}
bool IsSend(uint16_t fn) { return fn == Id(FunctionId::kNcclSend); }

bool OutputMustAgree(uint16_t fn) {
  return fn == Id(FunctionId::kNcclAllReduce) || fn == Id(FunctionId::kNcclBroadcast) ||
         fn == Id(FunctionId::kNcclBcast) || fn == Id(FunctionId::kNcclAllGather);
}

bool ExtractOp(const ApiCall& c, uint64_t seq, int64_t time_ns, OpRecord* r,
               uint64_t* comm_handle) {
  *r = OpRecord{};
  trace::OpView v;
  if (!trace::ViewOp(c, &v)) return false;
  r->seq = seq;
  r->time_ns = time_ns;
  r->count = v.count;
  r->datatype = static_cast<int8_t>(v.datatype);
  r->redop = static_cast<int8_t>(v.redop);
  r->root = v.p2p() ? v.peer : v.root;
  r->op_seq = static_cast<uint32_t>(c.op_seq());
  r->fn = static_cast<uint16_t>(v.fn);
  r->result = static_cast<int16_t>(c.result());
  if (c.group_depth()) r->flags |= kOpInGroup;
  if (c.graph_captured()) r->flags |= kOpGraphCaptured;
  *comm_handle = v.comm;
  return true;
}

std::string FunctionName(uint16_t fn) {
  const auto* m = FnMessage(fn);
  return m ? m->options().GetExtension(trace::c_name) : "unknown#" + std::to_string(trace::ApiCallField(static_cast<FunctionId>(fn)));
}

std::string DatatypeName(int datatype) {
  return trace::EnumName(trace::NcclDataType_descriptor(), datatype);
}

std::string RedOpName(int redop) { return trace::EnumName(trace::NcclRedOp_descriptor(), redop); }

std::string ResultName(uint16_t fn, int64_t result) {
  const auto* m = FnMessage(fn);
  const std::string name = m ? m->options().GetExtension(trace::result_enum) : "";
  if (name.empty()) return std::to_string(result);
  return trace::EnumName(trace::FindEnum(name), static_cast<int>(result));
}

}  // namespace ddrr::analysis
