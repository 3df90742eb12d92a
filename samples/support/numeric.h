// Host-side number helpers: IEEE half and bfloat16 conversions (the samples keep 16-bit
// floats as uint16_t bit patterns, so they need no cuda_fp16.h device types), and the FNV-1a
// hash the samples print to compare results across runs and ranks.
#ifndef DDRR_SAMPLES_COMMON_NUMERIC_H_
#define DDRR_SAMPLES_COMMON_NUMERIC_H_

#include <cstddef>
#include <cstdint>

namespace ddrr_samples {

uint16_t FloatToHalf(float value);  // round to nearest even
float HalfToFloat(uint16_t bits);
uint16_t FloatToBf16(float value);  // round to nearest even
float Bf16ToFloat(uint16_t bits);

// 64-bit FNV-1a over raw bytes.
uint64_t Fnv1a64(const void* data, size_t size);

}  // namespace ddrr_samples

#endif  // DDRR_SAMPLES_COMMON_NUMERIC_H_
