// How `ddrr replay` prints its report: text whose first line is the verdict (`reproduced` or
// `diverged`), or one JSON object (keys documented in docs/REPLAY.md; they only grow).
#pragma once

#include <string>

#include "replay/session.h"

namespace ddrr::replay {

std::string ReportText(const ReplayReport& report);
std::string ReportJson(const ReplayReport& report);  // one line, no trailing newline

}  // namespace ddrr::replay
