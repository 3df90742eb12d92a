// One element type per DataType: how an element is stored, what arithmetic runs on, and the
// conversions between them. VisitElement is the one switch from a DataType to its element type;
// the reductions, the scalar conversions and replay's data patterns all go through it.
#pragma once

#include <cstdint>

#include "emu/dtype.h"
#include "emu/lowp.h"

namespace ddrr::emu {

// Native types compute in themselves: the conversions are identities and the loops vectorise.
template <typename S>
struct Native {
  using Storage = S;
  using Compute = S;
  static Compute Load(S v) { return v; }
  static S Store(Compute v) { return v; }
};
template <float (*kLoad)(uint16_t), uint16_t (*kStore)(float)>
struct Half16 {
  using Storage = uint16_t;
  using Compute = float;
  static float Load(uint16_t v) { return kLoad(v); }
  static uint16_t Store(float v) { return kStore(v); }
};
template <float (*kLoad)(uint8_t), uint8_t (*kStore)(float)>
struct Fp8 {
  using Storage = uint8_t;
  using Compute = float;
  static float Load(uint8_t v) { return kLoad(v); }
  static uint8_t Store(float v) { return kStore(v); }
};

// An element converted from and to double (a scalar, a pattern value): through its compute type.
template <typename E>
typename E::Storage ElementFromDouble(double value) {
  return E::Store(static_cast<typename E::Compute>(value));
}
template <typename E>
double ElementToDouble(typename E::Storage stored) {
  return static_cast<double>(E::Load(stored));
}

// Calls `f(E{})` with the element type E of `dtype`; for a value outside DataType, returns a
// value-initialised result without calling it.
template <typename F>
auto VisitElement(DataType dtype, F&& f) -> decltype(f(Native<int8_t>{})) {
  switch (dtype) {
    case DataType::kInt8:
      return f(Native<int8_t>{});
    case DataType::kUint8:
      return f(Native<uint8_t>{});
    case DataType::kInt32:
      return f(Native<int32_t>{});
    case DataType::kUint32:
      return f(Native<uint32_t>{});
    case DataType::kInt64:
      return f(Native<int64_t>{});
    case DataType::kUint64:
      return f(Native<uint64_t>{});
    case DataType::kFloat16:
      return f(Half16<HalfToFloat, FloatToHalf>{});
    case DataType::kFloat32:
      return f(Native<float>{});
    case DataType::kFloat64:
      return f(Native<double>{});
    case DataType::kBfloat16:
      return f(Half16<Bf16ToFloat, FloatToBf16>{});
    case DataType::kFloat8e4m3:
      return f(Fp8<Fp8E4m3ToFloat, FloatToFp8E4m3>{});
    case DataType::kFloat8e5m2:
      return f(Fp8<Fp8E5m2ToFloat, FloatToFp8E5m2>{});
  }
  return decltype(f(Native<int8_t>{}))();
}

}  // namespace ddrr::emu
