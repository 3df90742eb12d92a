#include "replay/report.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>

#include "analysis/finding.h"
#include "trace/event_printer.h"

namespace ddrr::replay {
namespace {

using trace::EventPrinter;

std::string Fixed(double v, int digits) {
  char buf[48];
  snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

std::string Bytes(uint64_t b) {
  if (b >= (1ull << 30)) return std::to_string(b >> 30) + " GiB";
  if (b >= (1ull << 20)) return std::to_string(b >> 20) + " MiB";
  if (b >= (1ull << 10)) return std::to_string(b >> 10) + " KiB";
  return std::to_string(b) + " B";
}

uint64_t Count(const ReplayReport& r, uint64_t RankLog::*field) {
  uint64_t n = 0;
  for (const RankLog& l : r.logs) n += l.*field;
  return n;
}

std::string Array(const std::vector<std::string>& items) {
  std::string s = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) s += ',';
    s += EventPrinter::JsonString(items[i]);
  }
  return s + "]";
}

// Who waited where when the replay was stopped, one line.
std::string HangText(const ReplayReport& r) {
  std::vector<std::string> parts;
  std::vector<int64_t> at_end;
  for (const RankSnapshot& s : r.snapshot) {
    if (s.hung)
      parts.push_back("rank " + std::to_string(s.rank) + " hung in " + s.call);
    else if (s.waiting)
      parts.push_back("rank " + std::to_string(s.rank) + " waits in " + s.call + " (for " +
                      Fixed(s.seconds, 1) + " s)");
    if (s.at_end) at_end.push_back(s.rank);
  }
  if (!at_end.empty())
    parts.push_back(analysis::RanksWord(at_end) +
                    " never came: stopped where its recording stops, as its "
                    "process did");
  std::string s;
  for (const std::string& p : parts) {
    if (!s.empty()) s += "; ";
    s += p;
  }
  return s;
}

}  // namespace

std::string ReportText(const ReplayReport& r) {
  const Verdict& v = r.verdict;
  std::string s;
  const RankVerdict* first = nullptr;
  for (const RankVerdict& rv : v.ranks)
    if (rv.diverged && !first) first = &rv;
  if (r.reproduced()) {
    s += "reproduced: " + std::to_string(v.ranks.size()) + " rank(s) replayed on " + r.placement +
         " behaved as recorded";
    bool hung = false;
    for (const RankVerdict& rv : v.ranks) hung |= rv.hung;
    s += hung ? ", hang included\n" : "\n";
  } else {
    s += "diverged: ";
    if (first)
      s += "rank " + std::to_string(first->rank) + ": " + first->difference + "\n";
    else if (!v.findings_agree)
      s += "the replay's findings differ from the recording's\n";
    else if (r.data_wrong())
      s += "collectives returned wrong data\n";
    else
      s += "calls could not be replayed\n";
  }
  for (const RankVerdict& rv : v.ranks) {
    if (!rv.diverged) continue;
    s += "  rank " + std::to_string(rv.rank) + ": " + rv.difference + "\n";
    s += "    recorded " + rv.recorded_call + "\n";
    s += "    replayed " + rv.replayed_call + "\n";
  }
  if (r.stopped) {
    s += std::string(r.hang ? "hang: " : "stopped: ") + HangText(r) + "\n";
    for (const RankVerdict& rv : v.ranks)
      if (rv.hung && !rv.hung_call.empty())
        s += "  rank " + std::to_string(rv.rank) + " hung in " + rv.hung_call + "\n";
  }
  if (!v.recorded_finding.empty() || !v.replayed_finding.empty()) {
    s +=
        std::string("findings: ") + (v.findings_agree ? "the same first problem" : "differ") + "\n";
    s += "  recording: " + (v.recorded_finding.empty() ? "no error" : v.recorded_finding) + "\n";
    s += "  replay:    " + (v.replayed_finding.empty() ? "no error" : v.replayed_finding) + "\n";
  }
  const uint64_t checked = Count(r, &RankLog::checked), wrong = Count(r, &RankLog::wrong),
                 unchecked = Count(r, &RankLog::unchecked);
  if (checked || wrong || unchecked)
    s += "data: " + std::to_string(checked) + " output(s) checked element by element, " +
         std::to_string(wrong) + " wrong, " + std::to_string(unchecked) + " op(s) not checked\n";
  for (const RankLog& l : r.logs) {
    for (const std::string& m : l.mismatches)
      s += "  rank " + std::to_string(l.rank) + " wrong data: " + m + "\n";
    for (const std::string& u : l.unresolved)
      s += "  rank " + std::to_string(l.rank) + " could not replay #" + u + "\n";
    for (const std::string& e : l.errors)
      s += "  rank " + std::to_string(l.rank) + " failed: " + e + "\n";
  }
  for (const std::string& n : r.notes) s += "note: " + n + "\n";
  if (!v.timing.empty()) {
    s += "timing, median per op in us (call: inside the call; done: until its completion was "
         "seen):\n";
    char line[200];
    snprintf(line, sizeof(line), "  %-18s %9s %8s %10s %10s %10s %10s\n", "op", "bytes", "ops",
             "rec call", "rep call", "rec done", "rep done");
    s += line;
    for (const TimingRow& t : v.timing) {
      snprintf(line, sizeof(line), "  %-18s %9s %8" PRIu64 " %10.1f %10.1f %10.1f %10.1f\n",
               t.fn.c_str(), Bytes(t.bytes).c_str(), t.recorded_ops, t.recorded_call_us,
               t.replayed_call_us, t.recorded_done_us, t.replayed_done_us);
      s += line;
    }
  }
  s += "wall time: recorded " + Fixed(r.recorded_seconds, 2) + " s, replayed " +
       Fixed(r.replay_seconds, 2) + " s\n";
  if (r.output_kept)
    s += "replay run: " + r.output + " (compare: ddrr diff <recording> " + r.output + ")\n";
  return s;
}

std::string ReportJson(const ReplayReport& r) {
  const Verdict& v = r.verdict;
  std::string s =
      "{\"verdict\":" + EventPrinter::JsonString(r.reproduced() ? "reproduced" : "diverged");
  s += ",\"placement\":" + EventPrinter::JsonString(r.placement) + ",\"ranks\":[";
  for (size_t i = 0; i < v.ranks.size(); ++i) {
    const RankVerdict& rv = v.ranks[i];
    if (i) s += ',';
    s += "{\"rank\":" + std::to_string(rv.rank) +
         ",\"diverged\":" + (rv.diverged ? "true" : "false") +
         ",\"compared\":" + std::to_string(rv.compared) +
         ",\"hung\":" + (rv.hung ? "true" : "false");
    if (rv.diverged)
      s += ",\"difference\":" + EventPrinter::JsonString(rv.difference) +
           ",\"recorded_call\":" + EventPrinter::JsonString(rv.recorded_call) +
           ",\"replayed_call\":" + EventPrinter::JsonString(rv.replayed_call);
    if (rv.hung) s += ",\"hung_call\":" + EventPrinter::JsonString(rv.hung_call);
    s += "}";
  }
  s += "],\"findings\":{\"agree\":" + std::string(v.findings_agree ? "true" : "false") +
       ",\"recorded\":" + EventPrinter::JsonString(v.recorded_finding) +
       ",\"replayed\":" + EventPrinter::JsonString(v.replayed_finding) + "}";
  s += ",\"stopped\":" + std::string(r.stopped ? "true" : "false") +
       ",\"hang\":" + (r.hang ? "true" : "false") + ",\"waiting\":[";
  bool comma = false;
  for (const RankSnapshot& w : r.snapshot) {
    if (!w.waiting && !w.at_end) continue;
    if (comma) s += ',';
    s += "{\"rank\":" + std::to_string(w.rank) + ",\"state\":" + EventPrinter::JsonString(w.state) +
         ",\"call\":" + EventPrinter::JsonString(w.call) + ",\"seconds\":" + Fixed(w.seconds, 3) +
         "}";
    comma = true;
  }
  s += "],\"data\":{\"checked\":" + std::to_string(Count(r, &RankLog::checked)) +
       ",\"wrong\":" + std::to_string(Count(r, &RankLog::wrong)) +
       ",\"unchecked\":" + std::to_string(Count(r, &RankLog::unchecked)) + ",\"mismatches\":[";
  comma = false;
  for (const RankLog& l : r.logs)
    for (const std::string& m : l.mismatches) {
      if (comma) s += ',';
      s += EventPrinter::JsonString("rank " + std::to_string(l.rank) + " " + m);
      comma = true;
    }
  std::vector<std::string> unresolved;
  for (const RankLog& l : r.logs)
    for (const std::string& u : l.unresolved)
      unresolved.push_back("rank " + std::to_string(l.rank) + " #" + u);
  s += "]},\"unresolved\":" + Array(unresolved) + ",\"timing\":[";
  for (size_t i = 0; i < v.timing.size(); ++i) {
    const TimingRow& t = v.timing[i];
    if (i) s += ',';
    s += "{\"fn\":" + EventPrinter::JsonString(t.fn) + ",\"bytes\":" + std::to_string(t.bytes) +
         ",\"recorded_ops\":" + std::to_string(t.recorded_ops) +
         ",\"replayed_ops\":" + std::to_string(t.replayed_ops) +
         ",\"recorded_call_us\":" + Fixed(t.recorded_call_us, 3) +
         ",\"replayed_call_us\":" + Fixed(t.replayed_call_us, 3) +
         ",\"recorded_done_us\":" + Fixed(t.recorded_done_us, 3) +
         ",\"replayed_done_us\":" + Fixed(t.replayed_done_us, 3) + "}";
  }
  s += "],\"notes\":" + Array(r.notes) + ",\"damage\":" + Array(r.damage) +
       ",\"recorded_seconds\":" + Fixed(r.recorded_seconds, 3) +
       ",\"replay_seconds\":" + Fixed(r.replay_seconds, 3) +
       ",\"replayed_calls\":" + std::to_string(r.replayed_calls) +
       ",\"output\":" + EventPrinter::JsonString(r.output) +
       ",\"output_kept\":" + (r.output_kept ? "true" : "false") + "}";
  return s;
}

}  // namespace ddrr::replay
