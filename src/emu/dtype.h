// The element types and reduction operators emu understands; numbering matches nccl.h so the
// facade converts with a cast.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/nccl_datatype.h"

namespace ddrr::emu {

enum class DataType : int {
  kInt8 = 0,
  kUint8 = 1,
  kInt32 = 2,
  kUint32 = 3,
  kInt64 = 4,
  kUint64 = 5,
  kFloat16 = 6,
  kFloat32 = 7,
  kFloat64 = 8,
  kBfloat16 = 9,
  kFloat8e4m3 = 10,
  kFloat8e5m2 = 11,
};
inline constexpr int kNumDataTypes = kNcclDatatypeCount;

enum class RedOpKind : int { kSum = 0, kProd = 1, kMax = 2, kMin = 3, kAvg = 4, kPreMulSum = 5 };

bool IsValidDataType(int dtype);
size_t ElementSize(DataType dtype);
bool IsFloating(DataType dtype);
const char* DataTypeName(DataType dtype);
const char* RedOpName(RedOpKind op);

// A scalar in the element type's own representation (low bytes of the word), as PreMulSum
// multiplies by it.
uint64_t ScalarFromDouble(DataType dtype, double value);
double ScalarToDouble(DataType dtype, uint64_t raw);

}  // namespace ddrr::emu
