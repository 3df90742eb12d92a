#include "emu/reduce.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "emu/lowp.h"

namespace ddrr::emu {
namespace {

TEST(EmuReduceTest, SumIsInRankOrder) {
  // (1e8 + 1) - 1e8 differs from 1e8 + (1 - 1e8) in float: the order is observable.
  std::vector<float> a = {1e8f}, b = {1.0f}, c = {-1e8f};
  const void* in[] = {a.data(), b.data(), c.data()};
  float out = 0;
  ReduceRanks(DataType::kFloat32, RedOpKind::kSum, in, nullptr, 3, &out, 1);
  EXPECT_EQ(out, (1e8f + 1.0f) + -1e8f);
  EXPECT_EQ(out, 0.0f);
}

TEST(EmuReduceTest, IntegersWrapAndAverageTruncates) {
  int8_t a = 100, b = 100, c = -7;
  const void* in[] = {&a, &b, &c};
  int8_t out = 0;
  ReduceRanks(DataType::kInt8, RedOpKind::kSum, in, nullptr, 3, &out, 1);
  EXPECT_EQ(out, static_cast<int8_t>(193));
  int32_t x = -7, y = 0;
  const void* in2[] = {&x, &y};
  int32_t avg = 0;
  ReduceRanks(DataType::kInt32, RedOpKind::kAvg, in2, nullptr, 2, &avg, 1);
  EXPECT_EQ(avg, -3);
  uint64_t big = ~0ull, one = 1;
  const void* in3[] = {&big, &one};
  uint64_t prod = 0;
  ReduceRanks(DataType::kUint64, RedOpKind::kProd, in3, nullptr, 2, &prod, 1);
  EXPECT_EQ(prod, ~0ull);
}

TEST(EmuReduceTest, HalfRoundsAfterEveryStep) {
  // 2048 + 1 is not representable in fp16 (rounds to 2048), so 2048 + 1 + 1 stays 2048,
  // whereas summing in float and rounding once would give 2050.
  uint16_t a = FloatToHalf(2048), b = FloatToHalf(1), c = FloatToHalf(1);
  const void* in[] = {&a, &b, &c};
  uint16_t out = 0;
  ReduceRanks(DataType::kFloat16, RedOpKind::kSum, in, nullptr, 3, &out, 1);
  EXPECT_EQ(HalfToFloat(out), 2048.0f);
}

TEST(EmuReduceTest, PreMulSumUsesEachRanksScalar) {
  std::vector<double> a = {1, 2}, b = {10, 20};
  const void* in[] = {a.data(), b.data()};
  uint64_t scalars[2];
  double s0 = 2, s1 = 0.5;
  std::memcpy(&scalars[0], &s0, 8);
  std::memcpy(&scalars[1], &s1, 8);
  std::vector<double> out(2);
  ReduceRanks(DataType::kFloat64, RedOpKind::kPreMulSum, in, scalars, 2, out.data(), 2);
  EXPECT_EQ(out[0], 7);
  EXPECT_EQ(out[1], 14);
}

TEST(EmuReduceTest, MaxMinPropagateNan) {
  float a = 1, b = NAN;
  const void* in[] = {&a, &b};
  float out = 0;
  ReduceRanks(DataType::kFloat32, RedOpKind::kMax, in, nullptr, 2, &out, 1);
  EXPECT_TRUE(std::isnan(out));
  ReduceRanks(DataType::kFloat32, RedOpKind::kMin, in, nullptr, 2, &out, 1);
  EXPECT_TRUE(std::isnan(out));
}

TEST(EmuReduceTest, BlocksLargerThanOneBlock) {
  const size_t n = 5000;
  std::vector<int64_t> a(n), b(n), out(n);
  for (size_t i = 0; i < n; ++i) {
    a[i] = static_cast<int64_t>(i);
    b[i] = -2 * static_cast<int64_t>(i);
  }
  const void* in[] = {a.data(), b.data()};
  ReduceRanks(DataType::kInt64, RedOpKind::kMin, in, nullptr, 2, out.data(), n);
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], -2 * static_cast<int64_t>(i));
}

}  // namespace
}  // namespace ddrr::emu
