// ddrr's C API (include/ddrr/ddrr.h), exported from libddrr.so.
#include <string_view>

#include "ddrr/ddrr.h"
#include "interpose/app_replay.h"
#include "interpose/capture_config.h"
#include "interpose/session.h"
#include "interpose/wrapper_support.h"
#include "trace/record_encoders.h"

using ddrr::interpose::ActiveRecorder;

extern "C" DDRR_EXPORT int ddrr_enabled(void) { return ActiveRecorder() != nullptr; }

extern "C" DDRR_EXPORT void ddrr_mark(const char* label, int64_t step) {
  if (ddrr::interpose::Replaying()) ddrr::interpose::ReplayMark(step);
  ddrr::record::Recorder* r = ActiveRecorder();
  if (!r) return;
  if (step >= 0) ddrr::interpose::SetCurrentStep(step);  // opens and closes the payload window
  thread_local ddrr::trace::WireEncoder e;
  e.Clear();
  const std::string_view text = label ? label : "";
  ddrr::trace::EncodeMarkBody(e, text, step);
  ddrr::trace::EventMeta meta;
  meta.is_mark = true;
  meta.mark_step = step;
  meta.mark_label = text;
  r->Append(ddrr::interpose::ThreadIndex(),
            ddrr::interpose::NowNs() - ddrr::interpose::SessionStartNs(), e.view(), meta);
}

extern "C" DDRR_EXPORT void ddrr_record_rng(const char* name, const void* bytes, size_t len) {
  if (ddrr::interpose::Replaying()) ddrr::interpose::ReplayRng(name, bytes, len);
  ddrr::record::Recorder* r = ActiveRecorder();
  if (!r) return;
  thread_local ddrr::trace::WireEncoder e;
  e.Clear();
  ddrr::trace::EncodeRngBody(e, name ? name : "",
                             std::string_view(static_cast<const char*>(bytes), bytes ? len : 0));
  r->Append(ddrr::interpose::ThreadIndex(),
            ddrr::interpose::NowNs() - ddrr::interpose::SessionStartNs(), e.view(), {});
}

extern "C" DDRR_EXPORT size_t ddrr_restore_rng(const char* name, void* bytes, size_t capacity) {
  return ddrr::interpose::ReplayRestoreRng(name, bytes, capacity);
}
