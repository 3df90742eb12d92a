// How `ddrr check` prints findings: a human report (one header line per finding, then one line
// per rank involved and the evidence) and JSON lines (one object per finding; the schema is in
// docs/CHECK.md and only grows: keys are never renamed or removed).
#pragma once

#include <string>

#include "analysis/finding.h"

namespace ddrr::analysis {

// Several lines, each ending in '\n'.
std::string FindingText(const Finding& f);
// One line, no trailing newline.
std::string FindingJson(const Finding& f);

}  // namespace ddrr::analysis
