// ddrr export RUN [-o FILE] [--format perfetto|json]: the run's timeline for trace viewers
// (src/export/timeline.h, docs/EXPORT.md). Exit 0 written, 2 input or output error.
#include <cstdio>
#include <filesystem>

#include "cli_common.h"
#include "export/timeline.h"

namespace ddrr::cli {
namespace {

class ExportCommand : public Command {
 public:
  ExportCommand()
      : Command({
            .name = "export",
            .description =
                "Write the run's timeline for Perfetto or Chrome trace viewers\n"
                "\n"
                "A process per rank; a track per recorded thread with every call as a slice; a "
                "track per stream with each collective and send/recv from start to completion; "
                "flows linking a collective across ranks and each send to its receive; marks and "
                "findings of `ddrr check` as instants; kernel launches and bytes per communicator "
                "as counters. Open it at https://ui.perfetto.dev (docs/EXPORT.md).",
            .exit_status = "0 written, 2 input or output error.",
            .examples = {"ddrr export run1", "ddrr export run1 --format json -o run1.json"},
        }) {}

 private:
  void AddOptions(CLI::App& sub) override {
    AddRunArgument(sub, &run_path_);
    sub.add_option("-o,--output", output_, "Output file")
        ->default_str("<run>.perfetto-trace, or <run>.json");
    sub.add_option("--format", format_, "perfetto (native protobuf) or json (Chrome trace events)")
        ->check(CLI::IsMember({"perfetto", "json"}));
  }

  int Run() override {
    timeline::Format format = timeline::Format::kPerfetto;
    timeline::ParseFormat(format_, &format);
    std::optional<trace::Run> run;
    if (int rc = OpenReadableRun(run_path_, &run)) return rc;
    if (output_.empty()) {
      std::string stem = std::filesystem::path(run_path_).lexically_normal().filename().string();
      if (stem.empty() || stem == ".")
        stem = std::filesystem::path(run_path_).lexically_normal().parent_path().filename();
      if (stem.empty()) stem = "run";
      output_ = stem + (format == timeline::Format::kJson ? ".json" : ".perfetto-trace");
    }
    RemoveIfKilled(timeline::PartialPath(output_));  // no half-written timeline left behind
    auto stats = timeline::ExportTimeline(*run, format, output_);
    if (!stats.ok()) return Fail(stats.status());
    printf(
        "wrote %s: %llu rank(s), %llu tracks, %llu slices (%llu linked across ranks), %llu "
        "instants, %llu counter values, %.1f MiB\n",
        output_.c_str(), static_cast<unsigned long long>(stats->ranks),
        static_cast<unsigned long long>(stats->tracks),
        static_cast<unsigned long long>(stats->slices),
        static_cast<unsigned long long>(stats->flow_slices),
        static_cast<unsigned long long>(stats->instants),
        static_cast<unsigned long long>(stats->counters), stats->bytes / 1048576.0);
    printf("open it at https://ui.perfetto.dev (or with trace_processor for large traces)\n");
    return kExitOk;
  }

  std::string run_path_;
  std::string output_;
  std::string format_ = "perfetto";
};

}  // namespace

std::unique_ptr<Command> MakeExportCommand() { return std::make_unique<ExportCommand>(); }

}  // namespace ddrr::cli
