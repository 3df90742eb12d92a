#include "support/marks.h"

#include <dlfcn.h>

namespace ddrr_samples {

void MarkStep(int64_t step) {
  using MarkFn = void (*)(const char*, int64_t);
  static const auto mark = reinterpret_cast<MarkFn>(dlsym(RTLD_DEFAULT, "ddrr_mark"));
  if (mark) mark("step", step);
}

void RecordRng(const char* name, const std::string& state) {
  using RecordFn = void (*)(const char*, const void*, size_t);
  static const auto record = reinterpret_cast<RecordFn>(dlsym(RTLD_DEFAULT, "ddrr_record_rng"));
  if (record) record(name, state.data(), state.size());
}

bool RestoreRng(const char* name, std::string* state) {
  using RestoreFn = size_t (*)(const char*, void*, size_t);
  static const auto restore = reinterpret_cast<RestoreFn>(dlsym(RTLD_DEFAULT, "ddrr_restore_rng"));
  if (!restore) return false;
  const size_t n = restore(name, nullptr, 0);
  if (n == 0) return false;
  state->resize(n);
  return restore(name, state->data(), state->size()) == n;
}

}  // namespace ddrr_samples
