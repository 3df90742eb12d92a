#include "analysis/check.h"

#include <algorithm>

#include "analysis/check_context.h"
#include "analysis/collective_checks.h"
#include "analysis/comm_model.h"
#include "analysis/data_checks.h"
#include "analysis/failure_checks.h"
#include "analysis/op_store.h"
#include "analysis/p2p_pairing.h"
#include "analysis/rank_scan.h"
#include "analysis/setup_checks.h"
#include "analysis/stragglers.h"

namespace ddrr::analysis {

StatusOr<CheckResult> CheckRun(trace::Run& run, const CheckOptions& options) {
  DDRR_ASSIGN_OR_RETURN(std::unique_ptr<OpStore> store, OpStore::Create(options.temp_dir));
  CheckResult result;
  std::vector<RankScan> scans;
  bool complete = run.MissingRanks().empty();
  for (trace::RankEntry& e : run.ranks()) {
    if (!e.reader) {
      complete = false;
      continue;
    }
    DDRR_ASSIGN_OR_RETURN(RankScan scan, ScanRank(e, *store));
    result.stats.events += scan.events;
    for (const MemberFacts& m : scan.members) result.stats.ops += m.collectives + m.p2p;
    if (scan.late_digests)
      result.notes.push_back(scan.file + ": " + std::to_string(scan.late_digests) +
                             " digest(s) came too long after their call to be checked");
    scans.push_back(std::move(scan));
  }
  result.stats.ranks = scans.size();
  const CommModel model(scans);
  result.stats.communicators = model.comms().size();
  if (options.comm_filter) result.comm_found = model.Find(options.comm_filter) != nullptr;

  CheckContext ctx{.scans = scans,
                   .model = model,
                   .store = *store,
                   .world_complete = complete,
                   .world_size = static_cast<int64_t>(run.world_size()),
                   .out = result.findings,
                   .notes = result.notes};
  CheckSetup(ctx);
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
  result.stats.spilled_bytes = store->bytes_written();

  if (options.comm_filter)
    result.findings.erase(
        std::remove_if(result.findings.begin(), result.findings.end(),
                       [&](const Finding& f) { return f.comm_key != options.comm_filter; }),
        result.findings.end());
  SortFindings(result.findings);
  return result;
}

}  // namespace ddrr::analysis
