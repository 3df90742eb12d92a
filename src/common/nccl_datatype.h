// NCCL element types as nccl.h numbers them (ncclInt8 = 0 ... ncclFloat8e5m2 = 11): the
// numbering traces, emu and the interposer share.
#pragma once

#include <cstddef>

namespace ddrr {

inline constexpr int kNcclDatatypeCount = 12;

// Bytes per element of datatype `datatype`; 0 for a number nccl.h does not define.
constexpr size_t DatatypeBytes(int datatype) {
  // int8 uint8 int32 uint32 int64 uint64 float16 float32 float64 bfloat16 fp8e4m3 fp8e5m2
  constexpr unsigned char kBytes[kNcclDatatypeCount] = {1, 1, 4, 4, 8, 8, 2, 4, 8, 2, 1, 1};
  return datatype >= 0 && datatype < kNcclDatatypeCount ? kBytes[datatype] : 0;
}

}  // namespace ddrr
