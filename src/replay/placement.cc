#include "replay/placement.h"

#include <stdlib.h>

#include <algorithm>
#include <cstdint>

#include "launch/installed.h"

namespace ddrr::replay {

StatusOr<std::string> PlaceRanks(bool host, int ranks_per_gpu, const char* argv0,
                                 launch::LaunchOptions* lo) {
  std::string placement;
  if (host) {
    auto dir = launch::FindHostRuntimeDir(argv0);
    if (!dir.ok()) return dir.status();
    lo->host_runtime = true;
    lo->hostrt_dir = *dir;
    placement = "ddrr's host runtime (emu, no GPU)";
  } else if (ranks_per_gpu > 0) {
    auto dir = launch::FindEmuNcclDir(argv0);
    if (!dir.ok()) return dir.status();
    lo->emu_dir = *dir;
    placement = std::to_string(ranks_per_gpu) + " ranks per GPU (emu over the CUDA runtime)";
  } else {
    placement = "one rank per GPU (the machine's NCCL)";
  }
  if (ranks_per_gpu > 0) {
    auto lib = launch::FindGpushareLibrary(argv0);
    if (!lib.ok()) return lib.status();
    lo->ranks_per_gpu = ranks_per_gpu;
    lo->gpushare_lib = *lib;
    if (host) placement += ", " + std::to_string(ranks_per_gpu) + " ranks per device";
  }
  return placement;
}

std::string TempDir(const std::string& prefix) {
  const char* base = getenv("TMPDIR");
  std::string t = std::string(base && *base ? base : "/tmp") + "/" + prefix + "XXXXXX";
  if (mkdtemp(t.data()) == nullptr) return "";
  return t;
}

double RecordedSeconds(const analysis::RunModel& model) {
  int64_t first = 0, last = 0;
  for (const analysis::RankScan& s : model.scans) {
    if (!first || s.start_unix_ns < first) first = s.start_unix_ns;
    last = std::max(last, s.start_unix_ns + static_cast<int64_t>(s.last_time_ns));
  }
  return last > first ? static_cast<double>(last - first) * 1e-9 : 0;
}

}  // namespace ddrr::replay
