#include "analysis/run_model.h"

#include <set>
#include <string>
#include <vector>

#include "analysis/finding.h"

namespace ddrr::analysis {

const RankScan* RunModel::Scan(int64_t rank) const { return FindScan(scans, rank); }

StatusOr<std::unique_ptr<RunModel>> ModelRun(trace::Run& run, const std::string& temp_dir,
                                             bool calls_in_flight, ScanObserver* observer) {
  auto m = std::make_unique<RunModel>();
  DDRR_ASSIGN_OR_RETURN(m->store, OpStore::Create(temp_dir));
  m->world_complete = run.MissingRanks().empty();
  m->world_size = static_cast<int64_t>(run.world_size());
  for (trace::RankEntry& e : run.ranks()) {
    if (!e.reader) {
      m->world_complete = false;
      continue;
    }
    DDRR_ASSIGN_OR_RETURN(RankScan scan, ScanRank(e, *m->store, calls_in_flight, observer));
    if (scan.late_digests)
      m->notes.push_back(scan.file + ": " + std::to_string(scan.late_digests) +
                         " digest(s) came too long after their call to be checked");
    m->scans.push_back(std::move(scan));
  }
  // A rank file read alone (or a run whose files do not cover the world) is not every rank.
  std::set<int64_t> ranks_read;
  for (const RankScan& s : m->scans) ranks_read.insert(s.rank);
  if (static_cast<int64_t>(ranks_read.size()) < m->world_size) m->world_complete = false;
  m->comms = std::make_unique<CommModel>(m->scans);
  return m;
}

std::string StillRunning(const trace::Run& run) {
  constexpr size_t kNamed = 4;  // processes named; the rest are "..."
  std::vector<int64_t> ranks;
  std::string pids, held;
  for (const trace::RankEntry& e : run.ranks()) {
    const bool live = e.reader && e.reader->still_running();
    if (e.spool_path.empty() && !live) continue;
    ranks.push_back(e.rank);
    if (ranks.size() > kNamed) continue;
    std::string& list = live ? pids : held;
    list += (list.empty() ? "" : ", ") +
            (live ? std::to_string(e.reader->header().pid()) : e.spool_path);
  }
  if (ranks.empty()) return "";
  std::string which = pids.empty() ? "" : "pid " + pids;
  if (!held.empty()) which += (which.empty() ? "" : "; ") + held + " held";
  return std::string(ranks.size() == 1 ? "rank " : "ranks ") + RankRanges(ranks, ",") +
         (ranks.size() == 1 ? " is" : " are") + " still running (" + which +
         (ranks.size() > kNamed ? ", ..." : "") + ")";
}

}  // namespace ddrr::analysis
