// Element types and expected values for collectives_tour. Every input element is a small
// integer computed from (operation, world rank, index), so any rank can compute what every
// other rank sent, and sums stay exact even in half and bfloat16.
#ifndef DDRR_SAMPLES_TOUR_ELEMENTS_H_
#define DDRR_SAMPLES_TOUR_ELEMENTS_H_

#include <nccl.h>

#include <cstddef>
#include <cstdint>
#include <limits>

#include "support/numeric.h"

namespace ddrr_samples {

// One struct per NCCL data type the tour uses: storage type, NCCL enum, conversions through
// double (the type expected values are computed in) and the NaN pattern for the `nan` fault.
struct Float32 {
  using Storage = float;
  static constexpr ncclDataType_t kNccl = ncclFloat32;
  static constexpr const char* kName = "float32";
  static constexpr bool kFloating = true;
  static Storage FromDouble(double value) { return static_cast<float>(value); }
  static double ToDouble(Storage value) { return value; }
  static Storage Nan() { return std::numeric_limits<float>::quiet_NaN(); }
};

struct Int32 {
  using Storage = int32_t;
  static constexpr ncclDataType_t kNccl = ncclInt32;
  static constexpr const char* kName = "int32";
  static constexpr bool kFloating = false;
  static Storage FromDouble(double value) { return static_cast<int32_t>(value); }
  static double ToDouble(Storage value) { return value; }
  static Storage Nan() { return 0; }  // never used: integers have no NaN
};

// The 16-bit floating-point types, kept as their bit patterns and converted through float.
template <ncclDataType_t kType, uint16_t (*kFromFloat)(float), float (*kToFloat)(uint16_t),
          uint16_t kNanBits>
struct SixteenBitFloat {
  using Storage = uint16_t;
  static constexpr ncclDataType_t kNccl = kType;
  static constexpr bool kFloating = true;
  static Storage FromDouble(double value) { return kFromFloat(static_cast<float>(value)); }
  static double ToDouble(Storage value) { return kToFloat(value); }
  static Storage Nan() { return kNanBits; }
};

struct Half : SixteenBitFloat<ncclFloat16, FloatToHalf, HalfToFloat, 0x7e00> {
  static constexpr const char* kName = "float16";  // IEEE binary16
};

struct Bfloat16 : SixteenBitFloat<ncclBfloat16, FloatToBf16, Bf16ToFloat, 0x7fc0> {
  static constexpr const char* kName = "bfloat16";
};

// How an operation's inputs are drawn.
enum class Pattern {
  kSmall,       // 1 .. modulus
  kSparseTwos,  // mostly 1, 2 on a quarter of the ranks: products stay small for ~120 ranks
};

// The value world rank `rank` contributes at element `index` of operation `op`.
inline double InputValue(int op, int rank, size_t index, Pattern pattern, int modulus) {
  const uint64_t mix = static_cast<uint64_t>(rank) * 7 + index * 3 + static_cast<uint64_t>(op) * 5;
  if (pattern == Pattern::kSparseTwos) return mix % 4 == 0 ? 2.0 : 1.0;
  return 1.0 + static_cast<double>(mix % static_cast<uint64_t>(modulus));
}

// The default pattern: 1 .. 11.
inline double SmallValue(int op, int rank, size_t index) {
  return InputValue(op, rank, index, Pattern::kSmall, 11);
}

// Folds one more contribution into `accumulated` (the first contribution starts it).
inline double Combine(ncclRedOp_t op, double accumulated, double value) {
  switch (op) {
    case ncclProd:
      return accumulated * value;
    case ncclMax:
      return value > accumulated ? value : accumulated;
    case ncclMin:
      return value < accumulated ? value : accumulated;
    default:
      return accumulated + value;  // ncclSum and ncclAvg (divided afterwards)
  }
}

inline const char* OpName(ncclRedOp_t op) {
  switch (op) {
    case ncclSum:
      return "sum";
    case ncclProd:
      return "prod";
    case ncclMax:
      return "max";
    case ncclMin:
      return "min";
    case ncclAvg:
      return "avg";
    default:
      return "custom";
  }
}

}  // namespace ddrr_samples

#endif  // DDRR_SAMPLES_TOUR_ELEMENTS_H_
