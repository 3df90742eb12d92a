// ddrr merge BUNDLE_OR_RUN... -o RUN: the parts of one job recorded on several nodes, one run
// (src/merge/merge.h, docs/LAUNCHERS.md). Exit 0 merged, 2 input error, 4 the inputs are not
// parts of one job.
#include <cstdio>

#include "cli_common.h"
#include "merge/merge.h"

namespace ddrr::cli {
namespace {

class MergeCommand : public Command {
 public:
  MergeCommand()
      : Command({
            .name = "merge",
            .description =
                "Merge one job's per-node runs or bundles into one run\n"
                "\n"
                "For a job recorded node by node (each node's `ddrr record` writing its own "
                "directory with the same DDRR_RUN_ID): rank files are copied unchanged, named by "
                "the rank in their header; a rank found twice with the same contents is copied "
                "once. Different run ids or world sizes, or two different files for one rank, are "
                "refused and nothing is written (docs/LAUNCHERS.md).",
            .exit_status = "0 merged, 2 input error, 4 the inputs are not parts of one job.",
            .examples = {"ddrr merge node0.tgz node1.tgz -o run1"},
        }) {}

 private:
  void AddOptions(CLI::App& sub) override {
    sub.add_option("INPUT", inputs_, "Run directories, rank files or bundles, one per node")
        ->required();
    sub.add_option("-o,--output", output_, "The merged run directory (new, or empty)")->required();
  }

  int Run() override {
    std::vector<merge::MergeInput> inputs;
    for (const std::string& path : inputs_) {
      auto dir = RunDirectory(path);  // a bundle is extracted, killed ranks' spools salvaged
      if (!dir.ok()) return Fail(dir.status());
      inputs.push_back({path, *dir});
    }
    auto plan = merge::PlanMerge(inputs);
    if (!plan.ok()) return Fail(plan.status());
    if (!plan->conflict.empty()) {
      fprintf(stderr, "ddrr: error: %s; nothing written\n", plan->conflict.c_str());
      return kExitConflict;
    }
    if (Status st = merge::WriteMerge(*plan, output_); !st.ok()) return Fail(st);
    for (const std::string& note : plan->notes) printf("note: %s\n", note.c_str());
    printf("merged %zu rank file(s) of run %s (world size %u) from %zu input(s) into %s\n",
           plan->ranks.size(), plan->run_id.empty() ? "(no id)" : plan->run_id.c_str(),
           plan->world_size, inputs.size(), output_.c_str());
    if (!plan->missing.empty()) {
      std::string list;
      for (uint32_t r : plan->missing) list += (list.empty() ? "" : ",") + std::to_string(r);
      printf("note: rank(s) %s of the world are in no input: merge their node's run too\n",
             list.c_str());
    }
    return kExitOk;
  }

  std::vector<std::string> inputs_;
  std::string output_;
};

}  // namespace

std::unique_ptr<Command> MakeMergeCommand() { return std::make_unique<MergeCommand>(); }

}  // namespace ddrr::cli
