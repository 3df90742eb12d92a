// MarkdownReport: a run as GitHub-flavoured Markdown to paste into a bug report (ddrr report,
// report.md in a bundle; docs/BUNDLES.md): what ran, versions and GPUs, the NCCL_ / CUDA_ /
// TORCH_ environment (secret-looking values redacted), how each rank ended, the findings of
// `ddrr check` with their evidence folded in <details>, the first NCCL failure per rank, and the
// commands that reproduce it. Ranks that say the same thing are one line ("ranks 0-511,
// 513-1023: ..."), so a thousand-rank run reads in a minute.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analysis/check.h"
#include "analysis/run_model.h"
#include "report/redaction.h"
#include "trace/run.h"

namespace ddrr::report {

struct ReportOptions {
  std::string run_name;              // how the commands name the run (its path, or the bundle's)
  size_t max_findings = 20;          // findings shown in full; the rest are counted
  Pseudonyms* pseudonyms = nullptr;  // non-null: hosts, user paths and arguments pseudonymised
  bool redact_hosts = false, redact_paths = false, redact_cmdline = false;
};

// `check` is CheckModel's result on `model`, the scan of `run`.
std::string MarkdownReport(const trace::Run& run, const analysis::RunModel& model,
                           const analysis::CheckResult& check, const ReportOptions& options);

using analysis::RankRanges;  // "0-511, 513-1023"

}  // namespace ddrr::report
