// Conversions between float and the low-precision element types (fp16, bf16, fp8 e4m3/e5m2),
// rounding to nearest-even. fp8 conversions saturate to the largest finite value, as CUDA's
// __NV_SATFINITE conversions do; NaN stays NaN.
#pragma once

#include <bit>
#include <cstdint>

namespace ddrr::emu {

inline float HalfToFloat(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  if (exp == 0) {
    float v = static_cast<float>(mant) * 0x1p-24f;  // exact: subnormal or zero
    return sign ? -v : v;
  }
  if (exp == 31) return std::bit_cast<float>(sign | 0x7f800000u | (mant << 13));
  return std::bit_cast<float>(sign | ((exp + 112) << 23) | (mant << 13));
}

inline uint16_t FloatToHalf(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t abs = x & 0x7fffffffu;
  if (abs > 0x7f800000u) return static_cast<uint16_t>(sign | 0x7e00u);   // NaN
  if (abs >= 0x477ff000u) return static_cast<uint16_t>(sign | 0x7c00u);  // rounds to inf
  if (abs < 0x38800000u) {
    // Subnormal: adding 0.5 makes the float's ulp equal the half subnormal step (2^-24), so
    // the hardware add performs the round-to-nearest-even for us.
    float sum = std::bit_cast<float>(abs) + 0.5f;
    return static_cast<uint16_t>(sign | (std::bit_cast<uint32_t>(sum) - 0x3f000000u));
  }
  uint32_t odd = (abs >> 13) & 1u;
  abs += 0xc8000fffu + odd;  // rebias exponent by -112 and add the rounding increment
  return static_cast<uint16_t>(sign | (abs >> 13));
}

inline float Bf16ToFloat(uint16_t b) {
  return std::bit_cast<float>(static_cast<uint32_t>(b) << 16);
}

inline uint16_t FloatToBf16(float f) {
  uint32_t x = std::bit_cast<uint32_t>(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40u);
  x += 0x7fffu + ((x >> 16) & 1u);
  return static_cast<uint16_t>(x >> 16);
}

float Fp8E4m3ToFloat(uint8_t v);
float Fp8E5m2ToFloat(uint8_t v);
uint8_t FloatToFp8E4m3(float f);
uint8_t FloatToFp8E5m2(float f);

}  // namespace ddrr::emu
