// Element-wise reduction over the ranks' inputs, always in rank order 0, 1, ..., n-1, so every
// element's result is the same bit pattern wherever and however often it is computed.
#pragma once

#include <cstddef>
#include <cstdint>

#include "emu/dtype.h"

namespace ddrr::emu {

// out[i] = in[0][i] (op) in[1][i] (op) ... (op) in[n-1][i], evaluated left to right.
// Low-precision types are widened to float, combined, and rounded back at every step.
// Avg: integers sum then divide by n; floating types pre-multiply each input by 1/n (rounded to
// the type), as NCCL does. PreMulSum multiplies input q by scalars[q] (raw, in the element type)
// before summing; `scalars` may be null for every other operator. `out` may alias in[0].
void ReduceRanks(DataType dtype, RedOpKind op, const void* const* in, const uint64_t* scalars,
                 int n, void* out, size_t count);

}  // namespace ddrr::emu
