// CopyRankFile: a rank file as it goes into a bundle. The header is rewritten (environment
// values of secret-looking names replaced, and on request host, user paths and arguments
// pseudonymised); event frames are copied byte for byte; payload frames are left out unless
// asked for; the footer's frame index is rebased onto the new offsets. The original file is
// only read.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "common/status.h"
#include "report/redaction.h"

namespace ddrr::bundle {

struct RedactOptions {
  bool hosts = false;    // the header's host -> "host-N"
  bool paths = false;    // user paths in argv and environment values -> "path-N"
  bool cmdline = false;  // argv[1..] -> "arg-N"
};

struct CopyResult {
  uint64_t bytes = 0;                        // written
  uint64_t events_kept = 0, events_cut = 0;  // CopyRankFileSteps
  uint64_t window_marks = 0;                 // CopyRankFileSteps: marks of the window's steps
  uint64_t payload_frames_dropped = 0;
  uint64_t payload_bytes_dropped = 0;
  std::set<std::string> redacted_env;  // names whose values were replaced
};

// Writes the bundle copy of rank file `in` to `out`. `names` is shared by every file of the
// bundle, so one host has one pseudonym throughout.
StatusOr<CopyResult> CopyRankFile(const std::string& in, const std::string& out,
                                  const RedactOptions& redact, bool keep_payloads,
                                  report::Pseudonyms& names);

// The steps `first`..`last` of the ranks' marks (ddrr_mark): a step runs from its mark to the
// next mark.
struct StepWindow {
  int64_t first = 0, last = 0;
};

// Like CopyRankFile, but keeps only the events a reader needs for the window: everything before
// the first mark (setup: communicators, threads, RNG states), the window's events, the calls
// that create or end communicators before and after it, and after it the completions, digests
// and payload references of calls kept. Thread names are always kept. The events are written
// anew (frames of the window only); the footer says how the rank ended, as the original's did.
StatusOr<CopyResult> CopyRankFileSteps(const std::string& in, const std::string& out,
                                       const RedactOptions& redact, bool keep_payloads,
                                       report::Pseudonyms& names, const StepWindow& window);

}  // namespace ddrr::bundle
