#include "replay/rank/pattern.h"

#include <gtest/gtest.h>
#include <nccl.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "emu/lowp.h"

namespace ddrr::replay {
namespace {

using trace::FunctionId;

constexpr int kRanks = 4;
constexpr uint64_t kCount = 37;  // odd, and more than one of anything

// An independent reference: element values through double, rounded once into the type.
double Get(int dt, const std::vector<char>& b, uint64_t i) {
  const char* p = b.data();
  switch (dt) {
    case ncclInt8:
      return reinterpret_cast<const int8_t*>(p)[i];
    case ncclUint8:
      return reinterpret_cast<const uint8_t*>(p)[i];
    case ncclInt32:
      return reinterpret_cast<const int32_t*>(p)[i];
    case ncclInt64:
      return static_cast<double>(reinterpret_cast<const int64_t*>(p)[i]);
    case ncclFloat16:
      return emu::HalfToFloat(reinterpret_cast<const uint16_t*>(p)[i]);
    case ncclBfloat16:
      return emu::Bf16ToFloat(reinterpret_cast<const uint16_t*>(p)[i]);
    case ncclFloat32:
      return reinterpret_cast<const float*>(p)[i];
    case ncclFloat64:
      return reinterpret_cast<const double*>(p)[i];
    case ncclFloat8e4m3:
      return emu::Fp8E4m3ToFloat(reinterpret_cast<const uint8_t*>(p)[i]);
    case ncclFloat8e5m2:
      return emu::Fp8E5m2ToFloat(reinterpret_cast<const uint8_t*>(p)[i]);
  }
  ADD_FAILURE() << "datatype " << dt;
  return 0;
}

void Put(int dt, std::vector<char>& b, uint64_t i, double v) {
  char* p = b.data();
  switch (dt) {
    case ncclInt8:
      reinterpret_cast<int8_t*>(p)[i] = static_cast<int8_t>(v);
      return;
    case ncclUint8:
      reinterpret_cast<uint8_t*>(p)[i] = static_cast<uint8_t>(v);
      return;
    case ncclInt32:
      reinterpret_cast<int32_t*>(p)[i] = static_cast<int32_t>(v);
      return;
    case ncclInt64:
      reinterpret_cast<int64_t*>(p)[i] = static_cast<int64_t>(v);
      return;
    case ncclFloat16:
      reinterpret_cast<uint16_t*>(p)[i] = emu::FloatToHalf(static_cast<float>(v));
      return;
    case ncclBfloat16:
      reinterpret_cast<uint16_t*>(p)[i] = emu::FloatToBf16(static_cast<float>(v));
      return;
    case ncclFloat32:
      reinterpret_cast<float*>(p)[i] = static_cast<float>(v);
      return;
    case ncclFloat64:
      reinterpret_cast<double*>(p)[i] = v;
      return;
    case ncclFloat8e4m3:
      reinterpret_cast<uint8_t*>(p)[i] = emu::FloatToFp8E4m3(static_cast<float>(v));
      return;
    case ncclFloat8e5m2:
      reinterpret_cast<uint8_t*>(p)[i] = emu::FloatToFp8E5m2(static_cast<float>(v));
      return;
  }
}

bool Integer(int dt) {
  return dt == ncclInt8 || dt == ncclUint8 || dt == ncclInt32 || dt == ncclInt64;
}

double Reduce(int dt, int redop, const std::vector<double>& v) {
  double r = v[0];
  for (size_t q = 1; q < v.size(); ++q) {
    if (redop == ncclProd)
      r *= v[q];
    else if (redop == ncclMax)
      r = std::max(r, v[q]);
    else if (redop == ncclMin)
      r = std::min(r, v[q]);
    else
      r += v[q];
  }
  if (redop == ncclAvg) r = Integer(dt) ? std::trunc(r / v.size()) : r / v.size();
  return r;
}

struct Case {
  FunctionId fn;
  int redop;
  bool per_rank_in, per_rank_out;
};

// What `op` writes on comm rank `me`, computed from every rank's pattern input.
std::vector<char> Reference(PatternOp op, int me) {
  const size_t bytes = ElementBytes(op.datatype);
  const uint64_t c = op.count, n = static_cast<uint64_t>(op.nranks);
  const bool in_per_rank = op.fn == FunctionId::kNcclReduceScatter ||
                           op.fn == FunctionId::kNcclAlltoAll || op.fn == FunctionId::kNcclScatter;
  std::vector<std::vector<char>> in(n, std::vector<char>((in_per_rank ? c * n : c) * bytes));
  for (int q = 0; q < op.nranks; ++q) FillInput(op, q, 0, in_per_rank ? c * n : c, in[q].data());
  const bool out_per_rank = op.fn == FunctionId::kNcclAllGather ||
                            op.fn == FunctionId::kNcclAlltoAll || op.fn == FunctionId::kNcclGather;
  std::vector<char> out((out_per_rank ? c * n : c) * bytes);
  for (uint64_t j = 0; j < (out_per_rank ? c * n : c); ++j) {
    std::vector<double> v;
    switch (op.fn) {
      case FunctionId::kNcclAllReduce:
      case FunctionId::kNcclReduce:
        for (uint64_t q = 0; q < n; ++q) v.push_back(Get(op.datatype, in[q], j));
        Put(op.datatype, out, j, Reduce(op.datatype, op.redop, v));
        break;
      case FunctionId::kNcclReduceScatter:
        for (uint64_t q = 0; q < n; ++q) v.push_back(Get(op.datatype, in[q], me * c + j));
        Put(op.datatype, out, j, Reduce(op.datatype, op.redop, v));
        break;
      case FunctionId::kNcclBroadcast:
        Put(op.datatype, out, j, Get(op.datatype, in[op.root], j));
        break;
      case FunctionId::kNcclAllGather:
      case FunctionId::kNcclGather:
        Put(op.datatype, out, j, Get(op.datatype, in[j / c], j % c));
        break;
      case FunctionId::kNcclAlltoAll:
        Put(op.datatype, out, j, Get(op.datatype, in[j / c], me * c + j % c));
        break;
      case FunctionId::kNcclScatter:
        Put(op.datatype, out, j, Get(op.datatype, in[op.root], me * c + j));
        break;
      default:
        ADD_FAILURE();
    }
  }
  return out;
}

const int kTypes[] = {ncclInt8,     ncclUint8,   ncclInt32,   ncclInt64,      ncclFloat16,
                      ncclBfloat16, ncclFloat32, ncclFloat64, ncclFloat8e4m3, ncclFloat8e5m2};

TEST(PatternTest, EveryCollectiveTypeAndOpChecksOutAndCatchesAWrongElement) {
  const std::vector<std::pair<FunctionId, std::vector<int>>> fns = {
      {FunctionId::kNcclAllReduce, {ncclSum, ncclProd, ncclMax, ncclMin, ncclAvg}},
      {FunctionId::kNcclReduce, {ncclSum, ncclMax}},
      {FunctionId::kNcclReduceScatter, {ncclSum, ncclMin, ncclAvg}},
      {FunctionId::kNcclBroadcast, {-1}},
      {FunctionId::kNcclAllGather, {-1}},
      {FunctionId::kNcclAlltoAll, {-1}},
      {FunctionId::kNcclGather, {-1}},
      {FunctionId::kNcclScatter, {-1}}};
  for (const auto& [fn, ops] : fns)
    for (int redop : ops)
      for (int dt : kTypes)
        for (int me : {0, 2}) {
          PatternOp op{
              fn, dt, redop, kCount, kRanks, me, 1, -1, static_cast<uint64_t>(0x1234 + dt)};
          SCOPED_TRACE(::testing::Message() << "fn " << static_cast<int>(fn) << " op " << redop
                                            << " dt " << dt << " rank " << me);
          ASSERT_TRUE(Checkable(op));
          std::vector<char> out = Reference(op, me);
          const uint64_t elements = out.size() / ElementBytes(dt);
          EXPECT_FALSE(CheckOutput(op, out.data(), elements, true)) << "a right result refused";
          const uint64_t bad = elements / 2;
          Put(dt, out, bad, Get(dt, out, bad) == 0 ? 5 : 0);
          auto m = CheckOutput(op, out.data(), elements, true);
          ASSERT_TRUE(m) << "a wrong element passed";
          EXPECT_EQ(m->index, bad);
        }
}

TEST(PatternTest, InputsDifferByRankAndOperation) {
  PatternOp a{FunctionId::kNcclAllGather, ncclInt32, -1, 64, kRanks, 0, -1, -1, 1};
  PatternOp b = a;
  b.seed = 2;
  std::vector<int32_t> r0(64), r1(64), s0(64);
  FillInput(a, 0, 0, 64, r0.data());
  FillInput(a, 1, 0, 64, r1.data());
  FillInput(b, 0, 0, 64, s0.data());
  EXPECT_NE(r0, r1);
  EXPECT_NE(r0, s0);
  std::vector<int32_t> tail(32);
  FillInput(a, 0, 32, 32, tail.data());  // any window of the same input reads the same values
  EXPECT_TRUE(std::equal(tail.begin(), tail.end(), r0.begin() + 32));
}

TEST(PatternTest, ProductIsExactlyTwo) {
  PatternOp op{FunctionId::kNcclAllReduce, ncclFloat16, ncclProd, 100, 8, 0, -1, -1, 99};
  std::vector<char> out(100 * 2);
  for (uint64_t i = 0; i < 100; ++i) Put(ncclFloat16, out, i, 2);
  EXPECT_FALSE(CheckOutput(op, out.data(), 100, true));
}

TEST(PatternTest, ReceiveGetsWhatThePeerSent) {
  PatternOp send{FunctionId::kNcclSend, ncclFloat32, -1, 50, kRanks, 1, -1, 3, 77};
  PatternOp recv{FunctionId::kNcclRecv, ncclFloat32, -1, 50, kRanks, 3, -1, 1, 77};
  EXPECT_FALSE(HasOutput(send));
  EXPECT_FALSE(HasInput(recv));
  std::vector<float> wire(50);
  FillInput(send, send.rank, 0, 50, wire.data());
  EXPECT_FALSE(CheckOutput(recv, wire.data(), 50, true));
  wire[7] = -1;
  auto m = CheckOutput(recv, wire.data(), 50, true);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->index, 7u);
  EXPECT_EQ(m->got, "-1");
}

TEST(PatternTest, RootsOnly) {
  PatternOp reduce{FunctionId::kNcclReduce, ncclInt32, ncclSum, 8, kRanks, 2, 1, -1, 5};
  EXPECT_FALSE(HasOutput(reduce));
  reduce.rank = 1;
  EXPECT_TRUE(HasOutput(reduce));
  PatternOp bcast{FunctionId::kNcclBroadcast, ncclInt32, -1, 8, kRanks, 2, 1, -1, 5};
  EXPECT_FALSE(HasInput(bcast));
  EXPECT_TRUE(HasOutput(bcast));
}

TEST(PatternTest, UncheckableOps) {
  PatternOp premul{FunctionId::kNcclAllReduce, ncclFloat32, ncclNumOps, 8, kRanks, 0, -1, -1, 1};
  EXPECT_FALSE(Checkable(premul));
  PatternOp bad_type{FunctionId::kNcclAllReduce, 99, ncclSum, 8, kRanks, 0, -1, -1, 1};
  EXPECT_FALSE(Checkable(bad_type));
  PatternOp no_comm{FunctionId::kNcclAllReduce, ncclFloat32, ncclSum, 8, 0, -1, -1, -1, 1};
  EXPECT_FALSE(Checkable(no_comm));
}

TEST(PatternTest, ToleranceOnlyWhenNotExact) {
  PatternOp op{FunctionId::kNcclAllReduce, ncclFloat32, ncclAvg, 16, 3, 0, -1, -1, 11};
  std::vector<char> out = Reference(op, 0);
  // Off by one unit in the last place, as another reduction order may round.
  float* f = reinterpret_cast<float*>(out.data());
  f[5] = std::nextafter(f[5], 100.0f);
  if (f[5] != 0) {
    EXPECT_FALSE(CheckOutput(op, out.data(), 16, false));
  }
  EXPECT_TRUE(CheckOutput(op, out.data(), 16, true));
}

}  // namespace
}  // namespace ddrr::replay
