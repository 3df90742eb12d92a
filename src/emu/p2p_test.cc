// Send/receive: rings, all-to-all exchanges and self sends inside groups, issue-order matching,
// messages larger than the ring, size mismatches.
#include <gtest/gtest.h>

#include <numeric>
#include <vector>

#include "emu/api.h"
#include "emu/test_util.h"

namespace ddrr::emu {
namespace {

constexpr int kFloat = static_cast<int>(DataType::kFloat32);

TEST(EmuP2pTest, RingInOneGroupWithLargeMessages) {
  const int n = 4;
  const size_t count = (3u << 20) / 4 + 13;  // several ring slots per message
  auto comms = testing::InitLocal(n);
  std::vector<std::vector<float>> send(n, std::vector<float>(count)),
      recv(n, std::vector<float>(count));
  for (int r = 0; r < n; ++r)
    for (size_t i = 0; i < count; ++i) send[r][i] = static_cast<float>(r * 1000 + i % 1000);
  ASSERT_TRUE(GroupStart().ok());
  for (int r = 0; r < n; ++r) {
    // Everybody sends before receiving: without a group this would deadlock past the ring size.
    ASSERT_TRUE(Send(comms[r], send[r].data(), count, kFloat, (r + 1) % n, nullptr).ok());
    ASSERT_TRUE(Recv(comms[r], recv[r].data(), count, kFloat, (r + n - 1) % n, nullptr).ok());
  }
  Result res = GroupEnd();
  ASSERT_TRUE(res.ok()) << res.message();
  for (int r = 0; r < n; ++r) EXPECT_EQ(recv[r], send[(r + n - 1) % n]) << r;
  testing::DestroyAll(comms);
}

TEST(EmuP2pTest, AllToAllWithSelfAndIssueOrderMatching) {
  const int n = 5;
  auto comms = testing::InitLocal(n);
  // Each pair exchanges two messages of different sizes; they must match in issue order.
  std::vector<std::vector<std::vector<float>>> out1(n), out2(n), in1(n), in2(n);
  for (int r = 0; r < n; ++r) {
    for (int p = 0; p < n; ++p) {
      out1[r].push_back(std::vector<float>(10 + p, static_cast<float>(100 * r + p)));
      out2[r].push_back(std::vector<float>(1000 + p, static_cast<float>(-100 * r - p)));
      in1[r].push_back(std::vector<float>(10 + r, 0));
      in2[r].push_back(std::vector<float>(1000 + r, 0));
    }
  }
  ASSERT_TRUE(GroupStart().ok());
  for (int r = 0; r < n; ++r) {
    for (int p = 0; p < n; ++p) {
      ASSERT_TRUE(Send(comms[r], out1[r][p].data(), 10 + p, kFloat, p, nullptr).ok());
      ASSERT_TRUE(Send(comms[r], out2[r][p].data(), 1000 + p, kFloat, p, nullptr).ok());
      ASSERT_TRUE(Recv(comms[r], in1[r][p].data(), 10 + r, kFloat, p, nullptr).ok());
      ASSERT_TRUE(Recv(comms[r], in2[r][p].data(), 1000 + r, kFloat, p, nullptr).ok());
    }
  }
  Result res = GroupEnd();
  ASSERT_TRUE(res.ok()) << res.message();
  for (int r = 0; r < n; ++r) {
    for (int p = 0; p < n; ++p) {
      EXPECT_EQ(in1[r][p], out1[p][r]);
      EXPECT_EQ(in2[r][p], out2[p][r]);
    }
  }
  testing::DestroyAll(comms);
}

TEST(EmuP2pTest, ThreadsSendAndReceiveWithoutGroupsWhenSmall) {
  const int n = 2;
  UniqueIdBytes id = GetUniqueId();
  std::vector<std::vector<float>> got(n, std::vector<float>(100));
  testing::RunThreads(n, [&](int rank) {
    Comm* c = nullptr;
    ASSERT_TRUE(CommInitRank(&c, n, id, rank, {}).ok());
    std::vector<float> mine(100, static_cast<float>(rank + 1));
    // Small messages fit the ring, so an unpaired blocking send completes on its own.
    ASSERT_TRUE(Send(c, mine.data(), 100, kFloat, 1 - rank, nullptr).ok());
    ASSERT_TRUE(Recv(c, got[rank].data(), 100, kFloat, 1 - rank, nullptr).ok());
    CommDestroy(c);
  });
  EXPECT_EQ(got[0][99], 2.0f);
  EXPECT_EQ(got[1][0], 1.0f);
}

TEST(EmuP2pTest, SizeMismatchIsInvalidUsage) {
  CommOptions opts;
  opts.timeout_s = 2;
  auto comms = testing::InitLocal(2, opts);
  std::vector<float> a(10), b(20);
  ASSERT_TRUE(GroupStart().ok());
  ASSERT_TRUE(Send(comms[0], a.data(), 10, kFloat, 1, nullptr).ok());
  ASSERT_TRUE(Recv(comms[1], b.data(), 20, kFloat, 0, nullptr).ok());
  Result r = GroupEnd();
  EXPECT_EQ(r.code(), Code::kInvalidUsage);
  EXPECT_NE(r.message().find("sent 40 bytes but this rank receives 80"), std::string::npos)
      << r.message();
  testing::DestroyAll(comms);
}

}  // namespace
}  // namespace ddrr::emu
