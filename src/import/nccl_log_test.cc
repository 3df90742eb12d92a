#include "import/nccl_log.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "analysis/report.h"
#include "analysis/test_trace.h"
#include "import/import.h"
#include "import/import_test_util.h"
#include "import/run_writer.h"
#include "trace/run.h"
#include "trace/test_util.h"

namespace ddrr::import {
namespace {

using analysis::Finding;
using analysis::FindingKind;
using analysis::KindName;

// Lines in NCCL's own formats (src/debug.cc prefix, src/init.cc, src/enqueue.cc).
std::string Prefix(int rank) {
  char b[64];
  snprintf(b, sizeof(b), "node%d:%d:%d [%d] NCCL INFO ", rank / 2, 4000 + rank, 4100 + rank,
           rank % 2);
  return b;
}

// 2.23+: "[Rank r] ncclCommInitRank comm ... commId 0x... - Init START".
std::string InitLine(int rank, uint64_t comm, int nranks, uint64_t id) {
  char b[256];
  snprintf(b, sizeof(b),
           "[Rank %d] ncclCommInitRank comm %p rank %d nranks %d cudaDev %d nvmlDev %d busId "
           "%lx commId 0x%llx - Init START",
           rank, reinterpret_cast<void*>(comm), rank, nranks, rank % 2, rank % 2,
           0x1000ul * (rank + 1), static_cast<unsigned long long>(id));
  return Prefix(rank) + b;
}

std::string OpLine(int rank, const char* op, uint64_t opcount, uint64_t count, int dtype, int root,
                   uint64_t comm, int nranks) {
  char b[320];
  snprintf(b, sizeof(b),
           "%s: opCount %lx sendbuff %p recvbuff %p count %zu datatype %d op %d root %d comm %p "
           "[nranks=%d] stream %p",
           op, opcount, reinterpret_cast<void*>(0x7f0000001000ul),
           reinterpret_cast<void*>(0x7f0000002000ul), count, dtype, 0, root,
           reinterpret_cast<void*>(comm), nranks, reinterpret_cast<void*>(0x5000ul));
  return Prefix(rank) + b;
}

uint64_t CommPtr(int rank) { return 0x55d000000000ull + rank * 0x10000ull; }

class NcclLogTest : public ::testing::Test {
 protected:
  std::string Input(const std::string& name, const std::string& text) {
    const std::string path = in_.path() + "/" + name;
    trace::testing::WriteFile(path, text);
    return path;
  }
  StatusOr<ImportResult> Run(std::vector<std::string> paths, uint32_t world = 0) {
    ImportOptions o;
    o.paths = std::move(paths);
    o.out_dir = out_.path() + "/run";
    o.world_size = world;
    return Import(o);
  }
  std::vector<Finding> Check() { return CheckDir(out_.path() + "/run"); }
  // 3 ranks, interleaved in one log: a world init, `ops` all-reduces of 1024 floats; rank
  // `odd` uses `odd_count` at op `odd_op`, rank `stop` stops after `stop_after` ops.
  std::string WorldLog(int ops, int odd = -1, int odd_op = 0, uint64_t odd_count = 0, int stop = -1,
                       int stop_after = 0) {
    std::string log = "some launcher output\n";
    for (int r = 0; r < 3; ++r) log += InitLine(r, CommPtr(r), 3, 0xabcdef) + "\n";
    for (int i = 1; i <= ops; ++i)
      for (int r = 0; r < 3; ++r) {
        if (r == stop && i > stop_after) continue;
        const uint64_t count = (r == odd && i == odd_op) ? odd_count : 1024;
        log += OpLine(r, "AllReduce", i - 1, count, 7, 0, CommPtr(r), 3) + "\n";
      }
    return log;
  }

  trace::testing::TempDir in_, out_;
};

TEST(ParseNcclLineTest, CollectiveWithPrefixAndTimestamp) {
  const LogLine l = ParseNcclLine(
      "[2025-03-01 10:00:00] gpu-a:1234:1301 [3] NCCL INFO AllReduce: opCount 1f sendbuff "
      "0x7f1000 recvbuff 0x7f2000 count 4096 datatype 7 op 0 root 0 comm 0x55d0c0 [nranks=8] "
      "stream 0x5a00");
  EXPECT_EQ(l.kind, LogLine::kOp);
  EXPECT_TRUE(l.has_prefix);
  EXPECT_EQ(l.host, "gpu-a");
  EXPECT_EQ(l.pid, 1234u);
  EXPECT_EQ(l.dev, 3);
  EXPECT_EQ(l.fn, OpFn::kAllReduce);
  EXPECT_EQ(l.op_count, 0x1fu);
  EXPECT_EQ(l.sendbuff, 0x7f1000u);
  EXPECT_EQ(l.recvbuff, 0x7f2000u);
  EXPECT_EQ(l.count, 4096u);
  EXPECT_EQ(l.datatype, 7);
  EXPECT_EQ(l.comm, 0x55d0c0u);
  EXPECT_EQ(l.nranks, 8);
  EXPECT_EQ(l.stream, 0x5a00u);
}

TEST(ParseNcclLineTest, SendWithNullBufferAndNoPrefix) {
  const LogLine l = ParseNcclLine(
      "Send: opCount 3 sendbuff 0x7f1000 recvbuff (nil) count 10 datatype 2 op 0 root 5 comm "
      "0x55d0c0 [nranks=8] stream 0x5a00");
  EXPECT_EQ(l.kind, LogLine::kOp);
  EXPECT_FALSE(l.has_prefix);
  EXPECT_EQ(l.fn, OpFn::kSend);
  EXPECT_EQ(l.recvbuff, 0u);
  EXPECT_EQ(l.root, 5);
}

TEST(ParseNcclLineTest, SendBufferAsNcclPrintsIt) {
  // NCCL's ncclSend passes its buffer as recvbuff, so the COLL line has sendbuff (nil).
  const LogLine l = ParseNcclLine(
      "h:1:2 [0] NCCL INFO Send: opCount 3 sendbuff (nil) recvbuff 0x7f1000 count 10 datatype 2 "
      "op 0 root 5 comm 0x55d0c0 [nranks=8] stream 0x5a00");
  EXPECT_EQ(l.fn, OpFn::kSend);
  EXPECT_EQ(l.sendbuff, 0x7f1000u);
}

TEST(ParseNcclLineTest, InitLinesOfEachVersion) {
  // 2.18: COMPLETE only, no nvmlDev.
  LogLine l = ParseNcclLine(
      "h:1:2 [0] NCCL INFO comm 0x5500 rank 2 nranks 4 cudaDev 0 busId 1000 commId 0x9f1e - "
      "Init COMPLETE");
  EXPECT_EQ(l.kind, LogLine::kInit);
  EXPECT_TRUE(l.complete);
  EXPECT_EQ(l.rank, 2);
  EXPECT_EQ(l.nranks, 4);
  EXPECT_TRUE(l.has_comm_id);
  EXPECT_EQ(l.comm_id, 0x9f1eu);
  EXPECT_FALSE(l.split);
  // 2.26: a split, "key %d- Init START" with no space before the dash.
  l = ParseNcclLine(
      "h:1:2 [0] NCCL INFO ncclCommSplit comm 0x5600 rank 1 nranks 2 cudaDev 0 nvmlDev 0 busId "
      "1000 parent 0x5500 splitCount 1 color 3 key 7- Init START");
  EXPECT_EQ(l.kind, LogLine::kInit);
  EXPECT_FALSE(l.complete);
  EXPECT_TRUE(l.split);
  EXPECT_EQ(l.parent, 0x5500u);
  EXPECT_EQ(l.color, 3);
  EXPECT_EQ(l.key, 7);
  EXPECT_EQ(l.rank, 1);
  // 2.19: nvmlDev, START.
  l = ParseNcclLine(
      "h:1:2 [0] NCCL INFO comm 0x5500 rank 0 nranks 4 cudaDev 0 nvmlDev 0 busId 1000 commId "
      "0x12 - Init START");
  EXPECT_EQ(l.kind, LogLine::kInit);
  EXPECT_EQ(l.comm, 0x5500u);
}

TEST(ParseNcclLineTest, EndWarnVersionAndOthers) {
  LogLine l = ParseNcclLine(
      "h:1:2 [0] NCCL INFO comm 0x5500 rank 0 nranks 4 cudaDev 0 busId 1000 - Abort COMPLETE");
  EXPECT_EQ(l.kind, LogLine::kAbort);
  EXPECT_EQ(l.comm, 0x5500u);
  l = ParseNcclLine("h:1:2 [1] enqueue.cc:123 NCCL WARN Cuda failure 'out of memory'");
  EXPECT_EQ(l.kind, LogLine::kWarn);
  EXPECT_EQ(l.host, "h");
  EXPECT_EQ(l.dev, 1);
  EXPECT_EQ(l.text, "Cuda failure 'out of memory'");
  l = ParseNcclLine("h:1:2 [0] NCCL INFO NCCL version 2.21.5+cuda12.4");
  EXPECT_EQ(l.kind, LogLine::kVersion);
  EXPECT_EQ(l.version_code, 22105);
  EXPECT_EQ(ParseNcclLine("h:1:2 [0] NCCL INFO Channel 00/02 : 0 1 2 3").kind, LogLine::kNone);
  EXPECT_EQ(ParseNcclLine("Epoch 3 loss 0.25").kind, LogLine::kNone);
  EXPECT_EQ(ParseNcclLine("").kind, LogLine::kNone);
  // An unknown op name is not a collective.
  EXPECT_EQ(ParseNcclLine("Frobnicate: opCount 3 sendbuff 0x1 recvbuff 0x1 count 1 datatype 0 "
                          "op 0 root 0 comm 0x1 [nranks=2] stream 0x1")
                .kind,
            LogLine::kNone);
  bool cut = false;
  ParseNcclLine("h:1:2 [0] NCCL INFO AllReduce: opCount 1 sendbuff 0x1 recvbuff 0x1 count", &cut);
  EXPECT_TRUE(cut);
}

TEST_F(NcclLogTest, CleanJobHasNoFindingAndSaysWhereItCameFrom) {
  auto r = Run({Input("all.log", WorldLog(4))});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->format, "nccl-log");
  EXPECT_EQ(r->ranks, 3u);
  EXPECT_EQ(r->world_size, 3u);
  EXPECT_EQ(r->entries, 15u);  // 3 inits, 12 all-reduces
  EXPECT_TRUE(Check().empty());
  auto run = trace::Run::Open(out_.path() + "/run");
  ASSERT_TRUE(run.ok());
  ASSERT_EQ(run->ranks().size(), 3u);
  const trace::Header& h = run->ranks()[1].reader->header();
  EXPECT_EQ(h.rank(), 1u);
  EXPECT_EQ(h.host(), "node0");
  EXPECT_EQ(h.pid(), 4001u);
  EXPECT_EQ(h.env().at(kEnvFormat), "nccl-log");
  EXPECT_NE(h.env().at(kEnvFile).find("all.log"), std::string::npos);
  EXPECT_NE(h.env().at(kEnvUnknown).find("completions"), std::string::npos);
}

TEST_F(NcclLogTest, WrongCountGivesTheSameFirstFindingAsARecording) {
  auto r = Run({Input("all.log", WorldLog(4, /*odd=*/2, /*odd_op=*/3, /*odd_count=*/512))});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const std::vector<Finding> imported = Check();
  // The same job as the recorder writes it.
  auto ranks = analysis::testing::World(3, 0x55d000, 0x1111);
  for (int i = 1; i <= 4; ++i)
    for (uint32_t k = 0; k < 3; ++k) ranks[k].AllReduce(0x55d000, k == 2 && i == 3 ? 512 : 1024);
  trace::testing::TempDir rec;
  ASSERT_TRUE(analysis::testing::WriteRun(ranks, rec.path()).ok());
  auto recorded = analysis::testing::ReadRun(rec.path());
  ASSERT_TRUE(recorded.ok());
  ASSERT_FALSE(imported.empty());
  ASSERT_FALSE(recorded->findings.empty());
  const Finding& a = imported[0];
  const Finding& b = recorded->findings[0];
  EXPECT_STREQ(KindName(a.kind), KindName(b.kind));
  EXPECT_EQ(a.kind, FindingKind::kMismatchedCollective);
  EXPECT_EQ(a.ranks, b.ranks);
  EXPECT_EQ(a.ranks, std::vector<int64_t>{2});
  EXPECT_EQ(a.op_seq, b.op_seq);
  EXPECT_EQ(a.op_seq, 3u);
  EXPECT_EQ(a.comm_size, 3);
  // A log names no communicator: the finding's JSON has no comm_name, as for a recording.
  EXPECT_TRUE(a.comm_name.empty());
  EXPECT_EQ(analysis::FindingJson(a).find("comm_name"), std::string::npos);
  EXPECT_EQ(analysis::FindingJson(a).find("comm_name"), analysis::FindingJson(b).find("comm_name"));
}

TEST_F(NcclLogTest, RankThatStoppedIsAMissingParticipant) {
  auto r = Run({Input("all.log", WorldLog(5, -1, 0, 0, /*stop=*/1, /*stop_after=*/2))});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const std::vector<Finding> f = Check();
  ASSERT_NO_FATAL_FAILURE(ExpectFirst(f, FindingKind::kMissingParticipant, {1}, 3));
}

TEST_F(NcclLogTest, OneFilePerRankWithPrefixesCutAndWrappedLines) {
  std::vector<std::string> paths;
  for (int r = 0; r < 3; ++r) {
    std::string log = InitLine(r, CommPtr(r), 3, 0x77) + "\n";
    for (int i = 0; i < 3; ++i) {
      std::string line = OpLine(r, "AllReduce", i, r == 0 && i == 2 ? 8 : 64, 7, 0, CommPtr(r), 3);
      if (r == 1) line = line.substr(line.find("NCCL INFO ") + 10);    // prefix cut off
      if (r == 2 && i == 1) line.insert(line.find(" stream "), "\n");  // wrapped
      log += line + "\n";
    }
    paths.push_back(Input("rank" + std::to_string(r) + ".log", log));
  }
  auto r = Run(paths);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->ranks, 3u);
  EXPECT_EQ(r->entries, 12u);
  const std::vector<Finding> f = Check();
  ASSERT_NO_FATAL_FAILURE(ExpectFirst(f, FindingKind::kMismatchedCollective, {0}, 3));
}

TEST_F(NcclLogTest, FilesWithoutAnyPrefixAreOneProcessEach) {
  std::vector<std::string> paths;
  for (int r = 0; r < 2; ++r) {
    std::string log;
    for (const std::string& line : {InitLine(r, CommPtr(0), 2, 0x99),
                                    OpLine(r, "AllReduce", 0, r ? 5 : 6, 7, 0, CommPtr(0), 2)})
      log += line.substr(line.find("NCCL INFO ") + 10) + "\n";
    paths.push_back(Input("bare" + std::to_string(r) + ".log", log));
  }
  auto r = Run(paths);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->ranks, 2u);
  const std::vector<Finding> f = Check();
  // Two ranks disagree: the tie goes to the first member, so rank 1 is the odd one out.
  ASSERT_NO_FATAL_FAILURE(ExpectFirst(f, FindingKind::kMismatchedCollective, {1}, 1));
}

TEST_F(NcclLogTest, SplitCommunicatorsAndUnmatchedSend) {
  // 4 ranks; world split in two by color rank/2; in color 0, rank 0 sends to comm rank 1 which
  // never receives.
  std::string log;
  for (int r = 0; r < 4; ++r) log += InitLine(r, CommPtr(r), 4, 0x42) + "\n";
  for (int r = 0; r < 4; ++r) {
    char b[256];
    snprintf(b, sizeof(b),
             "ncclCommSplit comm %p rank %d nranks 2 cudaDev %d nvmlDev %d busId 1000 parent %p "
             "splitCount 1 color %d key %d- Init START",
             reinterpret_cast<void*>(CommPtr(r) + 0x100), r % 2, r % 2, r % 2,
             reinterpret_cast<void*>(CommPtr(r)), r / 2, r);
    log += Prefix(r) + b + "\n";
  }
  for (int r = 0; r < 4; ++r)
    log += OpLine(r, "AllReduce", 0, 16, 7, 0, CommPtr(r) + 0x100, 2) + "\n";
  log += OpLine(0, "Send", 1, 16, 7, 1, CommPtr(0) + 0x100, 2) + "\n";
  auto r = Run({Input("all.log", log)});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const std::vector<Finding> f = Check();
  ASSERT_NO_FATAL_FAILURE(ExpectFirst(f, FindingKind::kUnmatchedP2p, {0}, 2));
  EXPECT_EQ(f[0].comm_size, 2);
}

TEST_F(NcclLogTest, CommunicatorsWithoutInitLinesAreMatchedAndSaidToBeAGuess) {
  std::string log;
  for (int i = 0; i < 2; ++i)
    for (int r = 0; r < 2; ++r)
      log += OpLine(r, "AllReduce", i, r == 1 && i == 1 ? 3 : 4, 7, 0, CommPtr(r), 2) + "\n";
  auto r = Run({Input("all.log", log)});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->ranks, 2u);
  EXPECT_TRUE(Noted(*r, "a guess"));
  const std::vector<Finding> f = Check();
  ASSERT_FALSE(f.empty());
  EXPECT_EQ(f[0].kind, FindingKind::kMismatchedCollective);
  EXPECT_EQ(f[0].op_seq, 2u);
}

TEST_F(NcclLogTest, MissingRankIsNoted) {
  auto r = Run({Input("all.log", WorldLog(2))}, /*world=*/4);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(Noted(*r, "rank 3 is not in the input"));
}

TEST_F(NcclLogTest, BadInputIsRefused) {
  auto r = Run({in_.path() + "/absent.log"});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("absent.log"), std::string::npos);
  r = Run({Input("junk.bin", std::string("\x7f"
                                         "ELF\0\0\x01\x02",
                                         8) +
                                 std::string(1000, '\0'))});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("junk.bin"), std::string::npos);
  ImportOptions o;
  o.paths = {Input("junk2.bin", "NCCL INFO " + std::string(100, '\0'))};
  o.out_dir = out_.path() + "/j2";
  o.format = "nccl-log";
  auto j = Import(o);
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.status().message().find("binary"), std::string::npos);
  r = Run({Input("text.log", "hello\nworld\n")});
  ASSERT_FALSE(r.ok());
  o.paths = {Input("long.log", Prefix(0) + std::string(2 << 20, 'x') + "\n")};
  o.out_dir = out_.path() + "/long";
  j = Import(o);
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.status().message().find("over 1 MiB"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(out_.path() + "/long/rank-0.ddrr"));
  // An output that already holds a run is left alone.
  ASSERT_TRUE(Run({Input("a.log", WorldLog(1))}).ok());
  r = Run({Input("b.log", WorldLog(1))});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("already holds rank files"), std::string::npos);
}

}  // namespace
}  // namespace ddrr::import
