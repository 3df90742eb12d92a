#include "launch/line_prefixer.h"

#include <gtest/gtest.h>

namespace ddrr::launch {
namespace {

TEST(LinePrefixerTest, PrefixesWholeLinesAcrossChunks) {
  LinePrefixer prefixer("[rank 1] ");
  EXPECT_EQ(prefixer.Feed("hel"), "");
  EXPECT_EQ(prefixer.Feed("lo\nwor"), "[rank 1] hello\n");
  EXPECT_EQ(prefixer.Feed("ld\n\nx"), "[rank 1] world\n[rank 1] \n");
  EXPECT_EQ(prefixer.Flush(), "[rank 1] x\n");
  EXPECT_EQ(prefixer.Flush(), "");
}

TEST(LinePrefixerTest, EmptyInputProducesNothing) {
  LinePrefixer prefixer("> ");
  EXPECT_EQ(prefixer.Feed(""), "");
  EXPECT_EQ(prefixer.Flush(), "");
}

}  // namespace
}  // namespace ddrr::launch
