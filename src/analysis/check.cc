#include "analysis/check.h"

#include <algorithm>

#include "analysis/check_context.h"
#include "analysis/collective_checks.h"
#include "analysis/comm_model.h"
#include "analysis/data_checks.h"
#include "analysis/failure_checks.h"
#include "analysis/hang_checks.h"
#include "analysis/op_store.h"
#include "analysis/p2p_pairing.h"
#include "analysis/rank_scan.h"
#include "analysis/run_model.h"
#include "analysis/setup_checks.h"
#include "analysis/stragglers.h"

namespace ddrr::analysis {

StatusOr<CheckResult> CheckRun(trace::Run& run, const CheckOptions& options) {
  DDRR_ASSIGN_OR_RETURN(std::unique_ptr<RunModel> model, ModelRun(run, options.temp_dir));
  return CheckModel(*model, options);
}

StatusOr<CheckResult> CheckModel(RunModel& run, const CheckOptions& options) {
  CheckResult result;
  result.notes = run.notes;
  for (const RankScan& scan : run.scans) {
    result.stats.events += scan.events;
    for (const MemberFacts& m : scan.members) result.stats.ops += m.collectives + m.p2p;
  }
  result.stats.ranks = run.scans.size();
  const CommModel& model = *run.comms;
  result.stats.communicators = model.comms().size();
  if (options.comm_filter) result.comm_found = model.Find(options.comm_filter) != nullptr;

  CheckContext ctx{.scans = run.scans,
                   .model = model,
                   .store = *run.store,
                   .world_complete = run.world_complete,
                   .world_size = run.world_size,
                   .out = result.findings,
                   .notes = result.notes};
  CheckSetup(ctx);
  CheckSetupHangs(ctx);
  DataChecker data(ctx);
  StragglerTracker stragglers(ctx);
  const std::vector<PositionObserver*> observers = {&data, &stragglers};
  for (const auto& [key, c] : model.comms()) {
    if (options.comm_filter && key != options.comm_filter) continue;
    DDRR_RETURN_IF_ERROR(CheckCollectives(ctx, c, observers));
    DDRR_RETURN_IF_ERROR(CheckP2p(ctx, c));
  }
  data.Finish();
  stragglers.Finish();
  CheckFailures(ctx);
  ChainWaits(ctx, result.findings);
  result.stats.spilled_bytes = run.store->bytes_written();

  if (options.comm_filter)
    result.findings.erase(
        std::remove_if(result.findings.begin(), result.findings.end(),
                       [&](const Finding& f) { return f.comm_key != options.comm_filter; }),
        result.findings.end());
  SortFindings(result.findings);
  return result;
}

}  // namespace ddrr::analysis
