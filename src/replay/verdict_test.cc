// Judge on a recording and a "replay" written call by call: what counts as behaving alike
// (renumbered handles and keys, ncclRemoteError for any failure, hangs of either kind, the
// mismatch NCCL hangs on and emu reports) and what is a divergence.
#include "replay/verdict.h"

#include <gtest/gtest.h>

#include "analysis/check.h"
#include "analysis/run_model.h"
#include "analysis/test_trace.h"
#include "replay/plan.h"
#include "trace/test_util.h"

namespace ddrr::replay {
namespace {

using analysis::testing::kFloat32;
using analysis::testing::RankTrace;

constexpr uint64_t kRecordedWorld = 0xaaaa000000000001ull;
constexpr uint64_t kReplayWorld = 0x1234000000000009ull;  // fresh ids: another key
constexpr uint64_t kRecordedComm = 0x55d000;
constexpr uint64_t kReplayComm = 0x77f000;  // and other handles
constexpr int64_t kInvalidUsage = 5, kRemoteError = 6;

// One side of the comparison: its rank traces, written to a directory and read back.
struct Side {
  Side(uint32_t n, uint64_t key, uint64_t comm)
      : comm(comm), ranks(analysis::testing::World(n, comm, key)) {}
  void Open(std::vector<uint32_t> killed = {}) {
    ASSERT_TRUE(analysis::testing::WriteRun(ranks, dir.path(), killed).ok());
    auto read = analysis::testing::ReadRun(dir.path());
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    run = std::move(read->run);
    model = std::move(read->model);
    findings = std::move(read->findings);
  }
  // An all-reduce on the world communicator, `took` ns long.
  uint64_t AllReduce(uint32_t rank, uint64_t count, int64_t result = 0, uint64_t took = 500) {
    return ranks[rank].Op(
        comm, result,
        [&](trace::WireEncoder& e) {
          trace::EncodeNcclAllReduce(e, 0x1000, 0x1000, count, kFloat32, 0, comm, 0x5);
        },
        took);
  }

  uint64_t comm;
  std::vector<RankTrace> ranks;
  trace::testing::TempDir dir;
  std::unique_ptr<trace::Run> run;
  std::unique_ptr<analysis::RunModel> model;
  std::vector<analysis::Finding> findings;
};

class VerdictTest : public ::testing::Test {
 protected:
  VerdictTest() : rec(3, kRecordedWorld, kRecordedComm), rep(3, kReplayWorld, kReplayComm) {}

  Verdict Judged(std::vector<uint32_t> rec_killed = {}, std::vector<uint32_t> rep_killed = {},
                 double timeout = 4) {
    rec.Open(rec_killed);
    rep.Open(rep_killed);
    PlanOptions o;
    o.timeout_seconds = timeout;
    auto planned = BuildPlan(*rec.run, *rec.model, rec.findings, o);
    if (!planned.ok()) {
      ADD_FAILURE() << planned.status().message();
      return {};
    }
    auto v = Judge(*rec.run, *rec.model, rec.findings, *rep.run, *rep.model, rep.findings,
                   planned->plan);
    if (!v.ok()) {
      ADD_FAILURE() << v.status().message();
      return {};
    }
    return *v;
  }
  static const RankVerdict& Of(const Verdict& v, int64_t rank) {
    for (const RankVerdict& r : v.ranks)
      if (r.rank == rank) return r;
    static RankVerdict none;
    ADD_FAILURE() << "no rank " << rank;
    return none;
  }

  Side rec, rep;
};

TEST_F(VerdictTest, TheSameCallsWithOtherKeysAndHandlesReproduce) {
  for (Side* s : {&rec, &rep})
    for (uint32_t r = 0; r < 3; ++r)
      for (int i = 0; i < 4; ++i) s->AllReduce(r, 256);
  const Verdict v = Judged();
  EXPECT_TRUE(v.reproduced);
  EXPECT_EQ(Of(v, 1).compared, 5u) << "the init and four all-reduces";
  EXPECT_EQ(v.replay_keys.at(kReplayWorld), kRecordedWorld);
  ASSERT_FALSE(v.timing.empty());
  EXPECT_EQ(v.timing[0].fn, "ncclAllReduce");
  EXPECT_EQ(v.timing[0].bytes, 1024u);
  EXPECT_EQ(v.timing[0].recorded_ops, 12u);
}

TEST_F(VerdictTest, ACountThatDiffersDiverges) {
  for (Side* s : {&rec, &rep})
    for (uint32_t r = 0; r < 3; ++r)
      for (int i = 0; i < 3; ++i) s->AllReduce(r, s == &rep && r == 1 && i == 1 ? 255 : 256);
  const Verdict v = Judged();
  EXPECT_FALSE(v.reproduced);
  EXPECT_FALSE(Of(v, 0).diverged);
  const RankVerdict& r1 = Of(v, 1);
  ASSERT_TRUE(r1.diverged);
  EXPECT_EQ(r1.difference, "count 255 where the recording had 256");
  EXPECT_NE(r1.recorded_call.find("count=256"), std::string::npos) << r1.recorded_call;
  EXPECT_NE(r1.replayed_call.find("count=255"), std::string::npos) << r1.replayed_call;
  EXPECT_EQ(r1.compared, 2u);
}

TEST_F(VerdictTest, AFailureThatDidNotHappenDiverges) {
  for (Side* s : {&rec, &rep})
    for (uint32_t r = 0; r < 3; ++r) s->AllReduce(r, 8, s == &rep ? kInvalidUsage : 0);
  const Verdict v = Judged();
  EXPECT_FALSE(v.reproduced);
  EXPECT_EQ(Of(v, 2).difference,
            "returned ncclInvalidUsage where the recording returned ncclSuccess");
}

TEST_F(VerdictTest, HearingOfAPeersFailureEqualsFindingIt) {
  for (Side* s : {&rec, &rep})
    for (uint32_t r = 0; r < 3; ++r)
      s->AllReduce(r, 8, (s == &rec) == (r == 0) ? kInvalidUsage : kRemoteError);
  EXPECT_TRUE(Judged().reproduced);
}

TEST_F(VerdictTest, CallsThatWaitedUntilTheirRunGaveUpHungInBoth) {
  // Recorded with emu giving up after 5 s; replayed with a 4 s timeout. Rank 2 never came.
  for (Side* s : {&rec, &rep}) {
    for (uint32_t r = 0; r < 3; ++r) s->AllReduce(r, 8);
    for (uint32_t r = 0; r < 2; ++r)
      s->AllReduce(r, 8, kRemoteError, s == &rec ? 5'000'000'000ull : 4'000'000'000ull);
  }
  for (auto& r : rec.ranks) r.SetEnv("DDRR_EMU_TIMEOUT", "5");
  const Verdict v = Judged({2}, {2});
  EXPECT_TRUE(v.reproduced) << Of(v, 0).difference;
  EXPECT_TRUE(Of(v, 0).hung);
  EXPECT_NE(Of(v, 0).hung_call.find("ncclRemoteError"), std::string::npos);
  EXPECT_FALSE(Of(v, 2).hung);
}

TEST_F(VerdictTest, AFailureThatCameAtOnceIsNotAHang) {
  for (Side* s : {&rec, &rep}) {
    for (uint32_t r = 0; r < 2; ++r)
      s->AllReduce(r, 8, kRemoteError, s == &rec ? 5'000'000'000ull : 1'000'000ull);
  }
  for (auto& r : rec.ranks) r.SetEnv("DDRR_EMU_TIMEOUT", "5");
  const Verdict v = Judged({2}, {2});
  EXPECT_FALSE(v.reproduced);
  EXPECT_EQ(Of(v, 0).difference, "it did not hang, as it did when recorded");
}

TEST_F(VerdictTest, AnOpThatNeverCompletedHungWhereTheReplayStopped) {
  // Recorded on NCCL: every rank issued op 2, nothing completed it, the job was killed. The
  // replay's ranks blocked in it and were stopped, leaving no call.
  for (uint32_t r = 0; r < 3; ++r) {
    rec.ranks[r].Completion(rec.AllReduce(r, 8));
    rec.AllReduce(r, 8);
    rep.AllReduce(r, 8);
  }
  const Verdict v = Judged({0, 1, 2}, {0, 1, 2});
  EXPECT_TRUE(v.reproduced) << Of(v, 0).difference;
  EXPECT_TRUE(Of(v, 1).hung);
}

TEST_F(VerdictTest, TheReplayStoppingBeforeACompletedCallDiverges) {
  for (uint32_t r = 0; r < 3; ++r) {
    rec.ranks[r].Completion(rec.AllReduce(r, 8));
    rec.ranks[r].Completion(rec.AllReduce(r, 8));
    rep.AllReduce(r, 8);
  }
  const Verdict v = Judged({}, {0, 1, 2});
  EXPECT_FALSE(v.reproduced);
  EXPECT_EQ(Of(v, 0).difference, "the replay stopped before this call of the recording");
  EXPECT_EQ(Of(v, 0).replayed_call, "(none)");
}

TEST_F(VerdictTest, TheMismatchNcclHangsOnAndEmuFailsIsTheSameFault) {
  // Recorded on NCCL: rank 2 passed another count, nobody's op completed, the job was killed.
  // Replayed on emu: every rank's op fails with ncclInvalidUsage.
  for (uint32_t r = 0; r < 3; ++r) {
    rec.ranks[r].Completion(rec.AllReduce(r, 8));
    rec.AllReduce(r, r == 2 ? 7 : 8);
    rep.AllReduce(r, 8);
    rep.AllReduce(r, r == 2 ? 7 : 8, kInvalidUsage);
  }
  const Verdict v = Judged({0, 1, 2});
  EXPECT_TRUE(v.reproduced) << Of(v, 0).difference;
  EXPECT_NE(v.recorded_finding.find("mismatched-collective"), std::string::npos)
      << v.recorded_finding;
  EXPECT_TRUE(v.findings_agree) << v.replayed_finding;
}

}  // namespace
}  // namespace ddrr::replay
