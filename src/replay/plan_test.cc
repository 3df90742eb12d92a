// BuildPlan on small traces written call by call: memory sized to what NCCL uses, regions,
// communicators left out or made from a fresh id, devices by identity, windows, how each rank
// ended, and the inputs it refuses.
#include "replay/plan.h"

#include <gtest/gtest.h>

#include "analysis/check.h"
#include "analysis/run_model.h"
#include "analysis/test_trace.h"
#include "trace/test_util.h"

namespace ddrr::replay {
namespace {

using analysis::testing::kFloat32;
using analysis::testing::RankTrace;

constexpr uint64_t kWorld = 0xaaaa000000000001ull;
constexpr uint64_t kHalf0 = 0xcccc000000000000ull;
constexpr uint64_t kHalf1 = 0xcccc000000000001ull;
constexpr uint64_t kComm = 0x55d000;
constexpr uint64_t kHalf = 0x66e000;
constexpr uint64_t kStream = 0x5;

class PlanTest : public ::testing::Test {
 protected:
  std::vector<RankTrace> World(uint32_t n) { return analysis::testing::World(n, kComm, kWorld); }

  StatusOr<PlannedReplay> Plan(const std::vector<RankTrace>& ranks, PlanOptions options = {},
                               std::vector<uint32_t> killed = {},
                               std::vector<uint32_t> absent = {}) {
    const Status written = analysis::testing::WriteRun(ranks, dir_.path(), killed, absent);
    if (!written.ok()) {
      ADD_FAILURE() << written.ToString();  // the setup failed, not the plan
      return written;
    }
    auto read = analysis::testing::ReadRun(dir_.path());
    if (!read.ok()) {
      ADD_FAILURE() << read.status().ToString();
      return read.status();
    }
    run_ = std::move(read->run);
    model_ = std::move(read->model);
    return BuildPlan(*run_, *model_, read->findings, options);
  }

  static uint64_t Malloc(RankTrace& t, uint64_t ptr, uint64_t size) {
    return t.Call({}, 0, [&](trace::WireEncoder& e) { trace::EncodeCudaMalloc(e, ptr, size); });
  }
  static void AllReduceAt(RankTrace& t, uint64_t comm, uint64_t key, uint64_t ptr, uint64_t count) {
    trace::CallInfo c;
    c.comm_key = key;
    t.Call(c, 0, [&](trace::WireEncoder& e) {
      trace::EncodeNcclAllReduce(e, ptr, ptr, count, kFloat32, 0, comm, kStream);
    });
  }

  const RankPlan& RankOf(const PlannedReplay& p, int64_t rank) {
    for (const RankPlan& r : p.plan.ranks())
      if (r.rank() == rank) return r;
    ADD_FAILURE() << "no rank " << rank;
    return p.plan.ranks(0);
  }
  const PlanComm* CommOf(const PlannedReplay& p, uint64_t key) {
    for (const PlanComm& c : p.plan.comms())
      if (c.key() == key) return &c;
    return nullptr;
  }

  trace::testing::TempDir dir_;
  std::unique_ptr<trace::Run> run_;
  std::unique_ptr<analysis::RunModel> model_;
};

TEST_F(PlanTest, AllocationsAreSizedToWhatNcclUses) {
  auto ranks = World(2);
  for (auto& r : ranks) {
    Malloc(r, 0x100000, 1 << 20);
    Malloc(r, 0x300000, 4096);  // never given to NCCL
    AllReduceAt(r, kComm, kWorld, 0x100000 + 256, 64);
  }
  auto p = Plan(ranks);
  ASSERT_TRUE(p.ok()) << p.status().message();
  const RankPlan& r0 = RankOf(*p, 0);
  ASSERT_EQ(r0.allocations_size(), 1);
  EXPECT_EQ(r0.allocations(0).bytes(), 256u + 64 * 4) << "offset + the bytes the op touches";
  EXPECT_EQ(r0.regions_size(), 0);
}

TEST_F(PlanTest, MemoryOutsideAllocationsBecomesOneRegionPerStretch) {
  auto ranks = World(2);
  for (auto& r : ranks) {
    AllReduceAt(r, kComm, kWorld, 0x900000, 16);  // [0x900000, 0x900040)
    AllReduceAt(r, kComm, kWorld, 0x900020, 16);  // overlaps: one stretch
    AllReduceAt(r, kComm, kWorld, 0xa00000, 4);   // apart
  }
  auto p = Plan(ranks);
  ASSERT_TRUE(p.ok()) << p.status().message();
  const RankPlan& r1 = RankOf(*p, 1);
  ASSERT_EQ(r1.regions_size(), 2);
  EXPECT_EQ(r1.regions(0).base(), 0x900000u);
  EXPECT_EQ(r1.regions(0).bytes(), 0x60u);
  EXPECT_EQ(r1.regions(1).base(), 0xa00000u);
  EXPECT_EQ(r1.regions(1).bytes(), 16u);
}

TEST_F(PlanTest, ReplayingSomeRanksLeavesOutCommunicatorsWithOthersAndRemakesSplits) {
  auto ranks = World(4);
  for (uint32_t r = 0; r < 4; ++r)
    ranks[r].Split(kComm, kHalf, r % 2 ? kHalf1 : kHalf0, static_cast<int>(r % 2),
                   static_cast<int>(r));
  PlanOptions o;
  o.ranks = {0, 2};
  auto p = Plan(ranks, o);
  ASSERT_TRUE(p.ok()) << p.status().message();
  const PlanComm* world = CommOf(*p, kWorld);
  ASSERT_NE(world, nullptr);
  EXPECT_FALSE(world->replayed());
  EXPECT_NE(world->skip_reason().find("rank 1"), std::string::npos) << world->skip_reason();
  const PlanComm* half = CommOf(*p, kHalf0);
  ASSERT_NE(half, nullptr);
  EXPECT_TRUE(half->replayed());
  EXPECT_TRUE(half->init_instead()) << "its parent is not replayed";
  ASSERT_EQ(half->member_ranks_size(), 2);
  EXPECT_EQ(half->member_ranks(0), 0);
  EXPECT_EQ(half->member_ranks(1), 2);
  EXPECT_FALSE(CommOf(*p, kHalf1)->replayed());
  EXPECT_EQ(p->plan.ranks_size(), 2);
}

TEST_F(PlanTest, CollectivesCapturedIntoGraphsAreNotReplayed) {
  auto ranks = World(2);
  for (auto& r : ranks) {
    r.AllReduce(kComm, 8);
    trace::CallInfo captured;
    captured.comm_key = kWorld;
    captured.graph_captured = true;
    r.Call(captured, 0, [&](trace::WireEncoder& e) {
      trace::EncodeNcclAllReduce(e, 0x900000, 0x900000, 8, kFloat32, 0, kComm, kStream);
    });
  }
  auto p = Plan(ranks);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(RankOf(*p, 0).calls(), 3u) << "SetDevice, InitRank, the plain all-reduce";
  ASSERT_EQ(RankOf(*p, 0).regions_size(), 1) << "no memory for what is not replayed";
  EXPECT_EQ(RankOf(*p, 0).regions(0).base(), 0x1000u) << "the plain all-reduce's buffer";
  bool noted = false;
  for (const std::string& n : p->notes) noted |= n.find("captured into CUDA graphs") != n.npos;
  EXPECT_TRUE(noted);
}

TEST_F(PlanTest, EveryRankReplayedKeepsEveryCommunicator) {
  auto ranks = World(3);
  auto p = Plan(ranks);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(CommOf(*p, kWorld)->replayed());
  EXPECT_FALSE(CommOf(*p, kWorld)->init_instead());
}

TEST_F(PlanTest, MissingRanksNeedRanks) {
  auto ranks = World(3);
  auto p = Plan(ranks, {}, {}, /*absent=*/{2});
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("--ranks 0,1"), std::string::npos) << p.status().message();
  PlanOptions o;
  o.ranks = {5};
  EXPECT_FALSE(Plan(ranks, o).ok());
}

TEST_F(PlanTest, DevicesFollowIdentityNotRank) {
  auto ranks = World(3);
  ranks[2].SetDevice(0);  // the same device as rank 0, on the same host
  auto p = Plan(ranks);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->devices, 3) << "devices 0, 1, 2 of one host";
  const RankPlan& r2 = RankOf(*p, 2);
  int replay_of_0 = -1;
  for (const PlanDevice& d : r2.devices())
    if (d.recorded() == 0) replay_of_0 = d.replay();
  EXPECT_EQ(replay_of_0, RankOf(*p, 0).devices(0).replay()) << "a shared device stays shared";
}

TEST_F(PlanTest, StepWindow) {
  auto ranks = World(2);
  for (auto& r : ranks)
    for (int step = 0; step < 6; ++step) {
      r.Mark(step);
      r.AllReduce(kComm, 8);
    }
  PlanOptions o;
  o.from = ParseWindowPoint("step:2").value();
  o.until = ParseWindowPoint("step:3").value();
  auto p = Plan(ranks, o);
  ASSERT_TRUE(p.ok());
  const RankPlan& r0 = RankOf(*p, 0);
  // Events: SetDevice 1, InitRank 2, then (mark, all-reduce) per step from seq 3.
  EXPECT_EQ(r0.from_seq(), 3u + 2 * 2) << "the mark of step 2";
  EXPECT_EQ(r0.until_seq(), 3u + 2 * 4 - 1) << "just before the mark of step 4";
  EXPECT_FALSE(ParseWindowPoint("step:x").ok());
  EXPECT_FALSE(ParseWindowPoint("op:0").ok());
  EXPECT_FALSE(ParseWindowPoint("op:12:3").ok()) << "a key has 16 hex digits";
  EXPECT_TRUE(ParseWindowPoint("op:aaaa000000000001:3").ok());
}

TEST_F(PlanTest, HowEachRankEnded) {
  // Rank 1 was killed and rank 0 failed right after: it died there. Rank 2 stalled: its peer
  // waited for it until the run's timeout.
  auto ranks = World(2);
  ranks[0].Advance(1'000'000);
  ranks[0].AllReduce(kComm, 8, kFloat32, /*result=*/6);  // ncclRemoteError, at once
  auto p = Plan(ranks, {}, /*killed=*/{1});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(RankOf(*p, 0).end(), END_EXIT);
  EXPECT_EQ(RankOf(*p, 1).end(), END_SIGNAL);
  EXPECT_EQ(RankOf(*p, 1).signal(), 9);
}

TEST_F(PlanTest, ARankThatStalledStaysAlive) {
  auto ranks = World(2);
  ranks[0].SetEnv("DDRR_EMU_TIMEOUT", "5");
  trace::CallInfo waited;
  waited.result = 6;
  waited.duration_ns = 5'000'000'000ull;  // waited the whole timeout for rank 1
  waited.comm_key = kWorld;
  ranks[0].Advance(1'000'000);
  ranks[0].Call(waited, 0, [&](trace::WireEncoder& e) {
    trace::EncodeNcclAllReduce(e, 0x1000, 0x1000, 8, kFloat32, 0, kComm, kStream);
  });
  auto p = Plan(ranks, {}, /*killed=*/{1});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(RankOf(*p, 1).end(), END_IDLE);
}

}  // namespace
}  // namespace ddrr::replay
