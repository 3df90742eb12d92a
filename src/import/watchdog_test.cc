#include "import/watchdog.h"

#include <gtest/gtest.h>

#include "import/import.h"
#include "import/import_test_util.h"
#include "import/run_writer.h"
#include "trace/run.h"
#include "trace/test_util.h"

namespace ddrr::import {
namespace {

using analysis::Finding;
using analysis::FindingKind;

// The message in each format PyTorch has printed (ProcessGroupNCCL.cpp over its history).
std::string Newest(int rank, int seq, int numel = 1024) {
  return "[rank" + std::to_string(rank) + "]:[E1218 20:27:21.426415540 ProcessGroupNCCL.cpp:632] " +
         "[PG ID 0 PG GUID 0(default_pg) Rank " + std::to_string(rank) +
         "] Watchdog caught collective operation timeout: WorkNCCL(SeqNum=" + std::to_string(seq) +
         ", OpType=ALLREDUCE, NumelIn=" + std::to_string(numel) +
         ", NumelOut=" + std::to_string(numel) +
         ", Timeout(ms)=600000) ran for 600081 milliseconds before timing out.";
}
std::string WithRank(int rank, int seq) {
  return "[E ProcessGroupNCCL.cpp:475] [Rank " + std::to_string(rank) +
         "] Watchdog caught collective operation timeout: WorkNCCL(SeqNum=" + std::to_string(seq) +
         ", OpType=BROADCAST, NumelIn=8, NumelOut=8, Timeout(ms)=1800000) ran for 1800826 "
         "milliseconds before timing out.";
}

TEST(ParseWatchdogLineTest, Newest) {
  WatchdogLine l;
  ASSERT_TRUE(ParseWatchdogLine(Newest(3, 17), &l));
  EXPECT_EQ(l.global_rank, 3);
  EXPECT_EQ(l.pg_rank, 3);
  EXPECT_EQ(l.pg, "0");
  EXPECT_EQ(l.pg_desc, "default_pg");
  EXPECT_EQ(l.seq, 17);
  EXPECT_EQ(l.op_type, "ALLREDUCE");
  EXPECT_EQ(l.numel_in, 1024);
  EXPECT_EQ(l.numel_out, 1024);
  EXPECT_EQ(l.timeout_ms, 600000);
  EXPECT_EQ(l.ran_ms, 600081);
  EXPECT_EQ(l.Rank(), 3);
}

TEST(ParseWatchdogLineTest, SubGroupRankIsNotTheJobRank) {
  WatchdogLine l;
  ASSERT_TRUE(ParseWatchdogLine(
      "[PG ID 1 PG GUID 1 Rank 1] Watchdog caught collective operation timeout: "
      "WorkNCCL(SeqNum=4, OpType=_ALLGATHER_BASE, NumelIn=1, NumelOut=32, Timeout(ms)=600000) "
      "ran for 600012 milliseconds before timing out.",
      &l));
  EXPECT_EQ(l.pg, "1");
  EXPECT_EQ(l.pg_rank, 1);
  EXPECT_EQ(l.Rank(), -1);
  EXPECT_EQ(l.op_type, "_ALLGATHER_BASE");
  EXPECT_EQ(l.numel_out, 32);
}

TEST(ParseWatchdogLineTest, OldFormats) {
  WatchdogLine l;
  // PG number without ID/GUID (2.2).
  ASSERT_TRUE(ParseWatchdogLine(
      "[PG 0 Rank 2] Watchdog caught collective operation timeout: WorkNCCL(SeqNum=9, "
      "OpType=ALLREDUCE, NumelIn=4, NumelOut=4, Timeout(ms)=600000) ran for 600001 milliseconds "
      "before timing out.",
      &l));
  EXPECT_EQ(l.pg, "0");
  EXPECT_EQ(l.Rank(), 2);
  // [Rank N] only, no sizes (1.10-1.12).
  ASSERT_TRUE(ParseWatchdogLine(
      "[Rank 1] Watchdog caught collective operation timeout: WorkNCCL(SeqNum=3, "
      "OpType=ALLREDUCE, Timeout(ms)=1800000) ran for 1800995 milliseconds before timing out.",
      &l));
  EXPECT_EQ(l.Rank(), 1);
  EXPECT_EQ(l.seq, 3);
  EXPECT_EQ(l.numel_in, -1);
  // No rank and no SeqNum, a tensor shape with commas (1.8-1.9).
  ASSERT_TRUE(ParseWatchdogLine(
      "RuntimeError: Watchdog caught collective operation timeout: WorkNCCL(OpType=ALLREDUCE, "
      "TensorShape=[2, 3], Timeout(ms)=1800000) ran for 1800826 milliseconds before timing out.",
      &l));
  EXPECT_EQ(l.Rank(), -1);
  EXPECT_EQ(l.seq, -1);
  EXPECT_EQ(l.op_type, "ALLREDUCE");
  EXPECT_EQ(l.timeout_ms, 1800000);
  EXPECT_FALSE(ParseWatchdogLine("Watchdog caught collective operation timeout: soon", &l));
  EXPECT_FALSE(ParseWatchdogLine("[Rank 1] NCCL INFO AllReduce: opCount 0", &l));
}

class WatchdogTest : public ::testing::Test {
 protected:
  StatusOr<ImportResult> Run(const std::vector<std::string>& files, uint32_t world = 0) {
    ImportOptions o;
    ++runs_;
    for (size_t i = 0; i < files.size(); ++i) {
      o.paths.push_back(in_.File("r" + std::to_string(runs_) + "-" + std::to_string(i) + ".log"));
      trace::testing::WriteFile(o.paths.back(), files[i]);
    }
    o.out_dir = RunDir();
    o.world_size = world;
    return Import(o);
  }
  std::string RunDir() const { return out_.path() + "/run" + std::to_string(runs_); }
  trace::testing::TempDir in_, out_;
  int runs_ = 0;
};

TEST_F(WatchdogTest, RankBehindIsTheMissingParticipant) {
  // Ranks 0 and 2 wait in SeqNum 7; rank 1 is still in SeqNum 5 (one file, lines repeated as
  // the exception's text).
  auto r = Run({Newest(0, 7) + "\nnoise\n" + Newest(1, 5) + "\n" + Newest(2, 7) + "\n" +
                Newest(2, 7) + "\n"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->format, "watchdog");
  EXPECT_EQ(r->ranks, 3u);
  EXPECT_EQ(r->entries, 3u);
  const std::vector<Finding> f = CheckDir(RunDir());
  ASSERT_NO_FATAL_FAILURE(ExpectFirst(f, FindingKind::kMissingParticipant, {1}, 6));
  auto run = trace::Run::Open(RunDir());
  ASSERT_TRUE(run.ok());
  EXPECT_NE(run->ranks()[0].reader->header().env().at(kEnvUnknown).find("datatype"),
            std::string::npos);
}

TEST_F(WatchdogTest, SameSeqNumEverywhereIsAnOpThatNeverCompleted) {
  auto r = Run({WithRank(0, 4), WithRank(1, 4)}, 3);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(Noted(*r, "rank 2 has no watchdog message"));
  const std::vector<Finding> f = CheckDir(RunDir());
  ASSERT_FALSE(f.empty());
  EXPECT_STREQ(analysis::KindName(f[0].kind), analysis::KindName(FindingKind::kNotCompleted));
  // Nothing rests on what the messages lack: no datatype, size or earlier-op comparison.
  for (const Finding& x : f) EXPECT_NE(x.kind, FindingKind::kMismatchedCollective) << x.message;
}

TEST_F(WatchdogTest, SizesOnlyWhereEveryMessageHasThem) {
  // Rank 1's message is of a version without sizes: the counts are not compared.
  auto r = Run({Newest(0, 1, 64) + "\n" +
                "[Rank 1] Watchdog caught collective operation timeout: WorkNCCL(SeqNum=1, "
                "OpType=ALLREDUCE, Timeout(ms)=600000) ran for 600001 milliseconds before timing "
                "out.\n"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  for (const Finding& x : CheckDir(RunDir()))
    EXPECT_NE(x.kind, FindingKind::kMismatchedCollective) << x.message;
}

TEST_F(WatchdogTest, RankFromFileNameWhenTheMessageHasNone) {
  ImportOptions o;
  o.paths = {in_.File("train_rank0.log"), in_.File("train_rank1.log")};
  trace::testing::WriteFile(o.paths[0],
                            "Watchdog caught collective operation timeout: WorkNCCL(SeqNum=2, "
                            "OpType=ALLREDUCE, Timeout(ms)=10) ran for 11 milliseconds before "
                            "timing out.\n");
  trace::testing::WriteFile(o.paths[1], "all fine\n");
  o.out_dir = out_.File("byname");
  o.world_size = 2;
  auto r = Import(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->ranks, 1u);
  EXPECT_TRUE(Noted(*r, "train_rank0.log: rank 0 from the file's name"));
  EXPECT_TRUE(Noted(*r, "rank 1 has no watchdog message"));
}

TEST_F(WatchdogTest, NoMessageIsAnError) {
  ImportOptions o;
  o.paths = {in_.File("plain.log")};
  trace::testing::WriteFile(o.paths[0], "nothing here\n");
  o.format = "watchdog";
  o.out_dir = out_.File("none");
  auto r = Import(o);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no ProcessGroupNCCL watchdog message"), std::string::npos);
}

}  // namespace
}  // namespace ddrr::import
