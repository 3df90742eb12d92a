#include "emu/reduce.h"

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "emu/element.h"

namespace ddrr::emu {
namespace {

// Integer arithmetic wraps (two's complement), never undefined behaviour.
template <typename C>
C Add(C a, C b) {
  if constexpr (std::is_integral_v<C>) {
    using U = std::make_unsigned_t<C>;
    return static_cast<C>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
  } else {
    return a + b;
  }
}
template <typename C>
C Mul(C a, C b) {
  if constexpr (std::is_integral_v<C>) {
    using U = std::conditional_t<(sizeof(C) < sizeof(unsigned)), unsigned, std::make_unsigned_t<C>>;
    return static_cast<C>(static_cast<U>(static_cast<U>(a) * static_cast<U>(b)));
  } else {
    return a * b;
  }
}
// Max/Min propagate NaN so that a diverging rank is visible in the result.
template <typename C>
C Max(C a, C b) {
  return (a > b || a != a) ? a : b;
}
template <typename C>
C Min(C a, C b) {
  return (a < b || a != a) ? a : b;
}

constexpr size_t kBlock = 1024;

template <typename T, RedOpKind kOp>
typename T::Compute Combine(typename T::Compute a, typename T::Compute b) {
  using C = typename T::Compute;
  if constexpr (kOp == RedOpKind::kSum || kOp == RedOpKind::kPreMulSum) {
    return Add<C>(a, b);
  } else if constexpr (kOp == RedOpKind::kProd) {
    return Mul<C>(a, b);
  } else if constexpr (kOp == RedOpKind::kMax) {
    return Max<C>(a, b);
  } else {
    return Min<C>(a, b);
  }
}

// target[i] = a[i] (op) b[i], rounded to the storage type. `target` may be `a`.
template <typename T, RedOpKind kOp>
void CombineInto(typename T::Storage* target, const typename T::Storage* a,
                 const typename T::Storage* b, size_t len) {
  for (size_t i = 0; i < len; ++i) {
    target[i] = T::Store(Combine<T, kOp>(T::Load(a[i]), T::Load(b[i])));
  }
}

// One pass per input, fused: the first combines inputs 0 and 1, the last writes the result
// straight to `out`, so two ranks cost a single pass and no copy.
template <typename T, RedOpKind kOp>
void ReduceTyped(const void* const* in, const uint64_t* scalars, int n, void* out, size_t count) {
  using S = typename T::Storage;
  using C = typename T::Compute;
  S* dst = static_cast<S*>(out);
  S acc[kBlock];
  S scaled[kBlock];
  auto scalar_of = [&](int q) {
    S v;
    std::memcpy(&v, &scalars[q], sizeof(S));  // raw, in the element type
    return v;
  };
  // Input q of this block, pre-multiplied into `buffer` for PreMulSum.
  auto term = [&](int q, size_t base, size_t len, S* buffer) -> const S* {
    const S* src = static_cast<const S*>(in[q]) + base;
    if constexpr (kOp != RedOpKind::kPreMulSum) {
      return src;
    } else {
      C s = T::Load(scalar_of(q));
      for (size_t i = 0; i < len; ++i) buffer[i] = T::Store(Mul<C>(T::Load(src[i]), s));
      return buffer;
    }
  };
  for (size_t base = 0; base < count; base += kBlock) {
    size_t len = std::min(kBlock, count - base);
    const S* running = term(0, base, len, acc);
    if (n == 1) {
      std::memmove(dst + base, running, len * sizeof(S));
      continue;
    }
    for (int q = 1; q < n; ++q) {
      S* target = q == n - 1 ? dst + base : acc;
      CombineInto<T, kOp>(target, running, term(q, base, len, scaled), len);
      running = acc;
    }
  }
}

template <typename T>
void ReduceForType(DataType dtype, RedOpKind op, const void* const* in, const uint64_t* scalars,
                   int n, void* out, size_t count) {
  switch (op) {
    case RedOpKind::kSum:
      return ReduceTyped<T, RedOpKind::kSum>(in, scalars, n, out, count);
    case RedOpKind::kProd:
      return ReduceTyped<T, RedOpKind::kProd>(in, scalars, n, out, count);
    case RedOpKind::kMax:
      return ReduceTyped<T, RedOpKind::kMax>(in, scalars, n, out, count);
    case RedOpKind::kMin:
      return ReduceTyped<T, RedOpKind::kMin>(in, scalars, n, out, count);
    case RedOpKind::kPreMulSum:
      return ReduceTyped<T, RedOpKind::kPreMulSum>(in, scalars, n, out, count);
    case RedOpKind::kAvg: {
      using S = typename T::Storage;
      if (IsFloating(dtype)) {
        std::vector<uint64_t> inv(n, ScalarFromDouble(dtype, 1.0 / n));
        return ReduceTyped<T, RedOpKind::kPreMulSum>(in, inv.data(), n, out, count);
      }
      ReduceTyped<T, RedOpKind::kSum>(in, scalars, n, out, count);
      S* dst = static_cast<S*>(out);
      for (size_t i = 0; i < count; ++i) dst[i] = static_cast<S>(dst[i] / static_cast<S>(n));
      return;
    }
  }
}

}  // namespace

void ReduceRanks(DataType dtype, RedOpKind op, const void* const* in, const uint64_t* scalars,
                 int n, void* out, size_t count) {
  if (count == 0 || n <= 0) return;
  VisitElement(dtype, [&](auto element) {
    ReduceForType<decltype(element)>(dtype, op, in, scalars, n, out, count);
  });
}

}  // namespace ddrr::emu
