#include "emu/lowp.h"

#include <array>
#include <cmath>

namespace ddrr::emu {
namespace {

// Layout of one 8-bit float format.
struct Fp8Format {
  int mant_bits;
  int bias;
  bool ieee_specials;  // e5m2: exponent all-ones is inf/NaN; e4m3: only S.1111.111 is NaN
  uint8_t max_finite;  // code of the largest finite magnitude
};
constexpr Fp8Format kE4m3{3, 7, false, 0x7e};
constexpr Fp8Format kE5m2{2, 15, true, 0x7b};

double DecodeFp8(uint8_t v, const Fp8Format& f) {
  int exp_bits = 7 - f.mant_bits;
  int exp = (v >> f.mant_bits) & ((1 << exp_bits) - 1);
  int mant = v & ((1 << f.mant_bits) - 1);
  double sign = (v & 0x80) ? -1.0 : 1.0;
  int exp_max = (1 << exp_bits) - 1;
  if (f.ieee_specials && exp == exp_max) return mant == 0 ? sign * INFINITY : NAN;
  if (!f.ieee_specials && exp == exp_max && mant == (1 << f.mant_bits) - 1) return NAN;
  if (exp == 0) return sign * std::ldexp(mant, 1 - f.bias - f.mant_bits);
  return sign * std::ldexp(1.0 + std::ldexp(mant, -f.mant_bits), exp - f.bias);
}

uint8_t EncodeFp8(float value, const Fp8Format& f) {
  uint8_t sign = std::signbit(value) ? 0x80 : 0;
  if (std::isnan(value)) return sign | 0x7f;
  double a = std::fabs(static_cast<double>(value));
  double max_finite = DecodeFp8(f.max_finite, f);
  if (a >= max_finite) return sign | f.max_finite;  // saturate (inf included)
  int min_normal_exp = 1 - f.bias;
  int e;
  std::frexp(a, &e);  // a = m * 2^e, m in [0.5, 1)
  int unbiased = e - 1;
  int quantum_exp = (unbiased < min_normal_exp ? min_normal_exp : unbiased) - f.mant_bits;
  double steps = std::nearbyint(std::ldexp(a, -quantum_exp));  // ties to even (default mode)
  double r = std::ldexp(steps, quantum_exp);
  if (r > max_finite) return sign | f.max_finite;
  if (r == 0) return sign;
  std::frexp(r, &e);
  unbiased = e - 1;
  if (unbiased < min_normal_exp) {
    return sign | static_cast<uint8_t>(std::ldexp(r, f.bias - 1 + f.mant_bits));
  }
  int mant = static_cast<int>(std::ldexp(r, f.mant_bits - unbiased)) - (1 << f.mant_bits);
  return sign | static_cast<uint8_t>(((unbiased + f.bias) << f.mant_bits) | mant);
}

std::array<float, 256> BuildTable(const Fp8Format& f) {
  std::array<float, 256> t{};
  for (int i = 0; i < 256; ++i) t[i] = static_cast<float>(DecodeFp8(static_cast<uint8_t>(i), f));
  return t;
}

const std::array<float, 256> kE4m3Table = BuildTable(kE4m3);
const std::array<float, 256> kE5m2Table = BuildTable(kE5m2);

}  // namespace

float Fp8E4m3ToFloat(uint8_t v) { return kE4m3Table[v]; }
float Fp8E5m2ToFloat(uint8_t v) { return kE5m2Table[v]; }
uint8_t FloatToFp8E4m3(float f) { return EncodeFp8(f, kE4m3); }
uint8_t FloatToFp8E5m2(float f) { return EncodeFp8(f, kE5m2); }

}  // namespace ddrr::emu
