// ddrr check RUN: aligns every communicator across ranks and reports where the ranks disagree
// (src/analysis/check.h), root causes first. Exit 0 clean, 1 findings, 2 input error; problems
// reading the run are notes, since checking an incomplete run is the point.
#include <cinttypes>
#include <cstdio>

#include "analysis/check.h"
#include "cli_common.h"
#include "trace/event_printer.h"
#include "trace/run.h"

namespace ddrr::cli {
namespace {

using analysis::Finding;
using analysis::RankCall;
using trace::EventPrinter;

std::string CallJson(const RankCall& rc) {
  std::string s =
      "{\"rank\":" + std::to_string(rc.rank) + ",\"last_op\":" + std::to_string(rc.last_op);
  if (!rc.note.empty()) s += ",\"note\":" + EventPrinter::JsonString(rc.note);
  if (rc.has_call) {
    const auto& c = rc.call;
    s += ",\"seq\":" + std::to_string(c.seq) + ",\"fn\":" + EventPrinter::JsonString(c.fn) +
         ",\"op_seq\":" + std::to_string(c.op_seq);
    if (c.has_count) s += ",\"count\":" + std::to_string(c.count);
    if (!c.datatype.empty()) s += ",\"datatype\":" + EventPrinter::JsonString(c.datatype);
    if (!c.op.empty()) s += ",\"op\":" + EventPrinter::JsonString(c.op);
    if (c.has_root) s += ",\"root\":" + std::to_string(c.root);
    if (c.has_peer) s += ",\"peer\":" + std::to_string(c.peer);
    s += ",\"result\":" + std::to_string(c.result) +
         ",\"result_name\":" + EventPrinter::JsonString(c.result_name);
  }
  return s + "}";
}

std::string FindingJson(const Finding& f) {
  std::string s = "{\"kind\":" + EventPrinter::JsonString(analysis::KindName(f.kind)) +
                  ",\"severity\":" + EventPrinter::JsonString(analysis::SeverityName(f.severity)) +
                  ",\"comm_key\":" +
                  (f.comm_key ? EventPrinter::JsonString(EventPrinter::KeyHex(f.comm_key))
                              : std::string("null")) +
                  ",\"comm_size\":" + std::to_string(f.comm_size) +
                  ",\"op_seq\":" + std::to_string(f.op_seq) + ",\"ranks\":[";
  for (size_t i = 0; i < f.ranks.size(); ++i) s += (i ? "," : "") + std::to_string(f.ranks[i]);
  s += "],\"message\":" + EventPrinter::JsonString(f.message) + ",\"calls\":[";
  for (size_t i = 0; i < f.calls.size(); ++i) s += (i ? "," : "") + CallJson(f.calls[i]);
  return s + "]}";
}

void PrintText(const Finding& f) {
  printf("%s comm %s", analysis::KindName(f.kind),
         f.comm_key ? EventPrinter::KeyHex(f.comm_key).c_str() : "-");
  if (f.comm_size > 0) printf(" (size %" PRId64 ")", f.comm_size);
  printf(" op %" PRIu64 ": %s\n", f.op_seq, f.message.c_str());
  for (const RankCall& rc : f.calls) {
    printf("    rank %" PRId64 ": ", rc.rank);
    if (rc.has_call)
      printf("#%" PRIu64 " %s = %s", rc.call.seq, rc.call.Describe().c_str(),
             rc.call.result_name.c_str());
    else
      printf("no call");
    printf("; last op %" PRIu64, rc.last_op);
    if (!rc.note.empty()) printf(" [%s]", rc.note.c_str());
    printf("\n");
  }
}

class CheckCommand : public Command {
 public:
  CLI::App* Register(CLI::App& app) override {
    auto* sub = app.add_subcommand("check",
                                   "Align communicators across ranks and report mismatched "
                                   "collectives, missing participants, NCCL errors");
    sub->add_option("RUN", run_path_, "Run directory or rank-N.ddrr file")->required();
    sub->add_flag("--json", json_, "One JSON object per finding, one per line");
    sub->add_option("--max-findings", max_findings_, "Report at most N findings (0: all)")
        ->check(CLI::NonNegativeNumber);
    return sub;
  }

  int Run() override {
    auto run = OpenRun(run_path_);
    if (!run.ok()) return Fail(run.status());
    // With no readable rank there is nothing to align: that is an input error, not "clean".
    bool readable = false;
    for (const auto& e : run->ranks()) readable |= e.reader != nullptr;
    if (!readable) {
      for (const auto& p : run->Problems())
        fprintf(stderr, "ddrr: note: %s\n", p.ToString().c_str());
      return Fail("no readable rank file in " + run_path_);
    }
    const std::vector<analysis::Finding> findings = analysis::CheckRun(*run);
    // Read problems are context for the findings, not findings: they go to stderr so the JSON
    // on stdout stays one finding per line.
    std::vector<trace::TraceProblem> problems = run->Problems();
    for (const auto& e : run->ranks())
      if (e.reader)
        problems.insert(problems.end(), e.reader->problems().begin(), e.reader->problems().end());
    for (const auto& p : problems) fprintf(stderr, "ddrr: note: %s\n", p.ToString().c_str());
    const size_t shown =
        max_findings_ ? std::min<size_t>(max_findings_, findings.size()) : findings.size();
    for (size_t i = 0; i < shown; ++i) {
      if (json_)
        printf("%s\n", FindingJson(findings[i]).c_str());
      else
        PrintText(findings[i]);
    }
    if (!json_) {
      if (findings.empty())
        printf("no findings in %zu rank file(s)\n", run->ranks().size());
      else if (shown < findings.size())
        printf("... %zu more finding(s) not shown (--max-findings %zu)\n", findings.size() - shown,
               max_findings_);
    }
    return findings.empty() ? kExitOk : kExitFindings;
  }

 private:
  std::string run_path_;
  bool json_ = false;
  size_t max_findings_ = 0;
};

}  // namespace

std::unique_ptr<Command> MakeCheckCommand() { return std::make_unique<CheckCommand>(); }

}  // namespace ddrr::cli
