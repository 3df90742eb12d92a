#include "analysis/report.h"

#include "analysis/check_context.h"
#include "trace/event_printer.h"

namespace ddrr::analysis {
namespace {

using trace::EventPrinter;

std::string KeyOrNull(uint64_t key) {
  return key ? EventPrinter::JsonString(Hex16(key)) : std::string("null");
}
std::string IntOrNull(int64_t v) { return v >= 0 ? std::to_string(v) : std::string("null"); }

std::string CallJson(const RankCall& rc) {
  std::string s = "{\"rank\":" + std::to_string(rc.rank) +
                  ",\"comm_rank\":" + IntOrNull(rc.comm_rank) +
                  ",\"last_op\":" + std::to_string(rc.last_op);
  if (!rc.note.empty()) s += ",\"note\":" + EventPrinter::JsonString(rc.note);
  if (rc.has_call) {
    const CallSummary& c = rc.call;
    s += ",\"seq\":" + std::to_string(c.seq) + ",\"fn\":" + EventPrinter::JsonString(c.fn) +
         ",\"op_seq\":" + std::to_string(c.op_seq);
    if (c.has_count) s += ",\"count\":" + std::to_string(c.count);
    if (!c.datatype.empty()) s += ",\"datatype\":" + EventPrinter::JsonString(c.datatype);
    if (!c.op.empty()) s += ",\"op\":" + EventPrinter::JsonString(c.op);
    if (c.has_root) s += ",\"root\":" + std::to_string(c.root);
    if (c.has_peer) s += ",\"peer\":" + std::to_string(c.peer);
    s += ",\"result\":" + std::to_string(c.result) +
         ",\"result_name\":" + EventPrinter::JsonString(c.result_name) +
         ",\"time_unix_ns\":" + std::to_string(c.time_ns);
    if (!c.returned) s += ",\"returned\":false";
  }
  return s + "}";
}

}  // namespace

std::string FindingJson(const Finding& f) {
  std::string s = "{\"kind\":" + EventPrinter::JsonString(KindName(f.kind)) +
                  ",\"severity\":" + EventPrinter::JsonString(SeverityName(f.severity)) +
                  ",\"comm_key\":" + KeyOrNull(f.comm_key) +
                  ",\"comm_size\":" + IntOrNull(f.comm_size) +
                  ",\"parent_key\":" + KeyOrNull(f.parent_key) +
                  ",\"op_seq\":" + std::to_string(f.op_seq) + ",\"ranks\":[" + RankList(f.ranks) +
                  "],\"message\":" + EventPrinter::JsonString(f.message) + ",\"evidence\":[";
  for (size_t i = 0; i < f.evidence.size(); ++i) {
    if (i) s += ',';
    s += EventPrinter::JsonString(f.evidence[i]);
  }
  s += "],\"time_unix_ns\":" + std::to_string(f.time_ns) + ",\"calls\":[";
  for (size_t i = 0; i < f.calls.size(); ++i) {
    if (i) s += ',';
    s += CallJson(f.calls[i]);
  }
  s += "]";
  if (!f.comm_name.empty()) s += ",\"comm_name\":" + EventPrinter::JsonString(f.comm_name);
  return s + "}";
}

std::string FindingText(const Finding& f) {
  std::string s = KindName(f.kind);
  if (f.severity != Severity::kError) s += std::string(" (") + SeverityName(f.severity) + ")";
  s += " comm " + (f.comm_key ? Hex16(f.comm_key) : std::string("-"));
  if (!f.comm_name.empty()) s += " \"" + f.comm_name + "\"";
  if (f.comm_size > 0 || f.parent_key) {
    s += " (";
    if (f.comm_size > 0) s += "size " + std::to_string(f.comm_size);
    if (f.comm_size > 0 && f.parent_key) s += ", ";
    if (f.parent_key) s += "from " + Hex16(f.parent_key);
    s += ")";
  }
  s += " op " + std::to_string(f.op_seq) + ": " + f.message + "\n";
  for (const RankCall& rc : f.calls) {
    s += "    rank " + std::to_string(rc.rank);
    if (rc.comm_rank >= 0 && rc.comm_rank != rc.rank)
      s += " (comm rank " + std::to_string(rc.comm_rank) + ")";
    s += ": ";
    if (rc.has_call) {
      s += '#';
      s += std::to_string(rc.call.seq) + " " + rc.call.Describe() +
           (rc.call.returned ? " = " + rc.call.result_name : " (inside, not returned)");
    } else {
      s += "no call";
    }
    s += "; last op " + std::to_string(rc.last_op);
    if (!rc.note.empty()) s += " [" + rc.note + "]";
    s += "\n";
  }
  for (const std::string& e : f.evidence) s += "      - " + e + "\n";
  return s;
}

}  // namespace ddrr::analysis
