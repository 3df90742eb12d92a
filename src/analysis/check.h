// CheckRun: the cross-rank checks behind `ddrr check`. Every communicator is aligned across
// ranks by its job-wide key (ApiCall.comm_key) and per-rank operation number
// (ApiCall.op_seq), and the ranks' disagreements become findings (finding.h), sorted root
// causes first. Works on incomplete runs: ranks without a readable file are simply absent.
#pragma once

#include <vector>

#include "analysis/finding.h"
#include "trace/run.h"

namespace ddrr::analysis {

std::vector<Finding> CheckRun(trace::Run& run);

}  // namespace ddrr::analysis
