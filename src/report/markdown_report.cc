#include "report/markdown_report.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "analysis/report.h"
#include "trace/event_printer.h"

namespace ddrr::report {
namespace {

using analysis::Finding;
using analysis::RankScan;
using trace::EventPrinter;

constexpr size_t kEvidenceLines = 24;  // per finding, in its <details>

// Values keyed by what they say, each with the ranks that say it: one line per distinct value.
class Grouped {
 public:
  void Add(const std::string& value, int64_t rank) { groups_[value].push_back(rank); }
  bool empty() const { return groups_.empty(); }
  size_t size() const { return groups_.size(); }
  // Largest group first.
  std::vector<std::pair<std::string, std::vector<int64_t>>> Sorted() const {
    std::vector<std::pair<std::string, std::vector<int64_t>>> v(groups_.begin(), groups_.end());
    std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
      return a.second.size() > b.second.size();
    });
    return v;
  }
  // "2.28.9" when every rank agrees, else "2.28.9 (ranks 0-3), 2.27.1 (rank 4)".
  std::string Line(size_t ranks) const {
    std::string s;
    for (const auto& [value, who] : Sorted()) {
      if (!s.empty()) s += "; ";
      s += value;
      if (size() > 1 || who.size() != ranks) s += " (" + Who(who) + ")";
    }
    return s;
  }
  static std::string Who(const std::vector<int64_t>& ranks) {
    return (ranks.size() == 1 ? "rank " : "ranks ") + RankRanges(ranks);
  }

 private:
  std::map<std::string, std::vector<int64_t>> groups_;
};

// Markdown table cells: no pipes, no newlines.
std::string Cell(std::string s) {
  for (char& c : s)
    if (c == '|' || c == '\n') c = ' ';
  return s;
}

std::string Launcher(const trace::Header& h) {
  const auto& env = h.env();
  if (env.count("TORCHELASTIC_RUN_ID") || env.count("TORCHELASTIC_RESTART_COUNT"))
    return "torchrun";
  if (env.count("OMPI_COMM_WORLD_RANK")) return "mpirun (Open MPI)";
  if (env.count("SLURM_PROCID")) return "srun (Slurm)";
  if (env.count("PMI_RANK")) return "a PMI launcher (MPICH, Hydra)";
  if (env.count("RANK")) return "RANK/WORLD_SIZE variables (torchrun-style, or ddrr run)";
  return h.rank_source().empty() ? "unknown" : "rank from " + h.rank_source();
}

bool Reported(const std::string& name) {
  return name.rfind("NCCL_", 0) == 0 || name.rfind("CUDA_", 0) == 0 || name.rfind("TORCH_", 0) == 0;
}

// How a rank ended and where it stopped: "exited cleanly; last op 6 of comm 5eed...
// (ncclAllReduce)".
std::string Ending(const RankScan& s) {
  std::string end = s.ended.empty() ? "exited cleanly" : s.ended;
  const analysis::MemberFacts* last = nullptr;
  for (const analysis::MemberFacts& m : s.members)
    if (m.last_op && (!last || m.last_record.time_ns > last->last_record.time_ns)) last = &m;
  if (last)
    end += "; last op " + std::to_string(last->last_op) + " of comm " +
           EventPrinter::KeyHex(last->comm_key) + " (" +
           analysis::FunctionName(last->last_record.fn) + ")";
  for (const analysis::Incident& i : s.not_completed)
    end += "; " + std::to_string(i.count) + " op(s) never completed, from op " +
           std::to_string(i.call.op_seq);
  return end;
}

// The first failed NCCL call of a rank (synchronous or asynchronous), if any.
std::string FirstNcclFailure(const RankScan& s) {
  const analysis::Incident* first = nullptr;
  for (const auto* list : {&s.nccl_errors, &s.async_errors})
    for (const analysis::Incident& i : *list)
      if (!first || i.call.time_ns < first->call.time_ns) first = &i;
  if (!first) return "";
  std::string text = first->call.Describe() + " returned " + first->call.result_name;
  if (!first->what.empty()) text += " (" + first->what + ")";
  if (first->call.op_seq) text += ", op " + std::to_string(first->call.op_seq);
  if (first->count > 1) text += ", " + std::to_string(first->count) + " times";
  return text;
}

// Long comma lists of numbers ("0,1,2,3,...,1023", as check's messages name ranks) become ranges
// ("0-511, 513-1023"); short lists stay as they are.
std::string CompactLists(const std::string& text) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    if (!isdigit(static_cast<unsigned char>(text[i])) ||
        (i > 0 && (isalnum(static_cast<unsigned char>(text[i - 1])) || text[i - 1] == '#'))) {
      out += text[i++];
      continue;
    }
    std::vector<int64_t> numbers;
    size_t j = i, end = i;
    while (j < text.size() && isdigit(static_cast<unsigned char>(text[j]))) {
      size_t k = j;
      while (k < text.size() && isdigit(static_cast<unsigned char>(text[k]))) ++k;
      numbers.push_back(std::stoll(text.substr(j, std::min<size_t>(k - j, 18))));
      end = k;
      if (k + 1 < text.size() && text[k] == ',' && isdigit(static_cast<unsigned char>(text[k + 1])))
        j = k + 1;
      else
        break;
    }
    out += numbers.size() >= 8 ? RankRanges(numbers) : text.substr(i, end - i);
    i = end;
  }
  return out;
}

}  // namespace

std::string MarkdownReport(const trace::Run& run, const analysis::RunModel& model,
                           const analysis::CheckResult& check, const ReportOptions& o) {
  Pseudonyms local;
  Pseudonyms& names = o.pseudonyms ? *o.pseudonyms : local;
  auto host = [&](const std::string& h) { return o.redact_hosts ? names.Host(h) : h; };
  auto paths = [&](const std::string& t) { return o.redact_paths ? names.Paths(t) : t; };

  const trace::Header* first = nullptr;
  std::set<std::string> hosts;
  Grouped nccl, runtime, driver, ddrr_version, level;
  std::map<std::string, Grouped> env;
  std::map<std::string, std::set<std::string>> gpus;  // name -> bus ids
  size_t readable = 0;
  for (const auto& e : run.ranks()) {
    if (!e.reader) continue;
    const trace::Header& h = e.reader->header();
    if (!first || h.rank() == 0) first = &h;
    ++readable;
    hosts.insert(h.host());
    nccl.Add(EventPrinter::NcclVersion(h.nccl_version()), h.rank());
    runtime.Add(EventPrinter::CudaVersion(h.cuda_runtime_version()), h.rank());
    driver.Add(EventPrinter::CudaVersion(h.cuda_driver_version()), h.rank());
    ddrr_version.Add(h.ddrr_version().empty() ? "unknown" : h.ddrr_version(), h.rank());
    static const char* kLevels[] = {"metadata", "digests", "payloads"};
    const int l = h.capture().level();
    level.Add(l >= 0 && l <= 2 ? kLevels[l] : "unknown", h.rank());
    for (const auto& [name, value] : h.env())
      if (Reported(name))
        env[name].Add(IsSecretName(name) ? std::string(kRedacted) : paths(value), h.rank());
    for (const auto& d : h.devices())
      gpus[d.name().empty() ? "unknown device" : d.name()].insert(
          host(h.host()) + " " + (d.pci_bus_id().empty() ? "?" : d.pci_bus_id()));
  }

  std::string md = "# ddrr report: `" + o.run_name + "`\n\n";
  // What ran.
  std::string cmd;
  if (first) {
    for (int i = 0; i < first->argv_size(); ++i) {
      std::string a = first->argv(i);
      if (o.redact_cmdline && i > 0) a = names.Arg(a);
      cmd += (cmd.empty() ? "" : " ") + paths(a);
    }
  }
  md += "## What ran\n\n";
  md += "| | |\n|---|---|\n";
  md += "| command (rank " + std::to_string(first ? first->rank() : 0) + ") | `" +
        Cell(cmd.empty() ? "unknown" : cmd) + "` |\n";
  md += "| world size | " + std::to_string(run.world_size()) + " (" + std::to_string(readable) +
        " readable rank files of " + std::to_string(run.ranks().size()) + ") |\n";
  md += "| hosts | " + std::to_string(hosts.size()) + " |\n";
  md += "| launcher | " + (first ? Launcher(*first) : std::string("unknown")) + " |\n";
  if (first && !first->run_id().empty()) md += "| run id | `" + Cell(first->run_id()) + "` |\n";
  md += "| capture level | " + level.Line(readable) + " |\n";
  md += "| communicators | " + std::to_string(model.comms->comms().size()) + " |\n\n";

  md += "## Versions\n\n| | |\n|---|---|\n";
  md += "| NCCL | " + nccl.Line(readable) + " |\n";
  md += "| CUDA runtime | " + runtime.Line(readable) + " |\n";
  md += "| CUDA driver | " + driver.Line(readable) + " |\n";
  md += "| ddrr (recorder) | " + ddrr_version.Line(readable) + " |\n";
  for (const auto& [name, ids] : gpus) {
    std::string list;
    size_t shown = 0;
    for (const std::string& id : ids) {
      if (++shown > 8) {
        list += ", ... " + std::to_string(ids.size() - 8) + " more";
        break;
      }
      list += (list.empty() ? "" : ", ") + id;
    }
    md += "| GPU " + Cell(name) + " | " + std::to_string(ids.size()) + " (" + Cell(list) + ") |\n";
  }
  md += "\n";

  md += "## Environment\n\n";
  if (env.empty()) {
    md += "No `NCCL_*`, `CUDA_*` or `TORCH_*` variables were set.\n\n";
  } else {
    md +=
        "`NCCL_*`, `CUDA_*` and `TORCH_*` variables (values of secret-looking names "
        "redacted).\n\n| variable | value |\n|---|---|\n";
    for (const auto& [name, values] : env)
      md += "| `" + name + "` | " + Cell(values.Line(readable)) + " |\n";
    md += "\n";
  }
  // NCCL maintainers ask for NCCL's own log; say how to get it when the run did not have it.
  auto debug = env.find("NCCL_DEBUG");
  if (debug == env.end() ||
      (debug->second.Line(readable) != "INFO" && debug->second.Line(readable) != "TRACE"))
    md +=
        "NCCL's own log was not at `INFO`: to attach it, run again with `NCCL_DEBUG=INFO "
        "NCCL_DEBUG_FILE=ncclDebug.%h.%p` (one file per process).\n\n";

  md += "## How each rank ended\n\n";
  Grouped endings;
  for (const RankScan& s : model.scans) endings.Add(Ending(s), s.rank);
  for (const auto& [text, who] : endings.Sorted())
    md += "- " + Grouped::Who(who) + ": " + text + "\n";
  std::vector<int64_t> missing;
  for (uint32_t r : run.MissingRanks()) missing.push_back(r);
  if (!missing.empty()) md += "- " + Grouped::Who(missing) + ": no rank file\n";
  md += "\n";

  md += "## Findings of `ddrr check`\n\n";
  const auto& findings = check.findings;
  if (findings.empty()) md += "No findings.\n\n";
  size_t errors = 0, warnings = 0;
  for (const Finding& f : findings) {
    errors += f.severity == analysis::Severity::kError;
    warnings += f.severity == analysis::Severity::kWarning;
  }
  if (!findings.empty())
    md += std::to_string(findings.size()) + " finding(s): " + std::to_string(errors) +
          " error(s), " + std::to_string(warnings) + " warning(s), " +
          std::to_string(findings.size() - errors - warnings) + " info, root causes first.\n\n";
  for (size_t i = 0; i < findings.size() && i < o.max_findings; ++i) {
    const Finding& f = findings[i];
    md += std::to_string(i + 1) + ". **" + analysis::SeverityName(f.severity) + " `" +
          analysis::KindName(f.kind) + "`** (" + Grouped::Who(f.ranks) +
          "): " + CompactLists(paths(f.message)) + "\n";
    md += "   <details><summary>evidence</summary>\n\n   ```\n";
    // The evidence as `ddrr check` prints it, cut at kEvidenceLines lines.
    const std::string text = CompactLists(paths(analysis::FindingText(f)));
    size_t at = 0, lines = 0;
    while (at < text.size()) {
      const size_t nl = text.find('\n', at);
      if (++lines <= kEvidenceLines) md += "   " + text.substr(at, nl - at) + "\n";
      at = nl == std::string::npos ? text.size() : nl + 1;
    }
    if (lines > kEvidenceLines)
      md += "   ... " + std::to_string(lines - kEvidenceLines) + " more lines: `ddrr check " +
            o.run_name + "`\n";
    md += "   ```\n   </details>\n";
  }
  if (findings.size() > o.max_findings)
    md += "\n... " + std::to_string(findings.size() - o.max_findings) + " more: `ddrr check " +
          o.run_name + "` lists them all.\n";
  if (!check.notes.empty()) {
    md += "\nNotes:\n";
    for (const std::string& n : check.notes) md += "- " + paths(n) + "\n";
  }
  md += "\n";

  md += "## First NCCL error per rank\n\n";
  Grouped failures;
  for (const RankScan& s : model.scans) {
    const std::string f = FirstNcclFailure(s);
    if (!f.empty()) failures.Add(f, s.rank);
  }
  if (failures.empty()) md += "No NCCL call failed.\n";
  for (const auto& [text, who] : failures.Sorted())
    md += "- " + Grouped::Who(who) + ": " + text + "\n";
  md += "\n";

  md += "## Reproduce\n\n```\n";
  md += "ddrr info " + o.run_name + "\n";
  md += "ddrr check " + o.run_name + "\n";
  md += "ddrr replay " + o.run_name + " --host      # comm replay on ddrr's host runtime, no GPU\n";
  md += "ddrr export " + o.run_name + "             # timeline for ui.perfetto.dev\n";
  md += "```\n";
  return md;
}

}  // namespace ddrr::report
