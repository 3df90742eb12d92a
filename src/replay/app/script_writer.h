// Compiles one recorded rank into the replay script its program is replayed against
// (script_format.h): the reader side of application replay, inside the CLI.
//
// Each recorded call becomes a ScriptCall with its arguments as `ddrr dump` numbers them, and a
// mode from its function's `app` kind in api_spec.py: calls that reach a rank that does not run
// (communicators with a member outside `running`) are served from the recording, with the data
// the recording received; calls that failed when recorded are never re-executed.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "analysis/run_model.h"
#include "common/status.h"
#include "trace/run.h"

namespace ddrr::replay::app {

struct ScriptSummary {
  uint64_t calls = 0;
  uint64_t served = 0;           // calls answered from the recording
  uint64_t missing_outputs = 0;  // served calls whose data was not recorded (payload window)
  uint64_t entropy = 0, rng_states = 0;
  uint32_t threads = 0;
  int32_t capture_level = 0;  // trace::CaptureLevel of the rank
};

struct ScriptOptions {
  std::set<int64_t> running;  // every rank the replay starts
  uint32_t slot = 0;          // the rank's slot in the progress table
  // The program resumes at this step from its own checkpoint: the script starts at the rank's
  // first mark of the step, and only communicator setup before it is matched.
  std::optional<int64_t> resume_step;
};

// Writes rank `rank` of `run` to `path`. Fails on a rank the run does not have or cannot read, a
// resume step the rank never marked, or an unwritable `path`.
StatusOr<ScriptSummary> WriteScript(trace::Run& run, const analysis::RunModel& model, int64_t rank,
                                    const ScriptOptions& options, const std::string& path);

}  // namespace ddrr::replay::app
