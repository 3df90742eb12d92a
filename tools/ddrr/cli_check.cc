// ddrr check RUN: aligns every communicator across ranks and reports where the ranks disagree
// (src/analysis/check.h, docs/CHECK.md), root causes first. Exit 0 clean, 1 findings, 2 input
// error; problems reading the run are notes, since checking an incomplete run is the point.
#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "analysis/check.h"
#include "analysis/report.h"
#include "cli_common.h"
#include "trace/run.h"

namespace ddrr::cli {
namespace {

class CheckCommand : public Command {
 public:
  CheckCommand()
      : Command({
            .name = "check",
            .description =
                "Diagnose a run: mismatched calls, missing ranks, hangs, errors, NaN\n"
                "\n"
                "Lines up every communicator across its members and reports, root causes first: "
                "communicator setup mistakes, ranks that disagree (mismatched collectives, "
                "unmatched send/recv), ranks that stopped first (missing participants, hangs: who "
                "waits in which call, who never came), failures with the first to fail marked, "
                "data (NaN entry, divergence, from digests), then ops not completed and "
                "stragglers. Each finding names its communicator, op, blamed ranks and evidence. "
                "Ranks still running are read up to now. Every kind of finding: docs/CHECK.md.",
            .exit_status =
                "0 no findings (stragglers alone are informational), 1 findings, 2 input error. "
                "Memory is bounded by the number of ranks, not the length of the run (ops are "
                "spilled to a temporary file in $TMPDIR).",
            .examples = {"ddrr check run1", "ddrr check run1 --json --max-findings 10"},
        }) {}

 private:
  void AddOptions(CLI::App& sub) override {
    AddRunArgument(sub, &run_path_);
    sub.add_flag("--json", json_, "One JSON object per finding, one per line (docs/CHECK.md)");
    sub.add_option("--comm", comm_,
                   "Only findings about this communicator (its 16 hex digits, as `ddrr info` "
                   "prints them)")
        ->default_str("every communicator");
    sub.add_option("--max-findings", max_findings_, "Report at most N findings (0: all)")
        ->check(CLI::NonNegativeNumber);
  }

  int Run() override {
    uint64_t comm = 0;
    if (!comm_.empty()) {
      char* end = nullptr;
      comm = strtoull(comm_.c_str(), &end, 16);
      if (comm_.size() > 16 || *end != '\0' || comm == 0)
        return Fail("--comm " + comm_ +
                    " is not a communicator key; give the 16 hex digits `ddrr info` prints");
    }
    // With no readable rank there is nothing to align: that is an input error, not "clean".
    std::optional<trace::Run> run;
    if (int rc = OpenReadableRun(run_path_, &run)) return rc;
    analysis::CheckOptions options;
    options.comm_filter = comm;
    auto result = analysis::CheckRun(*run, options);
    if (!result.ok()) return Fail(result.status());
    // Read problems are context for the findings, not findings: they go to stderr so the JSON
    // on stdout stays one finding per line.
    std::vector<trace::TraceProblem> problems = run->Problems();
    for (const auto& e : run->ranks())
      if (e.reader)
        problems.insert(problems.end(), e.reader->problems().begin(), e.reader->problems().end());
    for (const auto& p : problems) fprintf(stderr, "ddrr: note: %s\n", p.ToString().c_str());
    for (const auto& n : result->notes) fprintf(stderr, "ddrr: note: %s\n", n.c_str());
    if (!result->comm_found)
      return Fail("no communicator " + comm_ + " in " + run_path_ +
                  "; `ddrr info` lists the communicators of a run");
    const auto& findings = result->findings;
    const size_t shown =
        max_findings_ ? std::min<size_t>(max_findings_, findings.size()) : findings.size();
    for (size_t i = 0; i < shown; ++i) {
      if (json_)
        printf("%s\n", analysis::FindingJson(findings[i]).c_str());
      else
        printf("%s", analysis::FindingText(findings[i]).c_str());
    }
    if (!json_) {
      if (findings.empty())
        printf("no findings in %zu rank file(s)\n", run->ranks().size());
      else if (shown < findings.size())
        printf("... %zu more finding(s) not shown (--max-findings %zu)\n", findings.size() - shown,
               max_findings_);
    }
    // Info findings (stragglers) describe timing, which a loaded host perturbs: reported, but a
    // run with nothing else is clean.
    const bool problems_found = std::any_of(
        findings.begin(), findings.end(),
        [](const analysis::Finding& f) { return f.severity != analysis::Severity::kInfo; });
    return problems_found ? kExitFindings : kExitOk;
  }

  std::string run_path_;
  std::string comm_;
  bool json_ = false;
  size_t max_findings_ = 0;
};

}  // namespace

std::unique_ptr<Command> MakeCheckCommand() { return std::make_unique<CheckCommand>(); }

}  // namespace ddrr::cli
