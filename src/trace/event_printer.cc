#include "trace/event_printer.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>

#include <cinttypes>
#include <cstdio>
#include <iterator>
#include <optional>

#include "common/hex.h"
#include "ddrr/options.pb.h"
#include "spec/api_table.h"

namespace ddrr::trace {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

std::string Seconds(uint64_t ns) {
  char buf[48];
  snprintf(buf, sizeof(buf), "%" PRIu64 ".%09" PRIu64, ns / 1000000000, ns % 1000000000);
  return buf;
}

std::string Duration(uint64_t ns) {
  char buf[48];
  if (ns < 10000)
    snprintf(buf, sizeof(buf), "%" PRIu64 "ns", ns);
  else if (ns < 10000000)
    snprintf(buf, sizeof(buf), "%.1fus", ns / 1e3);
  else if (ns < 10000000000ull)
    snprintf(buf, sizeof(buf), "%.1fms", ns / 1e6);
  else
    snprintf(buf, sizeof(buf), "%.2fs", ns / 1e9);
  return buf;
}

// Renders every argument as prefix(field) + value, joined by `sep`; a repeated argument's
// values as [a<sep>b]. Text and JSON dumps differ only in `prefix` and `value`.
template <typename Prefix, typename Value>
std::string JoinArgs(const Message& m, const char* sep, Prefix prefix, Value value) {
  const auto* d = m.GetDescriptor();
  const Reflection* r = m.GetReflection();
  std::string s;
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (i) s += sep;
    s += prefix(f);
    if (!f->is_repeated()) {
      s += value(f, ReadArg(m, f, -1));
      continue;
    }
    s += "[";
    for (int k = 0; k < r->FieldSize(m, f); ++k) {
      if (k) s += sep;
      s += value(f, ReadArg(m, f, k));
    }
    s += "]";
  }
  return s;
}

// Signed integers and floating point read the same in text and JSON; nullopt for other types.
std::optional<std::string> PlainNumber(const ArgValue& v) {
  switch (v.type) {
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64:
      return std::to_string(v.i);
    case FieldDescriptor::CPPTYPE_FLOAT:
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return std::to_string(v.d);
    default:
      return std::nullopt;
  }
}

const char* RoleName(int role) { return role == BUFFER_OUTPUT ? "output" : "input"; }

const char* EntropyName(int source) {
  static constexpr const char* kNames[] = {
      "getrandom",          "getentropy",         "/dev/urandom", "/dev/random",
      "std::random_device", "syscall(getrandom)", "arc4random"};  // by EntropySource value
  static_assert(std::size(kNames) == EntropySource_ARRAYSIZE);
  return source >= 0 && source < EntropySource_ARRAYSIZE ? kNames[source] : "entropy";
}

}  // namespace

const google::protobuf::EnumDescriptor* FindEnum(const std::string& name) {
  if (name.empty()) return nullptr;
  return ApiCall::descriptor()->file()->pool()->FindEnumTypeByName("ddrr.trace." + name);
}

std::string EnumName(const google::protobuf::EnumDescriptor* e, int value) {
  if (const auto* v = e ? e->FindValueByNumber(value) : nullptr) {
    const std::string& c = v->options().GetExtension(c_enum_value);
    return c.empty() ? v->name() : c;
  }
  return std::to_string(value);
}

// Every value type but messages, as (CPPTYPE_ suffix, ArgValue member, Reflection accessor
// suffix): each is read by one accessor pair, Get<Name> and GetRepeated<Name>.
// clang-format off
#define DDRR_ARG_VALUE_TYPES(X)                                                                   \
  X(INT32, i, Int32) X(INT64, i, Int64) X(ENUM, i, EnumValue)                                     \
  X(UINT32, u, UInt32) X(UINT64, u, UInt64)                                                       \
  X(FLOAT, d, Float) X(DOUBLE, d, Double)                                                         \
  X(STRING, bytes, String)
#define DDRR_READ_ARG_VALUE(TYPE, member, Name)                                                   \
  case FieldDescriptor::CPPTYPE_##TYPE:                                                           \
    v.member = rep ? r->GetRepeated##Name(m, f, k) : r->Get##Name(m, f);                          \
    break;
// clang-format on

ArgValue ReadArg(const Message& m, const FieldDescriptor* f, int k) {
  const Reflection* r = m.GetReflection();
  const bool rep = k >= 0;
  ArgValue v;
  v.type = f->cpp_type();
  switch (v.type) {
    DDRR_ARG_VALUE_TYPES(DDRR_READ_ARG_VALUE)
    case FieldDescriptor::CPPTYPE_MESSAGE:
      if (rep)
        v.sub = &r->GetRepeatedMessage(m, f, k);
      else if (r->HasField(m, f))
        v.sub = &r->GetMessage(m, f);
      break;
    default:
      break;
  }
  return v;
}
#undef DDRR_READ_ARG_VALUE
#undef DDRR_ARG_VALUE_TYPES

const Message* CallArgs(const ApiCall& call) {
  const FieldDescriptor* f = ApiCall::descriptor()->FindFieldByNumber(call.fn_case());
  if (!f) return nullptr;
  return &call.GetReflection()->GetMessage(call, f);
}

uint64_t HandleNumbering::Number(const std::string& family, uint64_t value) {
  if (value == 0) return 0;
  auto& ids = ids_[family];
  return ids.emplace(value, ids.size() + 1).first->second;
}

std::string HandleNumbering::Name(const std::string& family, uint64_t value) {
  const uint64_t n = Number(family, value);
  return n ? family + std::to_string(n) : "NULL";
}

void HandleNumbering::Observe(const ApiCall& call) {
  const Message* m = CallArgs(call);
  if (!m) return;
  const auto* d = m->GetDescriptor();
  const Reflection* r = m->GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    if (f->options().GetExtension(arg_kind) != ARG_HANDLE) continue;
    const std::string& fam = f->options().GetExtension(handle_family);
    if (f->is_repeated()) {
      for (int k = 0; k < r->FieldSize(*m, f); ++k) Number(fam, r->GetRepeatedUInt64(*m, f, k));
    } else {
      Number(fam, r->GetUInt64(*m, f));
    }
  }
}

bool AllocationMap::Find(uint64_t addr, uint64_t* id, uint64_t* offset) const {
  auto it = by_base_.upper_bound(addr);
  if (it == by_base_.begin()) return false;
  --it;
  if (addr - it->first >= std::max<uint64_t>(it->second.size, 1)) return false;
  *id = it->second.id;
  *offset = addr - it->first;
  return true;
}

void AllocationMap::Track(const ApiCall& call, bool after) {
  const Message* m = CallArgs(call);
  if (!m || call.result() != 0) return;
  const auto* d = m->GetDescriptor();
  if (d->options().GetExtension(category) != "memory") return;
  const Reflection* r = m->GetReflection();
  const FieldDescriptor* ptr = d->field(0);
  if (ptr->options().GetExtension(arg_kind) != ARG_POINTER) return;
  const uint64_t addr = r->GetUInt64(*m, ptr);
  const bool is_alloc = ptr->options().GetExtension(out);
  if (is_alloc && !after) {
    const FieldDescriptor* size = d->FindFieldByName("size");
    if (addr && size) by_base_[addr] = {next_++, r->GetUInt64(*m, size)};
  } else if (!is_alloc && after) {
    by_base_.erase(addr);
  }
}

std::string EventPrinter::Hex(uint64_t v) {
  char buf[24];
  snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
  return buf;
}

std::string EventPrinter::KeyHex(uint64_t key) {
  char buf[24];
  snprintf(buf, sizeof(buf), "%016" PRIx64, key);
  return buf;
}

std::string EventPrinter::JsonString(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c >= 0x7f) {
          char buf[8];
          snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string EventPrinter::NcclVersion(int code) {
  if (code <= 0) return "not loaded";
  return std::to_string(code / 10000) + "." + std::to_string(code % 10000 / 100) + "." +
         std::to_string(code % 100);
}

std::string EventPrinter::CudaVersion(int code) {
  if (code <= 0) return "unknown";
  return std::to_string(code / 1000) + "." + std::to_string(code % 1000 / 10);
}

std::string EventPrinter::FunctionName(const ApiCall& call) {
  if (const Message* m = CallArgs(call)) return m->GetDescriptor()->options().GetExtension(c_name);
  return "unknown#" + std::to_string(call.fn_case());
}

std::string EventPrinter::ResultName(const ApiCall& call) {
  const Message* m = CallArgs(call);
  const std::string enum_name = m ? m->GetDescriptor()->options().GetExtension(result_enum) : "";
  if (enum_name.empty()) return std::to_string(call.result());
  return EnumName(FindEnum(enum_name), static_cast<int>(call.result()));
}

std::string EventPrinter::AllocationOf(uint64_t addr, uint64_t* id, uint64_t* offset) const {
  if (!allocations_.Find(addr, id, offset)) return "";
  return "alloc" + std::to_string(*id) + "+" + Hex(*offset);
}

void EventPrinter::BeforePrint(const Event& event) {
  // Number handles in order of appearance even for events not printed.
  if (event.has_kernels()) handles_.Number("stream", event.kernels().stream());
  if (!event.has_call()) return;
  allocations_.Before(event.call());
  handles_.Observe(event.call());
}

void EventPrinter::AfterPrint(const Event& event) {
  if (event.has_call()) allocations_.After(event.call());
}

void EventPrinter::Observe(const Event& event) {
  BeforePrint(event);
  AfterPrint(event);
}

// The call a thread is inside: its function's name and what the in-flight table says of it
// (the communicator it acts on; a creation's nranks, a split's color).
std::pair<std::string, std::pair<std::string, std::string>> EventPrinter::EnterParts(
    const CallEnter& enter) {
  const FieldDescriptor* f = ApiCall::descriptor()->FindFieldByNumber(
      static_cast<int>(ApiCallField(static_cast<FunctionId>(enter.fn()))));
  const auto* d = f ? f->message_type() : nullptr;
  std::string name =
      d ? d->options().GetExtension(c_name) : "function#" + std::to_string(enter.fn());
  if (enter.comm_handle()) return {name, {"comm", handles_.Name("comm", enter.comm_handle())}};
  if (d && d->options().GetExtension(category) == "comm_create" && enter.detail())
    return {name,
            {d->FindFieldByName("color") ? "color" : "nranks", std::to_string(enter.detail())}};
  return {name, {}};
}

// "ncclAllReduce(comm=comm1)", "ncclCommInitRank(nranks=4)".
std::string EventPrinter::EnterText(const CallEnter& enter) {
  const auto [name, arg] = EnterParts(enter);
  return name + "(" + (arg.first.empty() ? "" : arg.first + "=" + arg.second) + ")";
}

std::string EventPrinter::TextValue(const FieldDescriptor* f, const ArgValue& v) {
  if (auto number = PlainNumber(v)) return *number;
  const auto kind = f->options().GetExtension(arg_kind);
  switch (v.type) {
    case FieldDescriptor::CPPTYPE_ENUM:
      return EnumName(f->enum_type(), static_cast<int>(v.i));
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64:
      if (kind == ARG_HANDLE) return handles_.Name(f->options().GetExtension(handle_family), v.u);
      if (kind == ARG_POINTER) {
        if (v.u == 0) return "NULL";
        uint64_t id, off;
        std::string a = AllocationOf(v.u, &id, &off);
        return a.empty() ? Hex(v.u) : a;
      }
      if (kind == ARG_FUNCTION || kind == ARG_FLAGS) return Hex(v.u);
      return std::to_string(v.u);
    case FieldDescriptor::CPPTYPE_STRING:
      if (kind == ARG_STRING) return JsonString(v.bytes);
      return "<" + std::to_string(v.bytes.size()) + " bytes " + HexBytes(v.bytes, 8) + ">";
    case FieldDescriptor::CPPTYPE_MESSAGE:
      if (!v.sub) return "NULL";
      if (const auto* dim = dynamic_cast<const Dim3*>(v.sub))
        return "(" + std::to_string(dim->x()) + "," + std::to_string(dim->y()) + "," +
               std::to_string(dim->z()) + ")";
      return "{" + v.sub->ShortDebugString() + "}";
    default:
      return "?";
  }
}

std::string EventPrinter::JsonValue(const FieldDescriptor* f, const ArgValue& v) {
  if (auto number = PlainNumber(v)) return *number;
  const auto kind = f->options().GetExtension(arg_kind);
  switch (v.type) {
    case FieldDescriptor::CPPTYPE_ENUM:
      return JsonString(EnumName(f->enum_type(), static_cast<int>(v.i)));
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64: {
      if (kind == ARG_HANDLE)
        return "{\"handle\":" +
               JsonString(handles_.Name(f->options().GetExtension(handle_family), v.u)) +
               ",\"value\":" + JsonString(Hex(v.u)) + "}";
      if (kind != ARG_POINTER && kind != ARG_FUNCTION) return std::to_string(v.u);
      uint64_t id = 0, off = 0;
      std::string out = "{\"addr\":" + JsonString(Hex(v.u));
      if (kind == ARG_POINTER && !AllocationOf(v.u, &id, &off).empty())
        out += ",\"alloc\":" + std::to_string(id) + ",\"offset\":" + std::to_string(off);
      return out + "}";
    }
    case FieldDescriptor::CPPTYPE_STRING:
      return JsonString(kind == ARG_STRING ? v.bytes : HexBytes(v.bytes));
    case FieldDescriptor::CPPTYPE_MESSAGE:
      if (!v.sub) return "null";
      if (const auto* dim = dynamic_cast<const Dim3*>(v.sub))
        return "[" + std::to_string(dim->x()) + "," + std::to_string(dim->y()) + "," +
               std::to_string(dim->z()) + "]";
      return JsonString(v.sub->ShortDebugString());
    default:
      return "null";
  }
}

std::string EventPrinter::CallText(const ApiCall& call) {
  const Message* m = CallArgs(call);
  if (!m) return "unknown call #" + std::to_string(call.fn_case()) + " (newer ddrr?)";
  std::string s = m->GetDescriptor()->options().GetExtension(c_name) + "(";
  s += JoinArgs(
      *m, ", ",
      [](const FieldDescriptor* f) {
        std::string prefix = f->options().GetExtension(out) ? "*" : "";  // out-arguments
        return prefix.append(f->name()).append("=");
      },
      [this](const FieldDescriptor* f, const ArgValue& v) { return TextValue(f, v); });
  s += ")";
  // Functions that return text (ncclGetErrorString) have no result code to show.
  if (!m->GetDescriptor()->options().GetExtension(result_enum).empty())
    s += " = " + ResultName(call);
  if (call.comm_key())
    s += "  [comm " + KeyHex(call.comm_key()) +
         (call.op_seq() ? " op " + std::to_string(call.op_seq()) : "") + "]";
  if (call.group_depth()) s += " [group " + std::to_string(call.group_depth()) + "]";
  if (call.graph_captured()) s += " [graph capture]";
  if (call.duration_ns()) s += " " + Duration(call.duration_ns());
  return s;
}

std::string EventPrinter::TextBody(const Event& event, const EventPosition& pos) {
  std::string s = "[" + std::to_string(rank_) + "] #" + std::to_string(pos.seq) + " " +
                  Seconds(pos.time_ns) + " T" + std::to_string(event.thread()) + " ";
  switch (event.body_case()) {
    case Event::kCall:
      return s + CallText(event.call());
    case Event::kCompletion: {
      const auto& c = event.completion();
      s += "completion of #" + std::to_string(c.call_seq()) + " [comm " + KeyHex(c.comm_key()) +
           " op " + std::to_string(c.op_seq()) + "]";
      if (c.error()) s += " error " + std::to_string(c.error());
      return s;
    }
    case Event::kMark:
      return s + "mark " + JsonString(event.mark().label()) + " step " +
             std::to_string(event.mark().step());
    case Event::kRng:
      return s + "rng " + JsonString(event.rng().name()) + " " +
             std::to_string(event.rng().state().size()) + " bytes " +
             HexBytes(event.rng().state(), 16);
    case Event::kEntropy:
      return s + "entropy " + EntropyName(event.entropy().source()) + " " +
             std::to_string(event.entropy().data().size()) + " bytes " +
             HexBytes(event.entropy().data(), 16);
    case Event::kDigest: {
      const auto& d = event.digest();
      s += "digest of #" + std::to_string(d.call_seq()) + " " + RoleName(d.role()) + " " +
           KeyHex(d.value()) + " (" + std::to_string(d.bytes()) + " bytes)";
      if (d.nan_count()) s += " nan=" + std::to_string(d.nan_count());
      if (d.inf_count()) s += " inf=" + std::to_string(d.inf_count());
      return s;
    }
    case Event::kPayload: {
      const auto& p = event.payload();
      return s + "payload of #" + std::to_string(p.call_seq()) + " " + RoleName(p.role()) + " " +
             KeyHex(p.content_hash()) + " (" + std::to_string(p.bytes()) + " bytes)";
    }
    case Event::kKernels:
      return s + "kernels " + handles_.Name("stream", event.kernels().stream()) + " count " +
             std::to_string(event.kernels().count());
    case Event::kThreadName:
      return s + "thread name " + JsonString(event.thread_name().name()) + " tid " +
             std::to_string(event.thread_name().os_tid());
    case Event::kNote:
      return s + "note " + JsonString(event.note().text()) +
             (event.note().dropped_events()
                  ? " dropped " + std::to_string(event.note().dropped_events())
                  : "");
    case Event::kEnter:
      return s + "inside " + EnterText(event.enter()) + " (not returned when last read)";
    case Event::BODY_NOT_SET:
      break;
  }
  return s + "unknown event (newer ddrr?)";
}

std::string EventPrinter::CallJson(const ApiCall& call) {
  std::string s = "\"fn\":" + JsonString(FunctionName(call)) +
                  ",\"result\":" + std::to_string(call.result()) +
                  ",\"result_name\":" + JsonString(ResultName(call)) +
                  ",\"duration_ns\":" + std::to_string(call.duration_ns());
  if (call.comm_key())
    s += ",\"comm_key\":" + JsonString(KeyHex(call.comm_key())) +
         ",\"op_seq\":" + std::to_string(call.op_seq());
  if (call.group_depth()) s += ",\"group_depth\":" + std::to_string(call.group_depth());
  if (call.graph_captured()) s += ",\"graph_captured\":true";
  if (call.call_depth()) s += ",\"call_depth\":" + std::to_string(call.call_depth());
  if (call.created_nranks())
    s += ",\"created_nranks\":" + std::to_string(call.created_nranks()) +
         ",\"created_rank\":" + std::to_string(call.created_rank());
  const Message* m = CallArgs(call);
  if (!m) return s;
  s += ",\"args\":{";
  s += JoinArgs(
      *m, ",", [](const FieldDescriptor* f) { return JsonString(f->name()) + ":"; },
      [this](const FieldDescriptor* f, const ArgValue& v) { return JsonValue(f, v); });
  return s + "}";
}

std::string EventPrinter::JsonBody(const Event& event, const EventPosition& pos) {
  std::string s = "{\"rank\":" + std::to_string(rank_) + ",\"seq\":" + std::to_string(pos.seq) +
                  ",\"time_ns\":" + std::to_string(pos.time_ns) +
                  ",\"thread\":" + std::to_string(event.thread()) + ",";
  switch (event.body_case()) {
    case Event::kCall:
      return s + "\"type\":\"call\"," + CallJson(event.call()) + "}";
    case Event::kCompletion: {
      const auto& c = event.completion();
      return s + "\"type\":\"completion\",\"call_seq\":" + std::to_string(c.call_seq()) +
             ",\"comm_key\":" + JsonString(KeyHex(c.comm_key())) +
             ",\"op_seq\":" + std::to_string(c.op_seq()) +
             ",\"observed_delta_ns\":" + std::to_string(c.observed_delta_ns()) +
             ",\"error\":" + std::to_string(c.error()) + "}";
    }
    case Event::kMark:
      return s + "\"type\":\"mark\",\"label\":" + JsonString(event.mark().label()) +
             ",\"step\":" + std::to_string(event.mark().step()) + "}";
    case Event::kRng:
      return s + "\"type\":\"rng\",\"name\":" + JsonString(event.rng().name()) +
             ",\"state\":" + JsonString(HexBytes(event.rng().state())) + "}";
    case Event::kEntropy:
      return s + "\"type\":\"entropy\",\"source\":" +
             JsonString(EntropyName(event.entropy().source())) +
             ",\"flags\":" + std::to_string(event.entropy().flags()) +
             ",\"data\":" + JsonString(HexBytes(event.entropy().data())) + "}";
    case Event::kDigest: {
      const auto& d = event.digest();
      return s + "\"type\":\"digest\",\"call_seq\":" + std::to_string(d.call_seq()) +
             ",\"role\":" + JsonString(RoleName(d.role())) +
             ",\"value\":" + JsonString(KeyHex(d.value())) +
             ",\"bytes\":" + std::to_string(d.bytes()) +
             ",\"nan_count\":" + std::to_string(d.nan_count()) +
             ",\"inf_count\":" + std::to_string(d.inf_count()) + "}";
    }
    case Event::kPayload: {
      const auto& p = event.payload();
      return s + "\"type\":\"payload\",\"call_seq\":" + std::to_string(p.call_seq()) +
             ",\"role\":" + JsonString(RoleName(p.role())) +
             ",\"content_hash\":" + JsonString(KeyHex(p.content_hash())) +
             ",\"bytes\":" + std::to_string(p.bytes()) + "}";
    }
    case Event::kKernels:
      return s + "\"type\":\"kernels\",\"stream\":" +
             JsonString(handles_.Name("stream", event.kernels().stream())) +
             ",\"count\":" + std::to_string(event.kernels().count()) + "}";
    case Event::kThreadName:
      return s + "\"type\":\"thread_name\",\"name\":" + JsonString(event.thread_name().name()) +
             ",\"os_tid\":" + std::to_string(event.thread_name().os_tid()) + "}";
    case Event::kNote:
      return s + "\"type\":\"note\",\"text\":" + JsonString(event.note().text()) +
             ",\"dropped_events\":" + std::to_string(event.note().dropped_events()) + "}";
    case Event::kEnter: {
      const auto [name, arg] = EnterParts(event.enter());
      s += "\"type\":\"enter\",\"fn\":" + JsonString(name);
      if (arg.first == "comm") s += ",\"comm\":" + JsonString(arg.second);
      if (!arg.first.empty() && arg.first != "comm") s += ",\"" + arg.first + "\":" + arg.second;
      return s + "}";
    }
    case Event::BODY_NOT_SET:
      break;
  }
  return s + "\"type\":\"unknown\"}";
}

std::string EventPrinter::Text(const Event& event, const EventPosition& pos) {
  BeforePrint(event);
  std::string line = TextBody(event, pos);
  AfterPrint(event);
  return line;
}

std::string EventPrinter::Json(const Event& event, const EventPosition& pos) {
  BeforePrint(event);
  std::string line = JsonBody(event, pos);
  AfterPrint(event);
  return line;
}

}  // namespace ddrr::trace
