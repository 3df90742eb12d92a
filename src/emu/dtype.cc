#include "emu/dtype.h"

#include <cstring>

#include "common/nccl_datatype.h"
#include "emu/lowp.h"

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
  static const char* const kNames[kNumDataTypes] = {"int8",  "uint8",  "int32",   "uint32",
                                                    "int64", "uint64", "fp16",    "fp32",
                                                    "fp64",  "bf16",   "fp8e4m3", "fp8e5m2"};
  int i = static_cast<int>(dtype);
  return IsValidDataType(i) ? kNames[i] : "invalid";
}

const char* RedOpName(RedOpKind op) {
  switch (op) {
    case RedOpKind::kSum:
      return "sum";
    case RedOpKind::kProd:
      return "prod";
    case RedOpKind::kMax:
      return "max";
    case RedOpKind::kMin:
      return "min";
    case RedOpKind::kAvg:
      return "avg";
    case RedOpKind::kPreMulSum:
      return "premulsum";
  }
  return "invalid";
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
  switch (dtype) {
    case DataType::kInt8:
      return Raw(static_cast<int8_t>(value));
    case DataType::kUint8:
      return Raw(static_cast<uint8_t>(value));
    case DataType::kInt32:
      return Raw(static_cast<int32_t>(value));
    case DataType::kUint32:
      return Raw(static_cast<uint32_t>(value));
    case DataType::kInt64:
      return Raw(static_cast<int64_t>(value));
    case DataType::kUint64:
      return Raw(static_cast<uint64_t>(value));
    case DataType::kFloat16:
      return FloatToHalf(static_cast<float>(value));
    case DataType::kFloat32:
      return Raw(static_cast<float>(value));
    case DataType::kFloat64:
      return Raw(value);
    case DataType::kBfloat16:
      return FloatToBf16(static_cast<float>(value));
    case DataType::kFloat8e4m3:
      return FloatToFp8E4m3(static_cast<float>(value));
    case DataType::kFloat8e5m2:
      return FloatToFp8E5m2(static_cast<float>(value));
  }
  return 0;
}

double ScalarToDouble(DataType dtype, uint64_t raw) {
  switch (dtype) {
    case DataType::kInt8:
      return FromRaw<int8_t>(raw);
    case DataType::kUint8:
      return FromRaw<uint8_t>(raw);
    case DataType::kInt32:
      return FromRaw<int32_t>(raw);
    case DataType::kUint32:
      return FromRaw<uint32_t>(raw);
    case DataType::kInt64:
      return static_cast<double>(FromRaw<int64_t>(raw));
    case DataType::kUint64:
      return static_cast<double>(FromRaw<uint64_t>(raw));
    case DataType::kFloat16:
      return HalfToFloat(static_cast<uint16_t>(raw));
    case DataType::kFloat32:
      return FromRaw<float>(raw);
    case DataType::kFloat64:
      return FromRaw<double>(raw);
    case DataType::kBfloat16:
      return Bf16ToFloat(static_cast<uint16_t>(raw));
    case DataType::kFloat8e4m3:
      return Fp8E4m3ToFloat(static_cast<uint8_t>(raw));
    case DataType::kFloat8e5m2:
      return Fp8E5m2ToFloat(static_cast<uint8_t>(raw));
  }
  return 0;
}

}  // namespace ddrr::emu
