#include "trace/wire_encoder.h"

#include <gtest/gtest.h>

#include <string>

#include "common/hex.h"

namespace ddrr::trace {
namespace {

TEST(WireEncoderTest, VarintsMatchTheProtobufSpec) {
  WireEncoder e;
  e.Varint(1, 150);  // the example of the protobuf encoding guide
  EXPECT_EQ(HexBytes(e.view()), "089601");
  e.Clear();
  e.Varint(1, 0);  // proto3: zero is not written
  EXPECT_EQ(e.size(), 0u);
  e.Sint(2, -1);
  EXPECT_EQ(HexBytes(e.view()), "1001");
  e.Clear();
  e.Varint(1, static_cast<uint64_t>(int64_t{-1}));  // negative int32/int64: ten bytes
  EXPECT_EQ(e.size(), 11u);
}

TEST(WireEncoderTest, NestedMessageLengthGrowsPastOneByte) {
  WireEncoder e;
  const size_t m = e.BeginMessage(4);
  std::string big(300, 'x');
  e.Bytes(2, big);
  e.EndMessage(m);
  // tag(4, LEN) = 0x22, length 303 = 0xaf 0x02, then tag 0x12, length 300 = 0xac 0x02
  EXPECT_EQ(HexBytes(e.view().substr(0, 6)), "22af0212ac02");
  EXPECT_EQ(e.size(), 1u + 2u + 303u);
  EXPECT_EQ(e.view().back(), 'x');
}

TEST(WireEncoderTest, GrowsAcrossManyFields) {
  WireEncoder e;
  for (int i = 0; i < 10000; ++i) e.Varint(1, 1ull << (i % 63));
  EXPECT_GT(e.size(), 10000u * 2);
}

}  // namespace
}  // namespace ddrr::trace
