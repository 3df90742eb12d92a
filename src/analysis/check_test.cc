// CheckRun on small traces written call by call: one scenario per finding kind, plus the
// clean cases each rule must leave alone.
#include "analysis/check.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "analysis/report.h"
#include "analysis/test_trace.h"
#include "trace/test_util.h"

namespace ddrr::analysis {
namespace {

using testing::kFloat16;
using testing::kFloat32;
using testing::RankTrace;

constexpr uint64_t kWorld = 0xaaaa000000000001ull;  // communicator keys
constexpr uint64_t kOther = 0xbbbb000000000002ull;
constexpr uint64_t kHalf0 = 0xcccc000000000000ull;
constexpr uint64_t kHalf1 = 0xcccc000000000001ull;
constexpr uint64_t kComm = 0x55d000;  // the handle every rank uses for the world comm

class CheckTest : public ::testing::Test {
 protected:
  // n ranks, each on its own device, all in one world communicator.
  std::vector<RankTrace> World(uint32_t n) { return analysis::testing::World(n, kComm, kWorld); }

  std::vector<Finding> Check(const std::vector<RankTrace>& ranks, CheckOptions options = {},
                             std::vector<uint32_t> killed = {}, std::vector<uint32_t> absent = {}) {
    const Status written = testing::WriteRun(ranks, dir_.path(), killed, absent);
    EXPECT_TRUE(written.ok()) << written.ToString();
    auto run = trace::Run::Open(dir_.path());
    if (!run.ok()) {
      ADD_FAILURE() << run.status().ToString();
      return {};
    }
    auto result = CheckRun(*run, options);
    if (!result.ok()) {
      ADD_FAILURE() << result.status().ToString();
      return {};
    }
    notes_ = result->notes;
    comm_found_ = result->comm_found;
    for (const Finding& f : result->findings) {
      // Every finding renders to one JSON line with the documented keys.
      const std::string j = FindingJson(f);
      EXPECT_EQ(j.find('\n'), std::string::npos);
      for (const char* key :
           {"\"kind\":", "\"severity\":", "\"comm_key\":", "\"comm_size\":", "\"parent_key\":",
            "\"op_seq\":", "\"ranks\":", "\"message\":", "\"evidence\":", "\"calls\":"})
        EXPECT_NE(j.find(key), std::string::npos) << key << " missing in " << j;
    }
    return result->findings;
  }

  static std::vector<const Finding*> Of(const std::vector<Finding>& fs, FindingKind kind) {
    std::vector<const Finding*> out;
    for (const Finding& f : fs)
      if (f.kind == kind) out.push_back(&f);
    return out;
  }

  static std::string Kinds(const std::vector<Finding>& fs) {
    std::string s;
    for (const Finding& f : fs) s += std::string(KindName(f.kind)) + " ";
    return s;
  }

  trace::testing::TempDir dir_;
  std::vector<std::string> notes_;
  bool comm_found_ = true;
};

// The names users filter and script on (docs/CHECK.md), pinned per kind so that the name table
// cannot drift from the enum's order.
TEST(FindingNamesTest, EveryKindHasItsName) {
  const std::pair<FindingKind, const char*> kExpected[] = {
      {FindingKind::kCommSizeMismatch, "comm-size-mismatch"},
      {FindingKind::kDuplicateRank, "duplicate-rank"},
      {FindingKind::kDuplicateDevice, "duplicate-device"},
      {FindingKind::kMissingFromInit, "missing-from-init"},
      {FindingKind::kHangInSetup, "hang-in-setup"},
      {FindingKind::kSplitInconsistent, "split-inconsistent"},
      {FindingKind::kMismatchedCollective, "mismatched-collective"},
      {FindingKind::kUnmatchedP2p, "unmatched-p2p"},
      {FindingKind::kMismatchedP2p, "mismatched-p2p"},
      {FindingKind::kMissingParticipant, "missing-participant"},
      {FindingKind::kCommAbort, "comm-abort"},
      {FindingKind::kNcclAsyncError, "nccl-async-error"},
      {FindingKind::kNcclError, "nccl-error"},
      {FindingKind::kCudaError, "cuda-error"},
      {FindingKind::kNanAppeared, "nan-appeared"},
      {FindingKind::kDataDivergence, "data-divergence"},
      {FindingKind::kNotCompleted, "not-completed"},
      {FindingKind::kStraggler, "straggler"}};
  ASSERT_EQ(std::size(kExpected), static_cast<size_t>(kFindingKinds));
  for (const auto& [kind, name] : kExpected) EXPECT_STREQ(KindName(kind), name);
  EXPECT_STREQ(KindName(static_cast<FindingKind>(kFindingKinds)), "unknown");
  EXPECT_STREQ(SeverityName(Severity::kError), "error");
  EXPECT_STREQ(SeverityName(Severity::kWarning), "warning");
  EXPECT_STREQ(SeverityName(Severity::kInfo), "info");
}

TEST_F(CheckTest, CleanRunHasNoFindings) {
  auto ranks = World(3);
  for (int step = 0; step < 12; ++step)
    for (auto& r : ranks) {
      const uint64_t s = r.AllReduce(kComm, 1024);
      r.Completion(s);
      r.Completion(r.Broadcast(kComm, 256, 1));
    }
  // A ring exchange in a group, and a send to self, pair up.
  for (uint32_t r = 0; r < 3; ++r) {
    ranks[r].GroupStart();
    ranks[r].Send(kComm, 64, static_cast<int>((r + 1) % 3));
    ranks[r].Recv(kComm, 64, static_cast<int>((r + 2) % 3));
    ranks[r].Send(kComm, 8, static_cast<int>(r));
    ranks[r].Recv(kComm, 8, static_cast<int>(r));
    ranks[r].Completion(ranks[r].GroupEnd());
  }
  const auto fs = Check(ranks);
  EXPECT_TRUE(fs.empty()) << Kinds(fs) << (fs.empty() ? "" : FindingText(fs.front()));
}

TEST_F(CheckTest, MismatchedCollectiveNamesTheMinority) {
  auto ranks = World(4);
  for (auto& r : ranks) r.AllReduce(kComm, 1024);
  for (uint32_t r = 0; r < 4; ++r) ranks[r].AllReduce(kComm, r == 2 ? 1023 : 1024);
  for (auto& r : ranks) r.AllReduce(kComm, 1);
  const auto fs = Check(ranks);
  ASSERT_FALSE(fs.empty());
  const Finding& f = fs.front();
  EXPECT_EQ(f.kind, FindingKind::kMismatchedCollective);
  EXPECT_EQ(f.ranks, std::vector<int64_t>({2}));
  EXPECT_EQ(f.comm_key, kWorld);
  EXPECT_EQ(f.comm_size, 4);
  EXPECT_EQ(f.op_seq, 2u);
  EXPECT_NE(f.message.find("count differs"), std::string::npos) << f.message;
  EXPECT_EQ(Of(fs, FindingKind::kMismatchedCollective).size(), 1u);  // the first one only
}

TEST_F(CheckTest, MissingParticipantBlamesTheRankThatStoppedFirst) {
  auto ranks = World(3);
  for (int i = 0; i < 5; ++i)
    for (uint32_t r = 0; r < 3; ++r)
      if (r != 1 || i < 3) ranks[r].AllReduce(kComm, 64);
  const auto fs = Check(ranks, {}, /*killed=*/{1});
  ASSERT_FALSE(fs.empty());
  const Finding& f = fs.front();
  EXPECT_EQ(f.kind, FindingKind::kMissingParticipant);
  EXPECT_EQ(f.ranks, std::vector<int64_t>({1}));
  EXPECT_EQ(f.op_seq, 4u);
  EXPECT_NE(f.message.find("ranks 0,2 reached op 5; rank 1 stopped at op 3"), std::string::npos)
      << f.message;
  bool says_killed = false;
  for (const std::string& e : f.evidence) says_killed |= e.find("no footer") != std::string::npos;
  EXPECT_TRUE(says_killed);
}

TEST_F(CheckTest, UnmatchedSendInsideAGroup) {
  auto ranks = World(3);
  for (uint32_t r = 0; r < 3; ++r) {
    ranks[r].GroupStart();
    ranks[r].Send(kComm, 64, static_cast<int>((r + 1) % 3));
    ranks[r].Recv(kComm, 64, static_cast<int>((r + 2) % 3));
    if (r == 2) ranks[r].Send(kComm, 64, 0);  // nobody receives this one
    ranks[r].GroupEnd();
  }
  const auto fs = Check(ranks);
  ASSERT_EQ(fs.size(), 1u) << Kinds(fs);
  const Finding& f = fs.front();
  EXPECT_EQ(f.kind, FindingKind::kUnmatchedP2p);
  EXPECT_EQ(f.ranks, std::vector<int64_t>({2}));
  EXPECT_EQ(f.op_seq, 3u);
  ASSERT_EQ(f.calls.size(), 2u);
  EXPECT_EQ(f.calls[0].rank, 2);
  EXPECT_EQ(f.calls[0].call.fn, "ncclSend");
  EXPECT_EQ(f.calls[1].rank, 0);  // the peer is named too
  EXPECT_FALSE(f.calls[1].has_call);
  EXPECT_NE(f.message.find("rank 0 posted 1, rank 2 posted 2"), std::string::npos) << f.message;
}

TEST_F(CheckTest, UnmatchedRecv) {
  auto ranks = World(2);
  ranks[1].Recv(kComm, 16, 0);
  const auto fs = Check(ranks);
  ASSERT_EQ(fs.size(), 1u) << Kinds(fs);
  EXPECT_EQ(fs[0].kind, FindingKind::kUnmatchedP2p);
  EXPECT_EQ(fs[0].ranks, std::vector<int64_t>({1}));
  EXPECT_NE(fs[0].message.find("ncclRecv from rank 0"), std::string::npos) << fs[0].message;
}

TEST_F(CheckTest, MisSizedPairNamesBothSides) {
  auto ranks = World(2);
  ranks[0].Send(kComm, 1024, 1, kFloat32);
  ranks[1].Recv(kComm, 1024, 0, kFloat16);
  ranks[0].Send(kComm, 10, 1);
  ranks[1].Recv(kComm, 12, 0);
  const auto fs = Check(ranks);
  ASSERT_EQ(fs.size(), 1u) << Kinds(fs);
  const Finding& f = fs.front();
  EXPECT_EQ(f.kind, FindingKind::kMismatchedP2p);
  EXPECT_EQ(f.ranks, std::vector<int64_t>({0, 1}));
  EXPECT_NE(f.message.find("datatype differs"), std::string::npos) << f.message;
  EXPECT_NE(f.message.find("4096 bytes"), std::string::npos) << f.message;
  ASSERT_EQ(f.calls.size(), 2u);
  EXPECT_EQ(f.calls[0].note, "sender");
  EXPECT_EQ(f.calls[1].note, "receiver");
  EXPECT_NE(f.evidence.back().find("2 mis-sized pair(s)"), std::string::npos);
}

TEST_F(CheckTest, PairsOnASplitUseCommRanks) {
  // 4 ranks, split by rank % 2 with key = -rank: in the odd half, global 3 is comm rank 0 and
  // global 1 is comm rank 1. Global 3 sends to comm rank 1 (global 1), which receives from
  // comm rank 0.
  auto ranks = World(4);
  for (uint32_t r = 0; r < 4; ++r)
    ranks[r].Split(kComm, 0x777, r % 2 ? kHalf1 : kHalf0, static_cast<int>(r % 2),
                   -static_cast<int>(r));
  ranks[3].Send(0x777, 32, 1);
  ranks[1].Recv(0x777, 32, 0);
  for (uint32_t r = 0; r < 4; ++r) ranks[r].AllReduce(0x777, 8);
  auto fs = Check(ranks);
  EXPECT_TRUE(fs.empty()) << Kinds(fs);
  // The same exchange with the wrong peer at the receiver is unmatched.
  auto again = World(4);
  for (uint32_t r = 0; r < 4; ++r)
    again[r].Split(kComm, 0x777, r % 2 ? kHalf1 : kHalf0, static_cast<int>(r % 2),
                   -static_cast<int>(r));
  again[3].Send(0x777, 32, 1);
  again[1].Recv(0x777, 32, 1);  // from itself: wrong
  std::filesystem::remove_all(dir_.path());
  std::filesystem::create_directory(dir_.path());
  fs = Check(again);
  ASSERT_EQ(Of(fs, FindingKind::kUnmatchedP2p).size(), 2u) << Kinds(fs);
  EXPECT_EQ(fs.front().parent_key, kWorld);
}

TEST_F(CheckTest, SizeMismatchFromOneUniqueId) {
  std::vector<RankTrace> ranks;
  for (uint32_t r = 0; r < 4; ++r) {
    ranks.emplace_back(r, 4);
    // The recorder's key includes nranks: rank 3's different size gives it another key.
    ranks[r].InitRank(kComm, r == 3 ? kOther : kWorld, r == 3 ? 3 : 4, "same-id",
                      static_cast<int>(r));
  }
  const auto fs = Check(ranks);
  ASSERT_FALSE(fs.empty());
  EXPECT_EQ(fs.front().kind, FindingKind::kCommSizeMismatch) << Kinds(fs);
  EXPECT_EQ(fs.front().ranks, std::vector<int64_t>({3}));
  EXPECT_EQ(fs.front().comm_key, kWorld);
}

TEST_F(CheckTest, CommCountDisagreesWithTheSizeAskedFor) {
  auto ranks = World(2);
  ranks[0].CommCount(kComm, 2);
  ranks[1].CommCount(kComm, 3);
  const auto fs = Check(ranks);
  ASSERT_EQ(Of(fs, FindingKind::kCommSizeMismatch).size(), 1u) << Kinds(fs);
  EXPECT_EQ(fs.front().ranks, std::vector<int64_t>({1}));
}

TEST_F(CheckTest, DuplicateRank) {
  std::vector<RankTrace> ranks;
  for (uint32_t r = 0; r < 3; ++r) {
    ranks.emplace_back(r, 3);
    ranks[r].SetDevice(static_cast<int>(r));
    ranks[r].InitRank(kComm, kWorld, 3, "w", r == 2 ? 1 : static_cast<int>(r));
  }
  const auto fs = Check(ranks);
  const auto dup = Of(fs, FindingKind::kDuplicateRank);
  ASSERT_EQ(dup.size(), 1u) << Kinds(fs);
  EXPECT_EQ(dup[0]->ranks, std::vector<int64_t>({1, 2}));
  EXPECT_NE(dup[0]->message.find("joined as rank 1"), std::string::npos) << dup[0]->message;
}

TEST_F(CheckTest, DuplicateDeviceNamesTheRankOffItsLocalRank) {
  std::vector<RankTrace> ranks;
  for (uint32_t r = 0; r < 3; ++r) {
    ranks.emplace_back(r, 3);
    ranks[r].SetDevice(r == 2 ? 0 : static_cast<int>(r));
    ranks[r].InitRank(kComm, kWorld, 3, "w", static_cast<int>(r));
  }
  const auto fs = Check(ranks);
  ASSERT_FALSE(fs.empty());
  const Finding& f = fs.front();
  EXPECT_EQ(f.kind, FindingKind::kDuplicateDevice) << Kinds(fs);
  EXPECT_EQ(f.ranks, std::vector<int64_t>({0, 2}));
  EXPECT_EQ(f.op_seq, 0u);
  ASSERT_EQ(f.calls.size(), 2u);
  EXPECT_EQ(f.calls[0].note, "");
  EXPECT_EQ(f.calls[1].note, "device 0 but local rank 2");
  EXPECT_EQ(f.calls[1].call.fn, "ncclCommInitRank");
}

TEST_F(CheckTest, SameDeviceOnAnotherHostIsFine) {
  std::vector<RankTrace> ranks;
  for (uint32_t r = 0; r < 2; ++r) {
    ranks.emplace_back(r, 2);
    ranks[r].SetHost("node" + std::to_string(r));
    ranks[r].SetLocalRank(0);
    ranks[r].SetDevice(0);
    ranks[r].InitRank(kComm, kWorld, 2, "w", static_cast<int>(r));
  }
  const auto fs = Check(ranks);
  EXPECT_TRUE(fs.empty()) << Kinds(fs);
}

TEST_F(CheckTest, DuplicateDeviceInInitAll) {
  RankTrace r(0, 1);
  r.InitAll({0x10, 0x11, 0x12}, kWorld, {0, 1, 1});
  const auto fs = Check({r});
  const auto dup = Of(fs, FindingKind::kDuplicateDevice);
  ASSERT_EQ(dup.size(), 1u) << Kinds(fs);
  ASSERT_EQ(dup[0]->calls.size(), 2u);
  EXPECT_EQ(dup[0]->calls[0].comm_rank, 1);
  EXPECT_EQ(dup[0]->calls[1].comm_rank, 2);
}

TEST_F(CheckTest, MissingFromInitOnlyWhenEveryRankFileIsThere) {
  auto build = [] {
    std::vector<RankTrace> ranks;
    for (uint32_t r = 0; r < 3; ++r) {
      ranks.emplace_back(r, 3);
      ranks[r].SetDevice(static_cast<int>(r));
      if (r != 2) ranks[r].InitRank(kComm, kWorld, 3, "w", static_cast<int>(r));
    }
    ranks[2].CudaMalloc(0);  // rank 2 ran, but never created the communicator
    return ranks;
  };
  auto fs = Check(build());
  const auto miss = Of(fs, FindingKind::kMissingFromInit);
  ASSERT_EQ(miss.size(), 1u) << Kinds(fs);
  EXPECT_EQ(miss[0]->ranks, std::vector<int64_t>({2}));
  EXPECT_NE(miss[0]->message.find("size 3 but only 2"), std::string::npos) << miss[0]->message;
  // Without rank 2's file, its absence proves nothing.
  std::filesystem::remove_all(dir_.path());
  std::filesystem::create_directory(dir_.path());
  fs = Check(build(), {}, {}, /*absent=*/{2});
  EXPECT_TRUE(Of(fs, FindingKind::kMissingFromInit).empty()) << Kinds(fs);
  // Nor does a rank file read alone.
  auto alone = trace::Run::Open(dir_.File("rank-0.ddrr"));
  ASSERT_TRUE(alone.ok()) << alone.status().ToString();
  auto checked = CheckRun(*alone);
  ASSERT_TRUE(checked.ok()) << checked.status().ToString();
  EXPECT_TRUE(Of(checked->findings, FindingKind::kMissingFromInit).empty())
      << Kinds(checked->findings);
}

TEST_F(CheckTest, SplitCalledFewerTimesOnOneRank) {
  auto ranks = World(3);
  for (uint32_t r = 0; r < 3; ++r) {
    ranks[r].Split(kComm, 0x701, kHalf0 + 10, 0, static_cast<int>(r));
    if (r != 1) ranks[r].Split(kComm, 0x702, kHalf0 + 20, 0, static_cast<int>(r));
  }
  const auto fs = Check(ranks);
  const auto split = Of(fs, FindingKind::kSplitInconsistent);
  ASSERT_EQ(split.size(), 1u) << Kinds(fs);
  EXPECT_EQ(split[0]->ranks, std::vector<int64_t>({1}));
  EXPECT_EQ(split[0]->comm_key, kWorld);
}

TEST_F(CheckTest, ShrinkLeavesOutTheRankItExcludes) {
  // Rank 0 is excluded and does not call ncclCommShrink; the others then split the parent: a
  // shrink is not a split, so no rank split the parent fewer times than the others.
  auto ranks = World(3);
  for (uint32_t r = 1; r < 3; ++r) ranks[r].Shrink(kComm, {0}, kHalf1, 0x703);
  for (uint32_t r = 0; r < 3; ++r) ranks[r].Split(kComm, 0x704, kHalf0, 0, static_cast<int>(r));
  const auto fs = Check(ranks);
  EXPECT_TRUE(Of(fs, FindingKind::kSplitInconsistent).empty()) << Kinds(fs);
}

TEST_F(CheckTest, SplitColorGroupOfTheWrongSize) {
  auto ranks = World(4);
  for (uint32_t r = 0; r < 4; ++r) {
    ranks[r].Split(kComm, 0x701, r < 2 ? kHalf0 : kHalf1, r < 2 ? 0 : 1, static_cast<int>(r));
    // NCCL says the color-1 communicator has 3 ranks, but only 2 chose color 1.
    ranks[r].CommCount(0x701, r < 2 ? 2 : 3);
  }
  const auto fs = Check(ranks);
  const auto split = Of(fs, FindingKind::kSplitInconsistent);
  ASSERT_EQ(split.size(), 1u) << Kinds(fs);
  EXPECT_EQ(split[0]->comm_key, kHalf1);
  EXPECT_EQ(split[0]->parent_key, kWorld);
  EXPECT_EQ(split[0]->ranks, std::vector<int64_t>({2, 3}));
  EXPECT_NE(split[0]->message.find("2 rank(s) chose color 1"), std::string::npos);
}

TEST_F(CheckTest, CudaErrorsMarkTheFirstRankToFail) {
  auto ranks = World(3);
  ranks[0].Advance(50'000);
  ranks[0].CudaMalloc(2);  // cudaErrorMemoryAllocation, later than rank 1's
  ranks[1].CudaMalloc(2);
  ranks[1].CudaMalloc(2);
  const auto fs = Check(ranks);
  const auto errs = Of(fs, FindingKind::kCudaError);
  ASSERT_EQ(errs.size(), 2u) << Kinds(fs);
  EXPECT_EQ(errs[0]->ranks, std::vector<int64_t>({1}));
  EXPECT_NE(errs[0]->message.find("first rank to fail"), std::string::npos) << errs[0]->message;
  EXPECT_NE(errs[0]->message.find("cudaErrorMemoryAllocation"), std::string::npos);
  EXPECT_NE(errs[0]->message.find("1 more like it"), std::string::npos) << errs[0]->message;
  EXPECT_EQ(errs[1]->message.find("first rank to fail"), std::string::npos);
}

TEST_F(CheckTest, NcclErrorsAggregatePerCommunicator) {
  auto ranks = World(2);
  for (int i = 0; i < 3; ++i) ranks[1].AllReduce(kComm, 8, kFloat32, /*ncclInvalidArgument*/ 4);
  ranks[0].AllReduce(kComm, 8);
  const auto fs = Check(ranks);
  const auto errs = Of(fs, FindingKind::kNcclError);
  ASSERT_EQ(errs.size(), 1u) << Kinds(fs);
  EXPECT_EQ(errs[0]->op_seq, 1u);
  EXPECT_NE(errs[0]->message.find("ncclInvalidArgument"), std::string::npos);
  EXPECT_NE(errs[0]->message.find("2 more failed calls"), std::string::npos) << errs[0]->message;
}

TEST_F(CheckTest, AbortAndAsyncErrors) {
  auto ranks = World(3);
  for (auto& r : ranks) r.AllReduce(kComm, 8);
  ranks[1].AllReduce(kComm, 8);
  ranks[1].Abort(kComm);  // first
  ranks[0].Advance(100'000);
  ranks[0].AsyncError(kComm, /*ncclRemoteError*/ 6);
  ranks[0].AsyncError(kComm, 6);
  ranks[0].Abort(kComm);
  const auto fs = Check(ranks);
  const auto aborts = Of(fs, FindingKind::kCommAbort);
  ASSERT_EQ(aborts.size(), 1u) << Kinds(fs);
  EXPECT_EQ(aborts[0]->ranks, std::vector<int64_t>({1}));
  EXPECT_EQ(aborts[0]->op_seq, 2u);
  EXPECT_NE(aborts[0]->message.find("rank 0 followed"), std::string::npos) << aborts[0]->message;
  const auto async = Of(fs, FindingKind::kNcclAsyncError);
  ASSERT_EQ(async.size(), 1u);
  EXPECT_EQ(async[0]->ranks, std::vector<int64_t>({0}));
  EXPECT_NE(async[0]->message.find("ncclRemoteError"), std::string::npos);
  // The abort happened first, so it comes before the async error it caused.
  EXPECT_LT(aborts[0] - fs.data(), async[0] - fs.data());
}

TEST_F(CheckTest, NotCompletedOpsAndGroups) {
  auto ranks = World(2);
  for (auto& r : ranks) r.Completion(r.AllReduce(kComm, 8));
  ranks[0].AllReduce(kComm, 8);  // no completion
  ranks[1].Completion(ranks[1].AllReduce(kComm, 8));
  ranks[1].GroupStart();
  ranks[1].Send(kComm, 4, 0);
  ranks[1].GroupEnd();  // no completion
  ranks[0].Completion(ranks[0].Recv(kComm, 4, 1));
  const auto fs = Check(ranks);
  const auto nc = Of(fs, FindingKind::kNotCompleted);
  ASSERT_EQ(nc.size(), 2u) << Kinds(fs);
  EXPECT_EQ(nc[0]->severity, Severity::kWarning);
  EXPECT_EQ(nc[0]->ranks, std::vector<int64_t>({0}));
  EXPECT_EQ(nc[0]->op_seq, 2u);
  EXPECT_EQ(nc[1]->ranks, std::vector<int64_t>({1}));
  EXPECT_NE(nc[1]->message.find("in a group of 1 op(s)"), std::string::npos) << nc[1]->message;
}

TEST_F(CheckTest, NanEntryNamesTheFeederNotTheReceivers) {
  auto ranks = World(3);
  for (auto& r : ranks) r.SetDigests();
  for (int op = 1; op <= 4; ++op)
    for (uint32_t r = 0; r < 3; ++r) {
      const uint64_t s = ranks[r].AllReduce(kComm, 256);
      // Rank 2 feeds NaN at op 2; from then on every output has NaN, and every later input.
      const bool nan_in = (op == 2 && r == 2) || op > 2;
      ranks[r].Digest(s, 0, 100 + r + 10 * op, nan_in ? 1 : 0);
      ranks[r].Digest(s, 1, 1000 + op, op >= 2 ? 1 : 0);
    }
  const auto fs = Check(ranks);
  const auto nan = Of(fs, FindingKind::kNanAppeared);
  ASSERT_EQ(nan.size(), 1u) << Kinds(fs);
  EXPECT_EQ(nan[0]->ranks, std::vector<int64_t>({2}));
  EXPECT_EQ(nan[0]->op_seq, 2u);
  EXPECT_NE(nan[0]->message.find("ranks 0,1 received it"), std::string::npos) << nan[0]->message;
  EXPECT_TRUE(Of(fs, FindingKind::kDataDivergence).empty());
}

TEST_F(CheckTest, DivergentOutputByMajority) {
  auto ranks = World(4);
  for (auto& r : ranks) r.SetDigests();
  for (int op = 1; op <= 5; ++op)
    for (uint32_t r = 0; r < 4; ++r) {
      const uint64_t s = ranks[r].AllReduce(kComm, 256);
      ranks[r].Digest(s, 0, 7 * r + op);
      ranks[r].Digest(s, 1, (r == 3 && op >= 3) ? 0xbad0 + op : 0x600d0 + op);
    }
  const auto fs = Check(ranks);
  ASSERT_EQ(fs.size(), 1u) << Kinds(fs);
  EXPECT_EQ(fs[0].kind, FindingKind::kDataDivergence);
  EXPECT_EQ(fs[0].ranks, std::vector<int64_t>({3}));
  EXPECT_EQ(fs[0].op_seq, 3u);
  EXPECT_NE(fs[0].evidence.back().find("3 op(s) with divergent outputs"), std::string::npos);
}

TEST_F(CheckTest, ReduceScatterOutputsMayDiffer) {
  auto ranks = World(2);
  for (auto& r : ranks) r.SetDigests();
  for (uint32_t r = 0; r < 2; ++r) {
    const uint64_t s = ranks[r].Broadcast(kComm, 16, 0);
    ranks[r].Digest(s, 1, 42);  // broadcast: equal
    ranks[r].Send(kComm, 4, static_cast<int>(1 - r));
    ranks[r].Recv(kComm, 4, static_cast<int>(1 - r));
  }
  EXPECT_TRUE(Check(ranks).empty());
}

TEST_F(CheckTest, StragglerIsConsistentlyLate) {
  auto ranks = World(4);
  for (int op = 0; op < 30; ++op)
    for (uint32_t r = 0; r < 4; ++r) {
      ranks[r].Advance(r == 1 ? 5'000'000 : (op * 7 + r * 3) % 5 * 1000);  // rank 1: 5 ms late
      ranks[r].AllReduce(kComm, 64);
      if (r == 1) continue;
      ranks[r].Advance(5'000'000);  // the others wait for rank 1 inside the collective
    }
  const auto fs = Check(ranks);
  ASSERT_EQ(fs.size(), 1u) << Kinds(fs);
  const Finding& f = fs.front();
  EXPECT_EQ(f.kind, FindingKind::kStraggler);
  EXPECT_EQ(f.severity, Severity::kInfo);
  EXPECT_EQ(f.ranks, std::vector<int64_t>({1}));
  EXPECT_NE(f.message.find("arrived last at 30 of 30"), std::string::npos) << f.message;
  EXPECT_NE(f.message.find("median lateness 5."), std::string::npos) << f.message;
}

TEST_F(CheckTest, NoStragglerWhenArrivalOrderIsNoise) {
  auto ranks = World(4);
  for (int op = 0; op < 40; ++op)
    for (uint32_t r = 0; r < 4; ++r) {
      // Whoever is last changes every op, by a few ms.
      ranks[r].Advance(((op + r) % 4) * 2'000'000);
      ranks[r].AllReduce(kComm, 64);
      ranks[r].Advance((3 - (op + r) % 4) * 2'000'000);
    }
  const auto fs = Check(ranks);
  EXPECT_TRUE(fs.empty()) << Kinds(fs);
}

TEST_F(CheckTest, CommFilterAndOrder) {
  auto ranks = World(3);
  for (uint32_t r = 0; r < 3; ++r) {
    ranks[r].SetDevice(r == 1 ? 0 : static_cast<int>(r));
    ranks[r].InitRank(0x999, kOther, 3, "other", static_cast<int>(r));
  }
  for (uint32_t r = 0; r < 3; ++r) ranks[r].AllReduce(kComm, r == 0 ? 5 : 6);
  ranks[2].CudaMalloc(2);
  auto fs = Check(ranks);
  // Setup (the duplicate device on the second comm) first, then usage, then failures.
  ASSERT_EQ(fs.size(), 3u) << Kinds(fs);
  EXPECT_EQ(fs[0].kind, FindingKind::kDuplicateDevice);
  EXPECT_EQ(fs[1].kind, FindingKind::kMismatchedCollective);
  EXPECT_EQ(fs[2].kind, FindingKind::kCudaError);
  CheckOptions only;
  only.comm_filter = kWorld;
  std::filesystem::remove_all(dir_.path());
  std::filesystem::create_directory(dir_.path());
  fs = Check(ranks, only);
  ASSERT_EQ(fs.size(), 1u) << Kinds(fs);
  EXPECT_EQ(fs[0].kind, FindingKind::kMismatchedCollective);
  EXPECT_TRUE(comm_found_);
  only.comm_filter = 0x1234;
  fs = Check(ranks, only);
  EXPECT_FALSE(comm_found_);
  EXPECT_TRUE(fs.empty());
}

TEST_F(CheckTest, TruncatedRankFileStillChecked) {
  // Many small frames, then the file cut in the middle: the intact frames before the cut are
  // read and the rank looks like it stopped there.
  auto ranks = World(3);
  for (int i = 0; i < 300; ++i)
    for (auto& r : ranks) r.AllReduce(kComm, 1024);
  for (RankTrace& r : ranks) {
    r.SetFrameBytes(512);
    ASSERT_TRUE(r.Write(dir_.path()).ok());
  }
  const std::string victim = dir_.File("rank-1.ddrr");
  std::filesystem::resize_file(victim, std::filesystem::file_size(victim) / 2);
  auto run = trace::Run::Open(dir_.path());
  ASSERT_TRUE(run.ok());
  auto result = CheckRun(*run);
  ASSERT_TRUE(result.ok());
  ASSERT_FALSE(result->findings.empty());
  const Finding& f = result->findings.front();
  EXPECT_EQ(f.kind, FindingKind::kMissingParticipant);
  EXPECT_EQ(f.ranks, std::vector<int64_t>({1}));
  EXPECT_GT(f.op_seq, 50u);  // it got some way
  EXPECT_LT(f.op_seq, 250u);
  EXPECT_FALSE(run->ranks()[1].reader->problems().empty());
}

// Hangs read from `enter` events (ranks inside calls that never returned), as a killed job's
// salvage leaves them: each rank died 5 s after its last event.
class HangTest : public CheckTest {
 protected:
  static constexpr uint64_t kPair = 0x66d000;  // handle of a second communicator
  static constexpr uint64_t kDiedAfterNs = 5'000'000'000;

  // Ranks `a` and `b` (comm ranks 0 and 1) create a second communicator, handle kPair.
  static void Pair(std::vector<RankTrace>& ranks, uint32_t a, uint32_t b) {
    ranks[a].InitRank(kPair, kOther, 2, "pair", 0);
    ranks[b].InitRank(kPair, kOther, 2, "pair", 1);
  }
  // Checked as the job's salvage leaves it once killed.
  std::vector<Finding> CheckKilled(std::vector<RankTrace>& ranks) {
    for (RankTrace& r : ranks) r.SetEnd(trace::kEndSalvaged, kDiedAfterNs);
    return Check(ranks);
  }
  static bool Says(const Finding& f, const std::string& text) {
    if (f.message.find(text) != std::string::npos) return true;
    for (const std::string& e : f.evidence)
      if (e.find(text) != std::string::npos) return true;
    return false;
  }
  static std::string Text(const std::vector<Finding>& fs) {
    std::string s;
    for (const Finding& f : fs) s += FindingText(f);
    return s;
  }
};

TEST_F(HangTest, WaitInsideOneCommunicatorBlamesWhoNeverCame) {
  auto ranks = World(3);
  for (auto& r : ranks) r.AllReduce(kComm, 64);
  ranks[0].Enter(trace::FunctionId::kNcclAllReduce, kComm, 64);
  ranks[1].Enter(trace::FunctionId::kNcclAllReduce, kComm, 64);
  const auto fs = CheckKilled(ranks);
  ASSERT_FALSE(fs.empty()) << Text(fs);
  const Finding& f = fs.front();
  EXPECT_EQ(f.kind, FindingKind::kMissingParticipant);
  EXPECT_EQ(f.ranks, std::vector<int64_t>({2}));
  EXPECT_EQ(f.waiting, std::vector<int64_t>({0, 1}));
  EXPECT_EQ(f.chain_depth, 0);
  EXPECT_TRUE(Says(f, "rank 2 stopped first (likely culprit)")) << Text(fs);
  // The waits end at each rank's last sign of life, not at its last event.
  EXPECT_TRUE(Says(f, "was inside it for 5.0 s until killed")) << Text(fs);
  EXPECT_TRUE(Says(f, "last seen in its own code for 5.0 s after its last event, until killed"))
      << Text(fs);
  // The waiting ranks quote the op they are inside, with no result.
  const std::string text = FindingText(f);
  EXPECT_NE(text.find("ncclAllReduce count 64 (inside, not returned); last op 2"),
            std::string::npos)
      << text;
  EXPECT_NE(FindingJson(f).find("\"returned\":false"), std::string::npos);
}

TEST_F(HangTest, ChainAcrossCommunicatorsBlamesItsEnd) {
  // Ranks 1 and 3 share a second communicator. Rank 3 stops in its own code; rank 1 waits for
  // it inside the pair's first op, so it never reaches the world's third op, where 0 and 2 wait.
  auto ranks = World(4);
  Pair(ranks, 1, 3);
  for (int i = 0; i < 2; ++i)
    for (auto& r : ranks) r.AllReduce(kComm, 64);
  ranks[0].Enter(trace::FunctionId::kNcclAllReduce, kComm, 64);
  ranks[2].Enter(trace::FunctionId::kNcclAllReduce, kComm, 64);
  ranks[1].Enter(trace::FunctionId::kNcclAllReduce, kPair, 8);
  const auto fs = CheckKilled(ranks);
  const auto hangs = Of(fs, FindingKind::kMissingParticipant);
  ASSERT_EQ(hangs.size(), 2u) << Text(fs);
  // The root cause first: the pair, where rank 3 never came.
  EXPECT_EQ(hangs[0]->comm_key, kOther);
  EXPECT_EQ(hangs[0]->ranks, std::vector<int64_t>({3}));
  EXPECT_EQ(hangs[0]->chain_depth, 0);
  // Then the world, where ranks 1 and 3 are behind: rank 1 is a victim of the chain.
  EXPECT_EQ(hangs[1]->comm_key, kWorld);
  EXPECT_EQ(hangs[1]->ranks, std::vector<int64_t>({3}));
  EXPECT_EQ(hangs[1]->chain_depth, 1);
  EXPECT_TRUE(Says(*hangs[1],
                   "rank 1 is inside ncclAllReduce op 1 of communicator bbbb000000000002, "
                   "waiting for rank 3; rank 3 is the likely culprit"))
      << Text(fs);
  EXPECT_TRUE(Says(*hangs[1], "rank 3 (end of the chain): last seen in its own code")) << Text(fs);
  for (const RankCall& rc : hangs[1]->calls)
    if (rc.rank == 1) EXPECT_EQ(rc.note, "waits elsewhere");
}

TEST_F(HangTest, RankInsideGroupEndWaitsForThePeerItsSendAwaits) {
  // Rank 1 sends to rank 2 on their pair communicator and blocks in ncclGroupEnd; rank 2 never
  // posts the receive (in its own code); rank 0 waits inside the world's second all-reduce.
  auto ranks = World(3);
  Pair(ranks, 1, 2);
  for (auto& r : ranks) r.AllReduce(kComm, 64);
  ranks[0].Enter(trace::FunctionId::kNcclAllReduce, kComm, 64);
  ranks[1].GroupStart();
  ranks[1].Send(kPair, 16, /*peer=*/1);
  ranks[1].Enter(trace::FunctionId::kNcclGroupEnd, 0);
  const auto fs = CheckKilled(ranks);
  const auto hangs = Of(fs, FindingKind::kMissingParticipant);
  ASSERT_EQ(hangs.size(), 1u) << Text(fs);
  EXPECT_EQ(hangs[0]->ranks, std::vector<int64_t>({2})) << Text(fs);
  EXPECT_TRUE(Says(*hangs[0],
                   "rank 1 is inside ncclGroupEnd, waiting for rank 2; rank 2 is the "
                   "likely culprit"))
      << Text(fs);
  const auto p2p = Of(fs, FindingKind::kUnmatchedP2p);
  ASSERT_EQ(p2p.size(), 1u) << Text(fs);
  EXPECT_TRUE(Says(*p2p[0], "rank 2 stopped before it (the likely culprit)")) << Text(fs);
  EXPECT_TRUE(Says(*p2p[0], "rank 1: inside ncclGroupEnd for")) << Text(fs);
}

TEST_F(HangTest, SplitWaitsForTheParentMemberThatNeverCame) {
  auto ranks = World(3);
  for (auto& r : ranks) r.AllReduce(kComm, 8);
  ranks[0].Enter(trace::FunctionId::kNcclCommSplit, kComm, 0);
  ranks[1].Enter(trace::FunctionId::kNcclCommSplit, kComm, 1);
  const auto fs = CheckKilled(ranks);
  // One split over the parent, whatever color each member passed: rank 2 never came to it.
  const auto setup = Of(fs, FindingKind::kHangInSetup);
  ASSERT_EQ(setup.size(), 1u) << Text(fs);
  EXPECT_EQ(setup[0]->ranks, std::vector<int64_t>({2})) << Text(fs);
  EXPECT_EQ(setup[0]->waiting, std::vector<int64_t>({0, 1}));
  EXPECT_EQ(setup[0]->parent_key, kWorld);
  EXPECT_TRUE(Says(*setup[0],
                   "ranks 0,1 were inside ncclCommSplit of communicator "
                   "aaaa000000000001 for 5.0 s until killed; rank 2 never arrived "
                   "(likely culprit)"))
      << Text(fs);
  EXPECT_TRUE(Says(*setup[0], "rank 1: inside ncclCommSplit (color 1 of communicator"));
}

TEST_F(HangTest, WaitsRoundTwoCommunicatorsAreADeadlock) {
  // Rank 0 waits inside A's first op for rank 1, which waits inside B's first op for rank 0.
  std::vector<RankTrace> ranks = World(2);
  Pair(ranks, 0, 1);
  ranks[0].Enter(trace::FunctionId::kNcclAllReduce, kComm, 16);
  ranks[1].Enter(trace::FunctionId::kNcclAllReduce, kPair, 16);
  const auto fs = CheckKilled(ranks);
  const auto hangs = Of(fs, FindingKind::kMissingParticipant);
  ASSERT_EQ(hangs.size(), 2u) << Text(fs);
  for (const Finding* f : hangs) {
    EXPECT_EQ(f->ranks, std::vector<int64_t>({0, 1})) << Text(fs);
    EXPECT_TRUE(Says(*f, "deadlock: ")) << Text(fs);
    EXPECT_TRUE(Says(*f, "(ranks 0,1 wait for each other)")) << Text(fs);
  }
}

TEST_F(HangTest, SetupHangWhoseAbsentRankWaitsElsewhere) {
  // Ranks 0 and 1 create a second world communicator. Rank 3 never comes: it waits inside an
  // all-reduce of its pair communicator with rank 2, which is in its own code.
  auto ranks = World(4);
  Pair(ranks, 2, 3);
  ranks[0].Enter(trace::FunctionId::kNcclCommInitRank, 0, 4);
  ranks[1].Enter(trace::FunctionId::kNcclCommInitRank, 0, 4);
  ranks[3].Enter(trace::FunctionId::kNcclAllReduce, kPair, 8);
  const auto fs = CheckKilled(ranks);
  const auto setup = Of(fs, FindingKind::kHangInSetup);
  ASSERT_EQ(setup.size(), 1u) << Text(fs);
  EXPECT_EQ(setup[0]->waiting, std::vector<int64_t>({0, 1}));
  EXPECT_EQ(setup[0]->ranks, std::vector<int64_t>({2}));
  EXPECT_EQ(setup[0]->chain_depth, 1);
  EXPECT_TRUE(Says(*setup[0],
                   "ranks 0,1 were inside ncclCommInitRank (nranks 4) for 5.0 s "
                   "until killed; ranks 2,3 never arrived; rank 3 is inside "
                   "ncclAllReduce op 1 of communicator bbbb000000000002, waiting for "
                   "rank 2; rank 2 is the likely culprit"))
      << Text(fs);
  // The pair's hang, its cause, comes first.
  ASSERT_FALSE(fs.empty());
  EXPECT_EQ(fs.front().kind, FindingKind::kMissingParticipant) << Text(fs);
  EXPECT_EQ(fs.front().comm_key, kOther);
}

}  // namespace
}  // namespace ddrr::analysis
