// ddrr merge's library: parts of one job become one run (rank files byte for byte, a rank found
// twice identical copied once), and parts of different jobs are refused with nothing written.
#include "merge/merge.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "trace/run.h"
#include "trace/synthetic_run.h"
#include "trace/test_util.h"

namespace ddrr::merge {
namespace {

namespace fs = std::filesystem;
using trace::testing::ReadFile;

class MergeTest : public ::testing::Test {
 protected:
  // A synthetic 4-rank run in `name`, then only `keep` of its rank files left there.
  std::string Part(const std::string& name, std::vector<int> keep, uint64_t seed = 1,
                   uint32_t world = 4, uint32_t steps = 2) {
    const fs::path dir = root_ / name;
    trace::SyntheticRunOptions o;
    o.world_size = world;
    o.steps = steps;
    o.seed = seed;
    EXPECT_TRUE(trace::WriteSyntheticRun(dir.string(), o).ok());
    for (uint32_t r = 0; r < world; ++r)
      if (std::find(keep.begin(), keep.end(), static_cast<int>(r)) == keep.end())
        fs::remove(dir / ("rank-" + std::to_string(r) + ".ddrr"));
    return dir.string();
  }

  trace::testing::TempDir tmp_;
  fs::path root_ = tmp_.path();
};

TEST_F(MergeTest, TwoHalvesMakeTheWholeRunByteForByte) {
  const std::string full = Part("full", {0, 1, 2, 3});
  const std::string a = Part("a", {0, 1}), b = Part("b", {2, 3});
  auto plan = PlanMerge({{"a", a}, {"b", b}});
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  EXPECT_EQ(plan->conflict, "");
  EXPECT_EQ(plan->world_size, 4u);
  EXPECT_EQ(plan->run_id, "synthetic-1");
  EXPECT_TRUE(plan->missing.empty());
  ASSERT_EQ(plan->ranks.size(), 4u);
  EXPECT_EQ(plan->ranks[3].input, "b");
  const std::string out = (root_ / "merged").string();
  ASSERT_TRUE(WriteMerge(*plan, out).ok());
  for (int r = 0; r < 4; ++r) {
    const std::string name = "rank-" + std::to_string(r) + ".ddrr";
    EXPECT_EQ(ReadFile(out + "/" + name), ReadFile(full + "/" + name)) << name;
  }
  auto run = trace::Run::Open(out);
  ASSERT_TRUE(run.ok());
  EXPECT_TRUE(run->Problems().empty());
  // Into a directory that already holds rank files: refused.
  EXPECT_FALSE(WriteMerge(*plan, out).ok());
}

TEST_F(MergeTest, IdenticalOverlapIsCopiedOnceAndMissingRanksAreNamed) {
  const std::string a = Part("a", {0, 1}), b = Part("b", {1});
  auto plan = PlanMerge({{"a", a}, {"b", b}});
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->conflict, "");
  EXPECT_EQ(plan->ranks.size(), 2u);
  ASSERT_EQ(plan->notes.size(), 1u);
  EXPECT_NE(plan->notes[0].find("rank 1 is in a and b, identical"), std::string::npos);
  EXPECT_EQ(plan->missing, (std::vector<uint32_t>{2, 3}));
}

TEST_F(MergeTest, OverlapWithOtherContentsIsAConflict) {
  // Same run id and world, but rank 1's file in b is not the one in a.
  const std::string a = Part("a", {0, 1}), b = Part("b", {1, 2}, 1, 4, /*steps=*/3);
  auto plan = PlanMerge({{"a", a}, {"b", b}});
  ASSERT_TRUE(plan.ok());
  EXPECT_NE(plan->conflict.find("rank 1 is in"), std::string::npos) << plan->conflict;
  EXPECT_NE(plan->conflict.find("with different contents"), std::string::npos);
  EXPECT_FALSE(WriteMerge(*plan, (root_ / "out").string()).ok());
  EXPECT_FALSE(fs::exists(root_ / "out"));
}

TEST_F(MergeTest, AnotherRunIdIsAConflict) {
  auto plan = PlanMerge({{"a", Part("a", {0, 1})}, {"b", Part("b", {2, 3}, /*seed=*/2)}});
  ASSERT_TRUE(plan.ok());
  EXPECT_NE(plan->conflict.find("is from run 'synthetic-2'"), std::string::npos) << plan->conflict;
  EXPECT_NE(plan->conflict.find("not one job"), std::string::npos);
}

TEST_F(MergeTest, AnotherWorldSizeIsAConflict) {
  auto plan = PlanMerge({{"a", Part("a", {0, 1})}, {"b", Part("b", {2}, 1, /*world=*/3)}});
  ASSERT_TRUE(plan.ok());
  EXPECT_NE(plan->conflict.find("has world size 3"), std::string::npos) << plan->conflict;
}

TEST_F(MergeTest, UnreadableInputIsAnError) {
  EXPECT_FALSE(PlanMerge({}).ok());
  EXPECT_EQ(PlanMerge({{"nothing", (root_ / "none").string()}}).status().code(),
            StatusCode::kNotFound);
  const std::string a = Part("a", {0, 1});
  trace::testing::WriteFile(a + "/rank-1.ddrr", "not a trace");
  auto plan = PlanMerge({{"a", a}});
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("rank-1.ddrr of a cannot be read"), std::string::npos)
      << plan.status().message();
}

}  // namespace
}  // namespace ddrr::merge
