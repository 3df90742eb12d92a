// Names of an enum's values as one table in value order (as NCCL's ncclFuncStr), the one way
// ddrr names enum values for people. Each table sits beside a static_assert that it has a name
// for every value, so a new enumerator without a name does not compile.
#pragma once

#include <cstddef>
#include <iterator>  // std::size, for the static_asserts beside the tables

namespace ddrr {

// names[value - first], or `unknown` for a value outside the table.
template <typename Enum, size_t N>
constexpr const char* NameIn(const char* const (&names)[N], Enum value, const char* unknown,
                             long long first = 0) {
  const long long index = static_cast<long long>(value) - first;
  return index >= 0 && index < static_cast<long long>(N) ? names[index] : unknown;
}

}  // namespace ddrr
