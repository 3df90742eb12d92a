#include "common/step_range.h"

#include <gtest/gtest.h>

namespace ddrr {
namespace {

TEST(StepRangeTest, RangesAndSingleSteps) {
  int64_t a = -1, b = -1;
  ASSERT_TRUE(ParseStepRange("100-110", &a, &b));
  EXPECT_EQ(a, 100);
  EXPECT_EQ(b, 110);
  ASSERT_TRUE(ParseStepRange("7", &a, &b));
  EXPECT_EQ(a, 7);
  EXPECT_EQ(b, 7);
}

TEST(StepRangeTest, RejectsWhatIsNotARange) {
  int64_t a, b;
  for (const char* bad :
       {"", "-", "5-2", "-3", "3-", "a-b", "1-2-3", "1 - 2", "+1-2", "99999999999999999999-1"})
    EXPECT_FALSE(ParseStepRange(bad, &a, &b)) << bad;
}

}  // namespace
}  // namespace ddrr
