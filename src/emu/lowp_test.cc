#include "emu/lowp.h"

#include <gtest/gtest.h>

#include <cmath>

namespace ddrr::emu {
namespace {

TEST(EmuLowpTest, HalfKnownValues) {
  EXPECT_EQ(FloatToHalf(1.0f), 0x3c00);
  EXPECT_EQ(FloatToHalf(-2.0f), 0xc000);
  EXPECT_EQ(FloatToHalf(65504.0f), 0x7bff);
  EXPECT_EQ(FloatToHalf(65520.0f), 0x7c00);         // ties to even rounds up to inf
  EXPECT_EQ(FloatToHalf(0x1p-24f), 0x0001);         // smallest subnormal
  EXPECT_EQ(FloatToHalf(0x1p-25f), 0x0000);         // tie rounds to even (zero)
  EXPECT_EQ(FloatToHalf(1.0f + 0x1p-11f), 0x3c00);  // tie to even
  EXPECT_EQ(FloatToHalf(1.0f + 0x1p-11f + 0x1p-20f), 0x3c01);
  EXPECT_TRUE(std::isnan(HalfToFloat(FloatToHalf(NAN))));
  EXPECT_EQ(HalfToFloat(0x3555), 0.333251953125f);
}

TEST(EmuLowpTest, HalfRoundTripsEveryCode) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    float f = HalfToFloat(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(FloatToHalf(f), h) << std::hex << h;
  }
}

TEST(EmuLowpTest, Bf16KnownValuesAndRoundTrip) {
  EXPECT_EQ(FloatToBf16(1.0f), 0x3f80);
  EXPECT_EQ(FloatToBf16(1.0f + 0x1p-8f), 0x3f80);  // tie to even
  EXPECT_EQ(FloatToBf16(1.0f + 0x1p-8f + 0x1p-20f), 0x3f81);
  for (uint32_t b = 0; b < 0x10000; ++b) {
    float f = Bf16ToFloat(static_cast<uint16_t>(b));
    if (std::isnan(f)) continue;
    ASSERT_EQ(FloatToBf16(f), b) << std::hex << b;
  }
}

TEST(EmuLowpTest, Fp8KnownValues) {
  EXPECT_EQ(FloatToFp8E4m3(1.0f), 0x38);
  EXPECT_EQ(FloatToFp8E4m3(448.0f), 0x7e);
  EXPECT_EQ(FloatToFp8E4m3(1000.0f), 0x7e);  // saturates
  EXPECT_EQ(FloatToFp8E4m3(-INFINITY), 0xfe);
  EXPECT_EQ(FloatToFp8E4m3(0x1p-9f), 0x01);  // smallest subnormal
  EXPECT_EQ(FloatToFp8E4m3(1.0625f), 0x38);  // tie to even
  EXPECT_EQ(FloatToFp8E4m3(1.1875f), 0x3a);  // tie to even (up)
  EXPECT_EQ(Fp8E4m3ToFloat(0x7e), 448.0f);
  EXPECT_TRUE(std::isnan(Fp8E4m3ToFloat(0x7f)));
  EXPECT_EQ(FloatToFp8E5m2(1.0f), 0x3c);
  EXPECT_EQ(FloatToFp8E5m2(57344.0f), 0x7b);
  EXPECT_EQ(FloatToFp8E5m2(1e6f), 0x7b);
  EXPECT_EQ(Fp8E5m2ToFloat(0x7c), INFINITY);
  EXPECT_EQ(FloatToFp8E5m2(0x1p-16f), 0x01);
}

TEST(EmuLowpTest, Fp8RoundTripsEveryCode) {
  for (int v = 0; v < 256; ++v) {
    float a = Fp8E4m3ToFloat(static_cast<uint8_t>(v));
    if (!std::isnan(a)) {
      EXPECT_EQ(FloatToFp8E4m3(a), v) << v;
    }
    float b = Fp8E5m2ToFloat(static_cast<uint8_t>(v));
    if (!std::isnan(b) && !std::isinf(b)) {
      EXPECT_EQ(FloatToFp8E5m2(b), v) << v;
    }
  }
}

}  // namespace
}  // namespace ddrr::emu
