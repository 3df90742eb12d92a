// What this process captures beyond metadata (README "Capture levels"), read once from the
// DDRR_ variables when the session starts:
//   DDRR_LEVEL            metadata | digests | payloads
//   DDRR_PAYLOAD_STEPS    A-B: payloads only while the last ddrr_mark step is in [A, B]
//   DDRR_PAYLOAD_MB       byte budget for payloads of this rank (default 1024)
//   DDRR_STAGING_MB       pinned host memory for buffers in flight to the digester (default 256)
//   DDRR_KERNELS          count (default) | full: every kernel launch recorded as a call
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace ddrr::interpose {

enum class CaptureLevel : int32_t { kMetadata = 0, kDigests = 1, kPayloads = 2 };

struct CaptureSettings {
  CaptureLevel level = CaptureLevel::kMetadata;
  bool has_step_window = false;
  int64_t step_begin = 0, step_end = 0;  // inclusive
  uint64_t payload_budget_bytes = 1024ull << 20;
  uint64_t staging_bytes = 256ull << 20;
  bool kernels_full = false;
};

// Parses the variables; a bad value is an InvalidArgument naming the variable and what it takes.
StatusOr<CaptureSettings> ParseCaptureSettings();

// The settings of the running session (defaults until it has started).
const CaptureSettings& Capture();
void SetCapture(const CaptureSettings& settings);  // once, by the session's start

// The step of the last ddrr_mark() with a step >= 0; INT64_MIN before any.
int64_t CurrentStep();
void SetCurrentStep(int64_t step);

}  // namespace ddrr::interpose
