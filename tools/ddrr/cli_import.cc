// ddrr import PATH... -o RUN: a run directory from what a job left without ddrr (NCCL debug
// logs, PyTorch Flight Recorder dumps, watchdog messages), for check, info, dump and export to read
// (docs/IMPORT.md).
#include <cstdio>

#include "cli_common.h"
#include "import/import.h"

namespace ddrr::cli {
namespace {

class ImportCommand : public Command {
 public:
  ImportCommand()
      : Command({
            .name = "import",
            .description =
                "Write a run from the logs of a job not recorded with ddrr\n"
                "\n"
                "Reads NCCL debug logs (NCCL_DEBUG=INFO NCCL_DEBUG_SUBSYS=INIT,COLL; one file per "
                "rank or all ranks in one), PyTorch Flight Recorder dumps (pickle, read without "
                "executing it, or JSON) or ProcessGroupNCCL watchdog timeout messages (alone or "
                "inside an NCCL log) and writes a run directory that check, info, dump, export and "
                "report read like a recording. Every rank file's header says the source and what "
                "it lacks (docs/IMPORT.md).",
            .exit_status = "0 written, 2 input error (one line naming the file).",
            .examples = {"ddrr import logs/rank*.log -o run1 && ddrr check run1",
                         "ddrr import fr_dumps/rank_* -o run2 --format fr"},
        }) {}

 private:
  void AddOptions(CLI::App& sub) override {
    sub.add_option("PATH", options_.paths, "Input files (one per rank, or all ranks in one)")
        ->required();
    sub.add_option("-o,--output", options_.out_dir, "Run directory to write")->required();
    sub.add_option("--format", options_.format,
                   "Input format: fr (Flight Recorder), nccl-log, watchdog (timeout messages), or "
                   "auto (by content)")
        ->check(CLI::IsMember({"auto", "fr", "nccl-log", "watchdog"}))
        ->default_str("auto");
    sub.add_option("--world-size", options_.world_size, "Ranks in the job")
        ->default_str("the largest communicator's size");
  }

  int Run() override {
    auto result = import::Import(options_);
    if (!result.ok()) return Fail(result.status());
    printf("imported %s: %u rank file(s), world size %u, %llu entries from %llu lines -> %s\n",
           result->format.c_str(), result->ranks, result->world_size,
           static_cast<unsigned long long>(result->entries),
           static_cast<unsigned long long>(result->lines), options_.out_dir.c_str());
    for (const std::string& n : result->notes) printf("  note: %s\n", n.c_str());
    return kExitOk;
  }

  import::ImportOptions options_;
};

}  // namespace

std::unique_ptr<Command> MakeImportCommand() { return std::make_unique<ImportCommand>(); }

}  // namespace ddrr::cli
