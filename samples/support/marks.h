// Step marks and RNG states for ddrr, the way a real training loop would add them: ddrr_mark(),
// ddrr_record_rng() and ddrr_restore_rng() are looked up at run time and skipped when the program
// does not run under libddrr.so (include/ddrr/ddrr.h).
#pragma once

#include <cstdint>
#include <string>

namespace ddrr_samples {

// Marks the start of training step `step` (a no-op unless recorded by ddrr).
void MarkStep(int64_t step);

// Records an RNG state under `name` (compared when the program is replayed).
void RecordRng(const char* name, const std::string& state);
// Under `ddrr replay --restore-rng`: the state the recording had at the matching RecordRng, to
// carry on from; false otherwise (the program keeps its own).
bool RestoreRng(const char* name, std::string* state);

}  // namespace ddrr_samples
