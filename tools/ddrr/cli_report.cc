// ddrr report RUN: the run as GitHub-flavoured Markdown to paste into a bug report
// (src/report/markdown_report.h, docs/BUNDLES.md). Exit 0 written, 2 input error.
#include <algorithm>
#include <cstdio>

#include "analysis/check.h"
#include "cli_common.h"
#include "report/markdown_report.h"

namespace ddrr::cli {
namespace {

class ReportCommand : public Command {
 public:
  ReportCommand()
      : Command({
            .name = "report",
            .description =
                "Print the run as Markdown for a bug report\n"
                "\n"
                "GitHub-flavoured Markdown: what ran, versions, the NCCL_/CUDA_/TORCH_ environment "
                "(values of secret-looking names redacted), how each rank ended, the findings of "
                "`ddrr check` with their evidence, the first NCCL error per rank, the commands to "
                "reproduce. Ranks that say the same thing share one line (docs/BUNDLES.md).",
            .exit_status = "0 written, 2 input error.",
            .examples = {"ddrr report run1 -o report.md"},
        }) {}

 private:
  void AddOptions(CLI::App& sub) override {
    AddRunArgument(sub, &run_path_);
    sub.add_option("-o,--output", output_, "Write to this file")->default_str("standard output");
    sub.add_option("--max-findings", max_findings_, "Findings shown in full")
        ->check(CLI::PositiveNumber);
  }

  int Run() override {
    std::optional<trace::Run> run;
    std::unique_ptr<analysis::RunModel> model;
    if (int rc = OpenModeledRun(run_path_, &run, &model)) return rc;
    auto checked = analysis::CheckModel(*model);
    if (!checked.ok()) return Fail(checked.status());
    report::ReportOptions o;
    o.run_name = run_path_;
    o.max_findings = max_findings_;
    const std::string md = report::MarkdownReport(*run, *model, *checked, o);
    if (output_.empty()) {
      fwrite(md.data(), 1, md.size(), stdout);
      return kExitOk;
    }
    FILE* f = fopen(output_.c_str(), "w");
    if (!f || fwrite(md.data(), 1, md.size(), f) != md.size() || fclose(f) != 0)
      return Fail("cannot write " + output_ + ", give -o a path in a writable directory");
    printf("wrote %s (%zu lines)\n", output_.c_str(),
           static_cast<size_t>(std::count(md.begin(), md.end(), '\n')));
    return kExitOk;
  }

  std::string run_path_;
  std::string output_;
  size_t max_findings_ = 20;
};

}  // namespace

std::unique_ptr<Command> MakeReportCommand() { return std::make_unique<ReportCommand>(); }

}  // namespace ddrr::cli
