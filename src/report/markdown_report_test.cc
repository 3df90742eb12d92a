#include "report/markdown_report.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "analysis/test_trace.h"
#include "trace/test_util.h"

namespace ddrr::report {
namespace {

using analysis::testing::ReadRun;
using analysis::testing::World;
using analysis::testing::WriteRun;

constexpr uint64_t kComm = 0xc0, kKey = 0x5eed;

class MarkdownReportTest : public ::testing::Test {
 protected:
  std::string Report(const ReportOptions& o) {
    auto checked = ReadRun(dir_.string());
    if (!checked.ok()) {
      ADD_FAILURE() << checked.status().ToString();
      return "";
    }
    auto result = analysis::CheckModel(*checked->model);
    if (!result.ok()) {
      ADD_FAILURE() << result.status().ToString();
      return "";
    }
    return MarkdownReport(*checked->run, *checked->model, *result, o);
  }

  trace::testing::TempDir tmp_;
  std::filesystem::path dir_ = tmp_.path();
};

TEST(RankRangesTest, CompactsRuns) {
  std::vector<int64_t> ranks;
  for (int64_t r = 0; r < 1024; ++r)
    if (r != 512) ranks.push_back(r);
  EXPECT_EQ(RankRanges(ranks), "0-511, 513-1023");
  EXPECT_EQ(RankRanges({5, 3, 3, 1, 2}), "1-3, 5");
  EXPECT_EQ(RankRanges({}), "");
}

TEST(RedactionTest, SecretNamesAndStablePseudonyms) {
  EXPECT_TRUE(IsSecretName("NCCL_IB_AUTH_TOKEN"));
  EXPECT_TRUE(IsSecretName("aws_secret_access_key"));
  EXPECT_TRUE(IsSecretName("HF_PASSWD"));
  EXPECT_FALSE(IsSecretName("NCCL_DEBUG"));
  Pseudonyms p;
  EXPECT_EQ(p.Host("gpu-node-17"), "host-1");
  EXPECT_EQ(p.Host("gpu-node-3"), "host-2");
  EXPECT_EQ(p.Host("gpu-node-17"), "host-1");
  EXPECT_EQ(p.Paths("python /home/alice/train.py --out=/home/alice/ckpt"),
            "python path-1 --out=path-2");
  EXPECT_EQ(p.Paths("/usr/bin/python"), "/usr/bin/python");
}

TEST_F(MarkdownReportTest, GroupsRanksRedactsAndFoldsEvidence) {
  // Four ranks; rank 3 stops after one all-reduce and leaves no footer.
  auto ranks = World(4, kComm, kKey);
  for (uint32_t r = 0; r < 4; ++r) {
    ranks[r].SetEnv("NCCL_DEBUG", "INFO");
    ranks[r].SetEnv("NCCL_IB_AUTH_TOKEN", "hunter2");
    ranks[r].AllReduce(kComm, 1024);
    if (r != 3) ranks[r].AllReduce(kComm, 1024);
  }
  ASSERT_TRUE(WriteRun(ranks, dir_.string(), /*killed=*/{3}).ok());
  ReportOptions o;
  o.run_name = "run1";
  const std::string md = Report(o);
  EXPECT_EQ(md.find("hunter2"), std::string::npos) << md;
  EXPECT_NE(md.find("| `NCCL_IB_AUTH_TOKEN` | <redacted> |"), std::string::npos) << md;
  EXPECT_NE(md.find("| `NCCL_DEBUG` | INFO |"), std::string::npos) << md;
  EXPECT_EQ(md.find("NCCL's own log was not at `INFO`"), std::string::npos) << md;
  EXPECT_NE(md.find("- ranks 0-2: exited cleanly; last op 2 of comm 0000000000005eed "
                    "(ncclAllReduce)"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("- rank 3: trace has no footer"), std::string::npos) << md;
  EXPECT_NE(md.find("`missing-participant`"), std::string::npos) << md;
  EXPECT_NE(md.find("<details><summary>evidence</summary>"), std::string::npos) << md;
  EXPECT_NE(md.find("ddrr replay run1 --host"), std::string::npos) << md;
  EXPECT_NE(md.find("| world size | 4 "), std::string::npos) << md;
}

TEST_F(MarkdownReportTest, ManyRanksStayShort) {
  // 64 ranks, rank 20 stops early: one line per kind of ending, rank lists as ranges, the
  // evidence cut.
  auto ranks = World(64, kComm, kKey);
  for (uint32_t r = 0; r < 64; ++r) {
    ranks[r].AllReduce(kComm, 1024);
    if (r != 20) ranks[r].AllReduce(kComm, 1024);
  }
  ASSERT_TRUE(WriteRun(ranks, dir_.string(), /*killed=*/{20}).ok());
  ReportOptions o;
  o.run_name = "big";
  const std::string md = Report(o);
  EXPECT_NE(md.find("- ranks 0-19, 21-63: exited cleanly"), std::string::npos) << md;
  EXPECT_NE(md.find("ranks 0-19, 21-63 reached op 2"), std::string::npos) << md;
  EXPECT_NE(md.find("more lines: `ddrr check big`"), std::string::npos) << md;
  EXPECT_NE(md.find("run again with `NCCL_DEBUG=INFO NCCL_DEBUG_FILE=ncclDebug.%h.%p`"),
            std::string::npos)
      << md;
  EXPECT_LT(std::count(md.begin(), md.end(), '\n'), 100) << md;
}

}  // namespace
}  // namespace ddrr::report
