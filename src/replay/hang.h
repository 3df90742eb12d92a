// When a call hung rather than failed: it blocked for (nearly) as long as its run let a rank wait
// for its peers, then failed. emu fails such a call with ncclRemoteError after DDRR_EMU_TIMEOUT
// (its default when unset); a replay rank after the replay's --timeout. The plan, the replay
// ranks and the verdict must judge alike.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "ddrr/trace.pb.h"

namespace ddrr::replay {

inline constexpr double kHungShare = 0.9;
inline constexpr double kDefaultEmuTimeout = 300;

// Seconds the recorded run let a rank wait for its peers (the DDRR_EMU_TIMEOUT it ran with).
inline double RunTimeout(const trace::Header& header) {
  auto it = header.env().find("DDRR_EMU_TIMEOUT");
  if (it != header.env().end()) {
    char* end = nullptr;
    const double v = strtod(it->second.c_str(), &end);
    if (*end == '\0' && v > 0) return v;
  }
  return kDefaultEmuTimeout;
}

// When a wait of `seconds` (the replay's --timeout) gives up.
inline std::chrono::steady_clock::time_point DeadlineAfter(double seconds) {
  return std::chrono::steady_clock::now() +
         std::chrono::duration_cast<std::chrono::steady_clock::duration>(
             std::chrono::duration<double>(seconds));
}

inline bool BlockedUntilTimeout(uint64_t duration_ns, double timeout_seconds) {
  return static_cast<double>(duration_ns) >= kHungShare * timeout_seconds * 1e9;
}

}  // namespace ddrr::replay
