#include "hostrt/curand_generator.h"

#include <cmath>
#include <numbers>

#include "hostrt/philox.h"

namespace ddrr::hostrt {
namespace {

constexpr double kTwoToMinus32 = 0x1p-32;
constexpr double kTwoToMinus53 = 0x1p-53;

// Box-Muller on two uniforms in (0, 1]: u1 > 0 keeps the logarithm finite.
void BoxMuller(double u1, double u2, double* z0, double* z1) {
  double radius = std::sqrt(-2.0 * std::log(u1));
  double angle = 2.0 * std::numbers::pi * u2;
  *z0 = radius * std::cos(angle);
  *z1 = radius * std::sin(angle);
}

}  // namespace

void RandomStream::SetSeed(uint64_t seed) {
  seed_ = seed;
  position_ = offset_;
}

void RandomStream::SetOffset(uint64_t offset) {
  offset_ = offset;
  position_ = offset;
}

uint32_t RandomStream::NextDraw() {
  // Block b of the stream is Philox(counter = {b_lo, b_hi, stream id, 0}, key = seed); its four
  // words are draws 4b .. 4b+3. Recomputing per draw keeps the code simple; filling 1e6 values
  // costs a few milliseconds.
  uint64_t block = position_ / 4;
  unsigned lane = static_cast<unsigned>(position_ % 4);
  ++position_;
  PhiloxCounter counter = {static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32),
                           stream_id_, 0};
  PhiloxKey key = {static_cast<uint32_t>(seed_), static_cast<uint32_t>(seed_ >> 32)};
  return Philox4x32x10(counter, key)[lane];
}

double RandomStream::NextUniformDouble() {
  uint64_t high = NextDraw();
  uint64_t low = NextDraw();
  uint64_t bits53 = ((high << 32) | low) >> 11;
  return static_cast<double>(bits53 + 1) * kTwoToMinus53;
}

void RandomStream::FillUint32(uint32_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = NextDraw();
}

void RandomStream::FillUint64(uint64_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    uint64_t high = NextDraw();
    out[i] = (high << 32) | NextDraw();
  }
}

void RandomStream::FillUniform(float* out, size_t n) {
  // (x + 1) / 2^32 lies in (0, 1]; rounding to float may give exactly 1, never 0.
  for (size_t i = 0; i < n; ++i) {
    out[i] = static_cast<float>((static_cast<double>(NextDraw()) + 1.0) * kTwoToMinus32);
  }
}

void RandomStream::FillUniform(double* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = NextUniformDouble();
}

void RandomStream::FillNormal(float* out, size_t n, float mean, float stddev) {
  for (size_t i = 0; i < n; i += 2) {
    double u1 = (static_cast<double>(NextDraw()) + 1.0) * kTwoToMinus32;
    double u2 = (static_cast<double>(NextDraw()) + 1.0) * kTwoToMinus32;
    double z0, z1;
    BoxMuller(u1, u2, &z0, &z1);
    out[i] = static_cast<float>(mean + stddev * z0);
    if (i + 1 < n) out[i + 1] = static_cast<float>(mean + stddev * z1);
  }
}

void RandomStream::FillNormal(double* out, size_t n, double mean, double stddev) {
  for (size_t i = 0; i < n; i += 2) {
    double u1 = NextUniformDouble();
    double u2 = NextUniformDouble();
    double z0, z1;
    BoxMuller(u1, u2, &z0, &z1);
    out[i] = mean + stddev * z0;
    if (i + 1 < n) out[i + 1] = mean + stddev * z1;
  }
}

void RandomStream::FillLogNormal(float* out, size_t n, float mean, float stddev) {
  FillNormal(out, n, mean, stddev);
  for (size_t i = 0; i < n; ++i) out[i] = std::exp(out[i]);
}

void RandomStream::FillLogNormal(double* out, size_t n, double mean, double stddev) {
  FillNormal(out, n, mean, stddev);
  for (size_t i = 0; i < n; ++i) out[i] = std::exp(out[i]);
}

}  // namespace ddrr::hostrt
