// The environment that puts the recorder into a job, for `ddrr record` and for a replay that
// records itself: one place decides how the recorder is preloaded and how a run is named.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace ddrr::launch {

using EnvList = std::vector<std::pair<std::string, std::string>>;

// LD_PRELOAD (the recorder `library` ahead of whatever this process preloads), DDRR_OUT
// (`out_dir`), DDRR_LEVEL (`level`) and DDRR_RUN_ID, fresh for each call (16 hex digits).
EnvList RecorderEnv(const std::string& library, const std::string& out_dir,
                    const std::string& level);

}  // namespace ddrr::launch
