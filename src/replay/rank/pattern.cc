#include "replay/rank/pattern.h"

#include <nccl.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "common/mix.h"
#include "emu/dtype.h"
#include "emu/element.h"
#include "emu/reduce.h"

namespace ddrr::replay {
namespace {

using trace::FunctionId;
constexpr uint64_t kChunk = 16384;  // elements compared at a time (bounded host memory)

// Element i of comm rank q's input draws its value from Bits(Base(seed, q), i): one multiply-add
// per element, different for every operation, rank and index (a check needs variety, not
// randomness); the mixing is paid once per buffer.
inline uint64_t Base(uint64_t seed, int q) { return Mix64(seed ^ Mix64(static_cast<uint64_t>(q))); }
inline uint32_t Bits(uint64_t base, uint64_t i) {
  return static_cast<uint32_t>((base + i * 0xbf58476d1ce4e5b9ull) >> 40);
}

// The largest value an element takes: the per-type table below covers 0..kMaxValue.
constexpr int kMaxValue = 127;

// How values are chosen for an op's reduction (none: data movement).
enum class ValueKind { kSmall, kProduct, kSelect, kAny };

ValueKind KindOf(const PatternOp& op) {
  switch (op.redop) {
    case ncclProd:
      return ValueKind::kProduct;  // a single 2 among the ranks' ones: the product is 2, exactly
    case ncclMax:
    case ncclMin:
      return ValueKind::kSelect;  // 0..63
    case -1:
      return ValueKind::kAny;  // 0..127
    default:
      return ValueKind::kSmall;  // sums and averages of 0 and 1 stay small
  }
}

void Store(int datatype, double v, void* out, uint64_t i) {
  emu::VisitElement(static_cast<emu::DataType>(datatype), [&](auto element) {
    using E = decltype(element);
    static_cast<typename E::Storage*>(out)[i] = emu::ElementFromDouble<E>(v);
  });
}

double Load(int datatype, const void* in, uint64_t i) {
  return emu::VisitElement(static_cast<emu::DataType>(datatype), [&](auto element) {
    using E = decltype(element);
    return emu::ElementToDouble<E>(static_cast<const typename E::Storage*>(in)[i]);
  });
}

// The stored bytes of the values 0..kMaxValue in one datatype, so that filling a buffer is one
// table lookup per element.
struct ValueTable {
  size_t bytes = 0;
  uint8_t raw[kMaxValue + 1][8] = {};
};

const ValueTable& TableFor(int datatype) {
  static const std::vector<ValueTable> tables = [] {
    std::vector<ValueTable> t(emu::kNumDataTypes);
    for (int d = 0; d < emu::kNumDataTypes; ++d) {
      t[static_cast<size_t>(d)].bytes = emu::ElementSize(static_cast<emu::DataType>(d));
      for (int v = 0; v <= kMaxValue; ++v) Store(d, v, t[static_cast<size_t>(d)].raw[v], 0);
    }
    return t;
  }();
  return tables[static_cast<size_t>(datatype)];
}

template <typename U>
void FillWith(const ValueTable& table, const PatternOp& op, int q, uint64_t first, uint64_t n,
              void* out) {
  U lut[kMaxValue + 1];
  for (int v = 0; v <= kMaxValue; ++v) std::memcpy(&lut[v], table.raw[v], sizeof(U));
  U* o = static_cast<U*>(out);
  const uint64_t base = Base(op.seed, q);
  switch (KindOf(op)) {
    case ValueKind::kProduct: {
      const uint64_t ranks = op.nranks > 0 ? static_cast<uint64_t>(op.nranks) : 1;
      uint64_t r = (first + static_cast<uint64_t>(q) + op.seed) % ranks;
      for (uint64_t i = 0; i < n; ++i) {
        o[i] = lut[r == 0 ? 2 : 1];
        if (++r == ranks) r = 0;
      }
      return;
    }
    case ValueKind::kSelect:
      for (uint64_t i = 0; i < n; ++i) o[i] = lut[Bits(base, first + i) & 63];
      return;
    case ValueKind::kAny:
      for (uint64_t i = 0; i < n; ++i) o[i] = lut[Bits(base, first + i) & 127];
      return;
    case ValueKind::kSmall:
      for (uint64_t i = 0; i < n; ++i) o[i] = lut[Bits(base, first + i) & 1];
      return;
  }
}

// Unit roundoff of a floating datatype; 0 for integers (compared exactly).
double Epsilon(int datatype) {
  switch (static_cast<emu::DataType>(datatype)) {
    case emu::DataType::kFloat16:
      return 0x1p-10;
    case emu::DataType::kFloat32:
      return 0x1p-23;
    case emu::DataType::kFloat64:
      return 0x1p-52;
    case emu::DataType::kBfloat16:
      return 0x1p-7;
    case emu::DataType::kFloat8e4m3:
      return 0x1p-3;
    case emu::DataType::kFloat8e5m2:
      return 0x1p-2;
    default:
      return 0;
  }
}

bool Reduces(FunctionId fn) {
  return fn == FunctionId::kNcclAllReduce || fn == FunctionId::kNcclReduce ||
         fn == FunctionId::kNcclReduceScatter;
}

// Where output element j comes from: comm rank `q`'s input element `index`, or (reductions) every
// rank's element `index`.
struct Source {
  int q;
  uint64_t index;
};
Source SourceOf(const PatternOp& op, uint64_t j) {
  const uint64_t c = op.count ? op.count : 1;
  const auto r = static_cast<uint64_t>(op.rank);
  switch (op.fn) {
    case FunctionId::kNcclBroadcast:
    case FunctionId::kNcclBcast:
      return {op.root, j};
    case FunctionId::kNcclAllGather:
    case FunctionId::kNcclGather:
      return {static_cast<int>(j / c), j % c};
    case FunctionId::kNcclAlltoAll:
      return {static_cast<int>(j / c), r * c + j % c};
    case FunctionId::kNcclScatter:
      return {op.root, r * c + j};
    case FunctionId::kNcclReduceScatter:
      return {-1, r * c + j};
    case FunctionId::kNcclRecv:
      return {op.peer, j};
    default:  // AllReduce, Reduce
      return {-1, j};
  }
}

// How many output elements from j on come from one rank's consecutive input elements.
uint64_t RunLength(const PatternOp& op, uint64_t j, uint64_t remaining) {
  const uint64_t c = op.count ? op.count : 1;
  switch (op.fn) {
    case FunctionId::kNcclAllGather:
    case FunctionId::kNcclGather:
    case FunctionId::kNcclAlltoAll:
      return std::min(remaining, c - j % c);
    default:
      return remaining;
  }
}

std::string Text(int datatype, double v) {
  char buf[40];
  if (Epsilon(datatype) == 0)
    snprintf(buf, sizeof(buf), "%.0f", v);
  else
    snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

}  // namespace

size_t ElementBytes(int datatype) {
  if (!emu::IsValidDataType(datatype)) return 0;
  return emu::ElementSize(static_cast<emu::DataType>(datatype));
}

bool Checkable(const PatternOp& op) {
  if (ElementBytes(op.datatype) == 0 || op.nranks <= 0 || op.rank < 0) return false;
  if (Reduces(op.fn) && (op.redop < ncclSum || op.redop > ncclAvg)) return false;
  if (op.fn == FunctionId::kNcclRecv || op.fn == FunctionId::kNcclSend)
    return op.peer >= 0 && op.peer < op.nranks;
  return true;
}

bool HasOutput(const PatternOp& op) {
  switch (op.fn) {
    case FunctionId::kNcclSend:
      return false;
    case FunctionId::kNcclReduce:
    case FunctionId::kNcclGather:
      return op.rank == op.root;
    default:
      return true;
  }
}

bool HasInput(const PatternOp& op) {
  switch (op.fn) {
    case FunctionId::kNcclRecv:
      return false;
    case FunctionId::kNcclBroadcast:
    case FunctionId::kNcclBcast:
    case FunctionId::kNcclScatter:
      return op.rank == op.root;
    default:
      return true;
  }
}

void FillInput(const PatternOp& op, int q, uint64_t first, uint64_t n, void* out) {
  const ValueTable& table = TableFor(op.datatype);
  switch (table.bytes) {
    case 1:
      return FillWith<uint8_t>(table, op, q, first, n, out);
    case 2:
      return FillWith<uint16_t>(table, op, q, first, n, out);
    case 4:
      return FillWith<uint32_t>(table, op, q, first, n, out);
    default:
      return FillWith<uint64_t>(table, op, q, first, n, out);
  }
}

std::optional<Mismatch> CheckOutput(const PatternOp& op, const void* output, uint64_t elements,
                                    bool exact) {
  const size_t bytes = ElementBytes(op.datatype);
  const double eps = exact ? 0 : Epsilon(op.datatype);
  const bool reduces = Reduces(op.fn);
  const uint64_t chunk = std::min<uint64_t>(kChunk, elements);  // tiny ops allocate tiny
  std::vector<char> expected(chunk * bytes);
  std::vector<std::vector<char>> inputs;
  std::vector<const void*> in_ptrs;
  if (reduces) {
    inputs.assign(static_cast<size_t>(op.nranks), std::vector<char>(chunk * bytes));
    for (auto& in : inputs) in_ptrs.push_back(in.data());
  }
  for (uint64_t first = 0; first < elements; first += chunk) {
    const uint64_t n = std::min(chunk, elements - first);
    if (reduces) {
      const uint64_t from = SourceOf(op, first).index;
      for (int q = 0; q < op.nranks; ++q)
        FillInput(op, q, from, n, inputs[static_cast<size_t>(q)].data());
      emu::ReduceRanks(static_cast<emu::DataType>(op.datatype),
                       static_cast<emu::RedOpKind>(op.redop), in_ptrs.data(), nullptr, op.nranks,
                       expected.data(), n);
    } else {
      for (uint64_t j = 0; j < n;) {
        const Source s = SourceOf(op, first + j);
        const uint64_t run = RunLength(op, first + j, n - j);
        FillInput(op, s.q, s.index, run, expected.data() + j * bytes);
        j += run;
      }
    }
    const char* got = static_cast<const char*>(output) + first * bytes;
    if (std::memcmp(got, expected.data(), n * bytes) == 0) continue;
    for (uint64_t j = 0; j < n; ++j) {
      if (std::memcmp(got + j * bytes, expected.data() + j * bytes, bytes) == 0) continue;
      const double g = Load(op.datatype, got, j), e = Load(op.datatype, expected.data(), j);
      const bool close = reduces && eps > 0 &&
                         (std::fabs(g - e) <= (op.nranks + 1) * eps * std::max(1.0, std::fabs(e)) ||
                          (std::isnan(g) && std::isnan(e)));
      if (!close) return Mismatch{first + j, Text(op.datatype, g), Text(op.datatype, e)};
    }
  }
  return std::nullopt;
}

}  // namespace ddrr::replay
