#include "interpose/capture_config.h"

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common/params.h"
#include "common/step_range.h"

namespace ddrr::interpose {
namespace {

CaptureSettings g_settings;
std::atomic<int64_t> g_step{INT64_MIN};

}  // namespace

StatusOr<CaptureSettings> ParseCaptureSettings() {
  CaptureSettings s;
  // The choices of DDRR_LEVEL are the CaptureLevel values in order.
  DDRR_ASSIGN_OR_RETURN(const int level, param::CheckedChoice(param::kLevel));
  s.level = static_cast<CaptureLevel>(level);
  if (const char* steps = param::Raw(param::kPayloadSteps)) {
    if (!ParseStepRange(steps, &s.step_begin, &s.step_end))
      return Status::InvalidArgument(std::string("DDRR_PAYLOAD_STEPS=") + steps +
                                     " is not a step range A-B with 0 <= A <= B");
    s.has_step_window = true;
  }
  DDRR_ASSIGN_OR_RETURN(const int64_t payload_mib, param::CheckedInt(param::kPayloadMb));
  s.payload_budget_bytes = static_cast<uint64_t>(payload_mib) << 20;
  DDRR_ASSIGN_OR_RETURN(const int64_t staging_mib, param::CheckedInt(param::kStagingMb));
  s.staging_bytes = static_cast<uint64_t>(staging_mib) << 20;
  DDRR_ASSIGN_OR_RETURN(const int kernels, param::CheckedChoice(param::kKernels));
  s.kernels_full = kernels == 1;  // count|full
  return s;
}

const CaptureSettings& Capture() { return g_settings; }
void SetCapture(const CaptureSettings& settings) { g_settings = settings; }

int64_t CurrentStep() { return g_step.load(std::memory_order_relaxed); }
void SetCurrentStep(int64_t step) { g_step.store(step, std::memory_order_relaxed); }

}  // namespace ddrr::interpose
