#include "trace/run.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "ddrr-synth/synthetic_run.h"
#include "trace/test_util.h"

namespace ddrr::trace {
namespace {

// Each test reads a synthetic run in a directory of its own.
class RunTest : public ::testing::Test {
 protected:
  // A run of `world_size` ranks and `steps` training steps; the rest as in `o`.
  Status WriteRun(uint32_t world_size, uint32_t steps, SyntheticRunOptions o = {}) {
    o.world_size = world_size;
    o.steps = steps;
    return WriteSyntheticRun(dir_.path(), o).status();
  }

  testing::TempDir dir_;
};

TEST_F(RunTest, OpensADirectoryOfRanks) {
  ASSERT_TRUE(WriteRun(3, 2).ok());
  auto run = Run::Open(dir_.path());
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  ASSERT_EQ(run->ranks().size(), 3u);
  EXPECT_EQ(run->ranks()[2].rank, 2);
  EXPECT_EQ(run->world_size(), 3u);
  EXPECT_TRUE(run->MissingRanks().empty());
  EXPECT_TRUE(run->Problems().empty());
}

TEST_F(RunTest, ReportsMissingRankAndSpool) {
  ASSERT_TRUE(WriteRun(4, 2).ok());
  std::filesystem::remove(dir_.File("rank-1.ddrr"));
  std::filesystem::remove(dir_.File("rank-3.ddrr"));
  testing::WriteFile(dir_.File("rank-3.spool"), "x");
  testing::WriteFile(dir_.File("notes.txt"), "ignored");
  auto run = Run::Open(dir_.path());
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->world_size(), 4u);
  EXPECT_EQ(run->MissingRanks(), std::vector<uint32_t>({1}));
  auto problems = run->Problems();
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_NE(problems[0].ToString().find("rank 3 has only a spool"), std::string::npos);
  EXPECT_NE(problems[1].ToString().find("rank 1 of 4: no rank file"), std::string::npos);
}

TEST_F(RunTest, LiveSpoolBesideRankFileIsReadAndReported) {
  // A rank still running has both: the frames sealed so far and the spool it appends to.
  ASSERT_TRUE(WriteRun(2, 2).ok());
  testing::WriteFile(dir_.File("rank-1.spool"), "x");
  auto run = Run::Open(dir_.path());
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  ASSERT_EQ(run->ranks().size(), 2u);
  EXPECT_TRUE(run->ranks()[0].spool_path.empty());
  EXPECT_EQ(std::filesystem::path(run->ranks()[1].spool_path).filename(), "rank-1.spool");
  EXPECT_NE(run->ranks()[1].reader, nullptr);  // the sealed frames are read
  EXPECT_TRUE(run->MissingRanks().empty());
  auto problems = run->Problems();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(std::filesystem::path(problems[0].file).filename(), "rank-1.spool");
  EXPECT_NE(problems[0].message.find("spool of a rank that has not finished"), std::string::npos);
}

TEST_F(RunTest, UnreadableRankFileIsAProblemNotAFailure) {
  ASSERT_TRUE(WriteRun(2, 1).ok());
  testing::WriteFile(dir_.File("rank-1.ddrr"), "");
  auto run = Run::Open(dir_.path());
  ASSERT_TRUE(run.ok());
  ASSERT_EQ(run->ranks().size(), 2u);
  EXPECT_EQ(run->ranks()[1].reader, nullptr);
  auto problems = run->Problems();
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].ToString().find("rank-1.ddrr: offset 0: empty file"), std::string::npos);
}

TEST_F(RunTest, SingleFileAndBadPaths) {
  ASSERT_TRUE(WriteRun(2, 1).ok());
  auto one = Run::Open(dir_.File("rank-1.ddrr"));
  ASSERT_TRUE(one.ok());
  ASSERT_EQ(one->ranks().size(), 1u);
  EXPECT_EQ(one->ranks()[0].rank, 1);
  EXPECT_TRUE(one->MissingRanks().empty());

  EXPECT_EQ(Run::Open(dir_.File("nope")).status().code(), StatusCode::kNotFound);
  testing::TempDir empty;
  auto e = Run::Open(empty.path());
  EXPECT_EQ(e.status().code(), StatusCode::kNotFound);
  EXPECT_NE(e.status().message().find("no rank-N.ddrr files"), std::string::npos);
}

TEST_F(RunTest, KilledRankHasNoFooterButItsEventsRead) {
  SyntheticRunOptions killed;
  killed.stop_rank = 1;
  killed.stop_at_step = 6;
  ASSERT_TRUE(WriteRun(2, 10, killed).ok());
  auto run = Run::Open(dir_.path());
  ASSERT_TRUE(run.ok());
  RankFileReader* r1 = run->FindRank(1)->reader.get();
  ASSERT_NE(r1, nullptr);
  EXPECT_EQ(r1->footer(), nullptr);
  Event ev;
  EventPosition pos;
  int64_t last_step = 0;
  while (r1->Next(&ev, &pos))
    if (ev.has_mark()) last_step = ev.mark().step();
  EXPECT_EQ(last_step, 5);
}

}  // namespace
}  // namespace ddrr::trace
