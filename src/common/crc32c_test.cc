#include "common/crc32c.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace ddrr {
namespace {

// Check values from RFC 3720 (iSCSI) appendix B.4.
TEST(Crc32cTest, MatchesRfc3720Vectors) {
  char zeros[32] = {0};
  EXPECT_EQ(Crc32c(zeros, sizeof(zeros)), 0x8a9136aau);
  char ones[32];
  memset(ones, 0xff, sizeof(ones));
  EXPECT_EQ(Crc32c(ones, sizeof(ones)), 0x62a8ab43u);
  char inc[32];
  for (int i = 0; i < 32; ++i) inc[i] = char(i);
  EXPECT_EQ(Crc32c(inc, sizeof(inc)), 0x46dd794eu);
  EXPECT_EQ(Crc32c("123456789", 9), 0xe3069283u);
}

TEST(Crc32cTest, IncrementalEqualsOneShot) {
  std::string s = "the quick brown fox jumps over the lazy dog, twice over";
  uint32_t whole = Crc32c(s.data(), s.size());
  uint32_t part = Crc32c(s.data(), 13);
  part = Crc32c(s.data() + 13, s.size() - 13, part);
  EXPECT_EQ(whole, part);
}

}  // namespace
}  // namespace ddrr
