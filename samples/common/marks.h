// Step marks for ddrr, the way a real training loop would add them: ddrr_mark() is looked up at
// run time and skipped when the program does not run under libddrr.so (include/ddrr/ddrr.h).
#pragma once

#include <cstdint>

namespace ddrr_samples {

// Marks the start of training step `step` (a no-op unless recorded by ddrr).
void MarkStep(int64_t step);

}  // namespace ddrr_samples
