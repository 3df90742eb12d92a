#include "replay/progress.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>

#include "replay/monitor.h"
#include "spec/api_table.h"
#include "trace/test_util.h"

namespace ddrr::replay {
namespace {

class ProgressTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(scratch_.path().empty());
    dir_ = scratch_.path();
    auto t = ProgressTable::Create(dir_ + "/progress", 2);
    ASSERT_TRUE(t.ok()) << t.status().message();
    table_ = std::make_unique<ProgressTable>(std::move(*t));
    for (int i = 0; i < 2; ++i) table_->slot(i).rank.store(i);
  }
  ProgressWriter Writer(int i) { return ProgressWriter(&table_->slot(i)); }

  trace::testing::TempDir scratch_;
  std::string dir_;
  std::unique_ptr<ProgressTable> table_;
};

TEST_F(ProgressTest, AnotherMappingSeesTheWrites) {
  auto other = ProgressTable::Open(dir_ + "/progress");
  ASSERT_TRUE(other.ok()) << other.status().message();
  ASSERT_EQ(other->slots(), 2);
  Writer(1).Enter(static_cast<uint32_t>(trace::FunctionId::kNcclAllReduce), 54, 0xabc, 6);
  Writer(1).Leave();
  EXPECT_EQ(other->slot(1).seq.load(), 54u);
  EXPECT_EQ(other->slot(1).calls_done.load(), 1u);
  EXPECT_EQ(static_cast<RankState>(other->slot(1).state.load()), RankState::kReplaying);
}

TEST_F(ProgressTest, NotATable) {
  std::ofstream(dir_ + "/junk") << "not a progress table, but long enough to be mapped";
  EXPECT_FALSE(ProgressTable::Open(dir_ + "/junk").ok());
  EXPECT_FALSE(ProgressTable::Open(dir_ + "/missing").ok());
}

TEST_F(ProgressTest, StopsWhenEveryLiveRankWaitsWhereItsRecordingStops) {
  Monitor m(*table_, 60, false);
  Writer(0).State(RankState::kReplaying);
  Writer(1).State(RankState::kReplaying);
  EXPECT_FALSE(m.ShouldStop());
  Writer(0).State(RankState::kAtEnd);
  EXPECT_FALSE(m.ShouldStop()) << "rank 1 still replays";
  Writer(1).Enter(static_cast<uint32_t>(trace::FunctionId::kNcclAllReduce), 54, 0xabc, 6);
  Writer(1).State(RankState::kStopped);
  EXPECT_TRUE(m.ShouldStop());
  EXPECT_TRUE(m.stopped());
  EXPECT_FALSE(m.still());
  std::vector<RankSnapshot> snap;
  m.Snapshot(&snap);
  ASSERT_EQ(snap.size(), 2u);
  EXPECT_TRUE(snap[0].at_end);
  EXPECT_FALSE(snap[0].waiting);
  EXPECT_TRUE(snap[1].hung);
  EXPECT_EQ(snap[1].call, "ncclAllReduce (#54) op 6 of communicator 0000000000000abc");
}

TEST_F(ProgressTest, FinishedRanksAreNotWaitedFor) {
  Monitor m(*table_, 60, false);
  Writer(0).State(RankState::kFinished);
  Writer(1).State(RankState::kAtEnd);
  EXPECT_TRUE(m.ShouldStop());
  Monitor n(*table_, 60, false);
  Writer(1).State(RankState::kFinished);
  EXPECT_FALSE(n.ShouldStop()) << "nobody left to stop: the ranks end by themselves";
}

TEST_F(ProgressTest, WaitsForRanksThatHaveNotStarted) {
  Monitor m(*table_, 60, false);
  table_->slot(1).rank.store(-1);
  Writer(0).State(RankState::kAtEnd);
  EXPECT_FALSE(m.ShouldStop());
}

TEST_F(ProgressTest, NothingMovingForTheTimeoutIsAHang) {
  Monitor m(*table_, 0.2, false);
  Writer(0).Enter(static_cast<uint32_t>(trace::FunctionId::kCudaStreamSynchronize), 9, 0, 0);
  Writer(1).Enter(static_cast<uint32_t>(trace::FunctionId::kNcclAllReduce), 12, 0xabc, 3);
  EXPECT_FALSE(m.ShouldStop());
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  Writer(1).Leave();  // progress resets the clock
  std::this_thread::sleep_for(std::chrono::milliseconds(120));
  EXPECT_FALSE(m.ShouldStop());
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  EXPECT_TRUE(m.ShouldStop());
  EXPECT_TRUE(m.still());
  std::vector<RankSnapshot> snap;
  m.Snapshot(&snap);
  EXPECT_TRUE(snap[0].waiting);
  EXPECT_FALSE(snap[0].hung);
  EXPECT_EQ(snap[0].call, "cudaStreamSynchronize (#9)");
  EXPECT_GE(snap[0].seconds, 0.3);
}

}  // namespace
}  // namespace ddrr::replay
