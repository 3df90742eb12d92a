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
  uint64_t bytes = 0;  // written
  uint64_t payload_frames_dropped = 0;
  uint64_t payload_bytes_dropped = 0;
  std::set<std::string> redacted_env;  // names whose values were replaced
};

// Writes the bundle copy of rank file `in` to `out`. `names` is shared by every file of the
// bundle, so one host has one pseudonym throughout.
StatusOr<CopyResult> CopyRankFile(const std::string& in, const std::string& out,
                                  const RedactOptions& redact, bool keep_payloads,
                                  report::Pseudonyms& names);

}  // namespace ddrr::bundle
