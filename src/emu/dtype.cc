#include "emu/dtype.h"

#include <cstring>

#include "common/enum_names.h"
#include "common/nccl_datatype.h"
#include "emu/element.h"

namespace ddrr::emu {

bool IsValidDataType(int dtype) { return dtype >= 0 && dtype < kNumDataTypes; }

size_t ElementSize(DataType dtype) { return DatatypeBytes(static_cast<int>(dtype)); }

bool IsFloating(DataType dtype) {
  switch (dtype) {
    case DataType::kFloat16:
    case DataType::kFloat32:
    case DataType::kFloat64:
    case DataType::kBfloat16:
    case DataType::kFloat8e4m3:
    case DataType::kFloat8e5m2:
      return true;
    default:
      return false;
  }
}

const char* DataTypeName(DataType dtype) {
  static constexpr const char* kNames[] = {"int8",  "uint8",  "int32",   "uint32",
                                           "int64", "uint64", "fp16",    "fp32",
                                           "fp64",  "bf16",   "fp8e4m3", "fp8e5m2"};
  static_assert(std::size(kNames) == kNumDataTypes);
  return NameIn(kNames, dtype, "invalid");
}

const char* RedOpName(RedOpKind op) {
  static constexpr const char* kNames[] = {"sum", "prod", "max", "min", "avg", "premulsum"};
  static_assert(std::size(kNames) == static_cast<size_t>(RedOpKind::kPreMulSum) + 1);
  return NameIn(kNames, op, "invalid");
}

namespace {
template <typename T>
uint64_t Raw(T v) {
  uint64_t raw = 0;
  std::memcpy(&raw, &v, sizeof(T));
  return raw;
}
template <typename T>
T FromRaw(uint64_t raw) {
  T v;
  std::memcpy(&v, &raw, sizeof(T));
  return v;
}
}  // namespace

uint64_t ScalarFromDouble(DataType dtype, double value) {
  return VisitElement(dtype, [&](auto element) -> uint64_t {
    return Raw(ElementFromDouble<decltype(element)>(value));
  });
}

double ScalarToDouble(DataType dtype, uint64_t raw) {
  return VisitElement(dtype, [&](auto element) {
    using E = decltype(element);
    return ElementToDouble<E>(FromRaw<typename E::Storage>(raw));
  });
}

}  // namespace ddrr::emu
