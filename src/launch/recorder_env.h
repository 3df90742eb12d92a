// The environment that puts the recorder into a job, for `ddrr record` and for a replay that
// records itself: one place decides how the recorder is preloaded and how a run is named.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace ddrr::launch {

using EnvList = std::vector<std::pair<std::string, std::string>>;

// Where DDRR_RUN_ID comes from. A job recorded by one `ddrr record` per node (torchrun on each
// node) is one run when every node is given the same DDRR_RUN_ID; a replay is a run of its own.
enum class RunId {
  kInheritOrFresh,  // the DDRR_RUN_ID this process has, else a fresh one
  kFresh,
};

// LD_PRELOAD (the recorder `library` ahead of whatever this process preloads), DDRR_OUT
// (`out_dir`), DDRR_LEVEL (`level`) and DDRR_RUN_ID (a fresh one is 16 hex digits).
EnvList RecorderEnv(const std::string& library, const std::string& out_dir,
                    const std::string& level, RunId run_id = RunId::kInheritOrFresh);

}  // namespace ddrr::launch
