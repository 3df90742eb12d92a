#include "interpose/capture_config.h"

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common/step_range.h"

namespace ddrr::interpose {
namespace {

CaptureSettings g_settings;
std::atomic<int64_t> g_step{INT64_MIN};

const char* Env(const char* name) {
  const char* v = getenv(name);
  return v && *v ? v : nullptr;
}

bool ParseInt(const char* s, int64_t* out) {
  char* end = nullptr;
  errno = 0;
  const long long v = strtoll(s, &end, 10);
  if (end == s || *end != '\0' || errno != 0) return false;
  *out = v;
  return true;
}

Status ParseMiB(const char* name, uint64_t* bytes) {
  const char* v = Env(name);
  if (!v) return Status::Ok();
  int64_t mib = 0;
  if (!ParseInt(v, &mib) || mib < 1 || mib > (1 << 20))
    return Status::InvalidArgument(std::string(name) + "=" + v +
                                   " is not a size in MiB (1..1048576)");
  *bytes = static_cast<uint64_t>(mib) << 20;
  return Status::Ok();
}

}  // namespace

StatusOr<CaptureSettings> ParseCaptureSettings() {
  CaptureSettings s;
  if (const char* level = Env("DDRR_LEVEL")) {
    if (strcmp(level, "metadata") == 0) {
      s.level = CaptureLevel::kMetadata;
    } else if (strcmp(level, "digests") == 0) {
      s.level = CaptureLevel::kDigests;
    } else if (strcmp(level, "payloads") == 0) {
      s.level = CaptureLevel::kPayloads;
    } else {
      return Status::InvalidArgument(std::string("DDRR_LEVEL=") + level +
                                     " is not metadata, digests or payloads");
    }
  }
  if (const char* steps = Env("DDRR_PAYLOAD_STEPS")) {
    if (!ParseStepRange(steps, &s.step_begin, &s.step_end))
      return Status::InvalidArgument(std::string("DDRR_PAYLOAD_STEPS=") + steps +
                                     " is not a step range A-B with 0 <= A <= B");
    s.has_step_window = true;
  }
  DDRR_RETURN_IF_ERROR(ParseMiB("DDRR_PAYLOAD_MB", &s.payload_budget_bytes));
  DDRR_RETURN_IF_ERROR(ParseMiB("DDRR_STAGING_MB", &s.staging_bytes));
  if (const char* k = Env("DDRR_KERNELS")) {
    if (strcmp(k, "full") == 0) {
      s.kernels_full = true;
    } else if (strcmp(k, "count") != 0) {
      return Status::InvalidArgument(std::string("DDRR_KERNELS=") + k + " is not count or full");
    }
  }
  return s;
}

const CaptureSettings& Capture() { return g_settings; }
void SetCapture(const CaptureSettings& settings) { g_settings = settings; }

int64_t CurrentStep() { return g_step.load(std::memory_order_relaxed); }
void SetCurrentStep(int64_t step) { g_step.store(step, std::memory_order_relaxed); }

}  // namespace ddrr::interpose
