// Communicator life cycle: split, shrink, misuse, duplicate ranks and devices, timeouts.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/interprocess/shared_memory_object.hpp>
#include <chrono>
#include <string>

#include "emu/api.h"
#include "emu/segment.h"
#include "emu/test_util.h"

namespace ddrr::emu {
namespace {

constexpr int kInt32 = static_cast<int>(DataType::kInt32);

int RankOf(Comm* c) {
  int r = -1;
  EXPECT_TRUE(CommUserRank(c, &r).ok());
  return r;
}
int SizeOf(Comm* c) {
  int n = -1;
  EXPECT_TRUE(CommCount(c, &n).ok());
  return n;
}

TEST(EmuCommTest, SplitOrdersByKeyThenRankAndHonoursNoColor) {
  const int n = 6;
  auto comms = testing::InitLocal(n);
  std::vector<Comm*> kids(n, nullptr);
  // color = rank % 2 except rank 5 opts out; key reverses the order.
  ASSERT_TRUE(GroupStart().ok());
  for (int r = 0; r < n; ++r) {
    int color = r == 5 ? kSplitNoColor : r % 2;
    ASSERT_TRUE(CommSplit(comms[r], color, n - r, &kids[r], nullptr).ok());
  }
  Result res = GroupEnd();
  ASSERT_TRUE(res.ok()) << res.message();
  EXPECT_EQ(kids[5], nullptr);
  // Evens {0,2,4} with keys {6,4,2} -> new ranks 2,1,0. Odds {1,3} with keys {5,3} -> 1,0.
  EXPECT_EQ(RankOf(kids[0]), 2);
  EXPECT_EQ(RankOf(kids[2]), 1);
  EXPECT_EQ(RankOf(kids[4]), 0);
  EXPECT_EQ(RankOf(kids[1]), 1);
  EXPECT_EQ(RankOf(kids[3]), 0);
  EXPECT_EQ(SizeOf(kids[0]), 3);
  EXPECT_EQ(SizeOf(kids[1]), 2);
  // The children work: AllReduce of parent ranks within each color.
  std::vector<int32_t> v(n);
  ASSERT_TRUE(GroupStart().ok());
  for (int r = 0; r < 5; ++r) {
    v[r] = r;
    ASSERT_TRUE(
        Collective(kids[r], CollKind::kAllReduce, &v[r], &v[r], 1, kInt32, 0, 0, nullptr).ok());
  }
  ASSERT_TRUE(GroupEnd().ok());
  EXPECT_EQ(v[0], 6);
  EXPECT_EQ(v[4], 6);
  EXPECT_EQ(v[1], 4);
  EXPECT_EQ(v[3], 4);
  for (int r = 0; r < 5; ++r) CommDestroy(kids[r]);
  testing::DestroyAll(comms);
}

TEST(EmuCommTest, ShrinkExcludesRanksThatDoNotTakePart) {
  const int n = 4;
  auto comms = testing::InitLocal(n);
  int exclude[] = {1};
  std::vector<Comm*> kids(n, nullptr);
  ASSERT_TRUE(GroupStart().ok());
  for (int r : {0, 2, 3}) ASSERT_TRUE(CommShrink(comms[r], exclude, 1, &kids[r], nullptr, 0).ok());
  ASSERT_TRUE(GroupEnd().ok());
  EXPECT_EQ(SizeOf(kids[3]), 3);
  EXPECT_EQ(RankOf(kids[0]), 0);
  EXPECT_EQ(RankOf(kids[2]), 1);
  EXPECT_EQ(RankOf(kids[3]), 2);
  std::vector<int32_t> v = {1, 0, 10, 100};
  ASSERT_TRUE(GroupStart().ok());
  for (int r : {0, 2, 3})
    ASSERT_TRUE(
        Collective(kids[r], CollKind::kAllReduce, &v[r], &v[r], 1, kInt32, 0, 0, nullptr).ok());
  ASSERT_TRUE(GroupEnd().ok());
  EXPECT_EQ(v[0], 111);
  EXPECT_EQ(v[3], 111);
  // A rank that excludes itself is an invalid argument.
  Comm* bad = nullptr;
  EXPECT_EQ(CommShrink(comms[1], exclude, 1, &bad, nullptr, 0).code(), Code::kInvalidArgument);
  for (int r : {0, 2, 3}) CommDestroy(kids[r]);
  testing::DestroyAll(comms);
}

TEST(EmuCommTest, MisuseIsReportedLikeNccl) {
  auto comms = testing::InitLocal(2);
  int32_t x = 0;
  Result r = Collective(nullptr, CollKind::kAllReduce, &x, &x, 1, kInt32, 0, 0, nullptr);
  EXPECT_EQ(r.code(), Code::kInvalidArgument);
  EXPECT_NE(LastError().find("comm argument is NULL"), std::string::npos) << LastError();
  EXPECT_EQ(Collective(comms[0], CollKind::kAllReduce, &x, &x, 1, 42, 0, 0, nullptr).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(Collective(comms[0], CollKind::kAllReduce, &x, &x, 1, kInt32, 9, 0, nullptr).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(Collective(comms[0], CollKind::kBroadcast, &x, &x, 1, kInt32, 0, 2, nullptr).code(),
            Code::kInvalidArgument);
  EXPECT_NE(LastError().find("invalid root 2"), std::string::npos) << LastError();
  EXPECT_EQ(
      Collective(comms[0], CollKind::kAllReduce, nullptr, &x, 1, kInt32, 0, 0, nullptr).code(),
      Code::kInvalidArgument);
  EXPECT_EQ(Send(comms[0], &x, 1, kInt32, 5, nullptr).code(), Code::kInvalidArgument);
  EXPECT_EQ(GroupEnd().code(), Code::kInvalidUsage);
  Comm* c = nullptr;
  EXPECT_EQ(CommInitRank(&c, 2, GetUniqueId(), 2, {}).code(), Code::kInvalidArgument);
  EXPECT_NE(LastError().find("Invalid rank requested : 2/2"), std::string::npos);
  EXPECT_EQ(c, nullptr);
  // An argument error inside a group fails the group too, without running anything.
  ASSERT_TRUE(GroupStart().ok());
  EXPECT_EQ(Collective(comms[0], CollKind::kAllReduce, &x, &x, 1, 99, 0, 0, nullptr).code(),
            Code::kInvalidArgument);
  EXPECT_EQ(GroupEnd().code(), Code::kInvalidArgument);
  testing::DestroyAll(comms);
  // InitAll rejects duplicate devices in the devlist.
  std::vector<Comm*> two(2);
  int devs[] = {0, 0};
  EXPECT_EQ(CommInitAll(two.data(), 2, devs, {}).code(), Code::kInvalidUsage);
}

TEST(EmuCommTest, MismatchedCollectivesFailOnEveryRank) {
  CommOptions opts;
  opts.timeout_s = 5;
  auto comms = testing::InitLocal(2, opts);
  std::vector<int32_t> a(8, 1), b(8, 1);
  ASSERT_TRUE(GroupStart().ok());
  ASSERT_TRUE(
      Collective(comms[0], CollKind::kAllReduce, a.data(), a.data(), 8, kInt32, 0, 0, nullptr)
          .ok());
  ASSERT_TRUE(
      Collective(comms[1], CollKind::kAllReduce, b.data(), b.data(), 4, kInt32, 0, 0, nullptr)
          .ok());
  Result r = GroupEnd();
  EXPECT_EQ(r.code(), Code::kInvalidUsage);
  EXPECT_NE(r.message().find("count 4"), std::string::npos) << r.message();
  Code async = Code::kSuccess;
  ASSERT_TRUE(CommGetAsyncError(comms[0], &async).ok());
  EXPECT_NE(async, Code::kSuccess);
  // The comm stays unusable afterwards.
  EXPECT_FALSE(
      Collective(comms[0], CollKind::kAllReduce, a.data(), a.data(), 8, kInt32, 0, 0, nullptr)
          .ok());
  testing::DestroyAll(comms);
}

TEST(EmuCommTest, MissingRankTimesOutNamingIt) {
  const int n = 4;
  UniqueIdBytes id = GetUniqueId();
  CommOptions opts;
  opts.timeout_s = 1;
  // Ranks 0 and 1 arrive; 2 and 3 never do.
  std::vector<Result> results(2);
  auto start = std::chrono::steady_clock::now();
  testing::RunThreads(2, [&](int rank) {
    Comm* c = nullptr;
    results[rank] = CommInitRank(&c, n, id, rank, opts);
    EXPECT_EQ(c, nullptr);
  });
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(secs, 10);
  for (const Result& r : results) {
    EXPECT_EQ(r.code(), Code::kRemoteError);
    EXPECT_NE(r.message().find("ranks 2,3 did not arrive within 1 s"), std::string::npos)
        << r.message();
  }
}

TEST(EmuCommTest, CollectiveTimeoutNamesTheLaggard) {
  CommOptions opts;
  opts.timeout_s = 1;
  auto comms = testing::InitLocal(3, opts);
  int32_t x = 1;
  // Only rank 0 issues: ranks 1 and 2 never arrive at AllReduce #1.
  Result r = Collective(comms[0], CollKind::kAllReduce, &x, &x, 1, kInt32, 0, 0, nullptr);
  EXPECT_EQ(r.code(), Code::kRemoteError);
  EXPECT_NE(r.message().find("AllReduce #1: ranks 1,2 did not arrive within 1 s"),
            std::string::npos)
      << r.message();
  testing::DestroyAll(comms);
}

TEST(EmuCommTest, DuplicateRankFailsInit) {
  UniqueIdBytes id = GetUniqueId();
  CommOptions opts;
  opts.timeout_s = 1;
  std::vector<Result> results(3);
  std::vector<int> ranks = {0, 1, 1};  // of 3: rank 2 never comes, rank 1 twice
  testing::RunThreads(3, [&](int i) {
    Comm* c = nullptr;
    results[i] = CommInitRank(&c, 3, id, ranks[i], opts);
  });
  int dup = 0, timeouts = 0;
  for (const Result& r : results) {
    if (r.code() == Code::kInvalidUsage &&
        r.message().find("duplicate rank") != std::string::npos) {
      ++dup;
    } else if (r.code() == Code::kRemoteError &&
               r.message().find("rank 2 did not arrive") != std::string::npos) {
      ++timeouts;
    } else {
      ADD_FAILURE() << static_cast<int>(r.code()) << " " << r.message();
    }
  }
  EXPECT_EQ(dup, 1);
  EXPECT_EQ(timeouts, 2);
}

TEST(EmuCommTest, SharedDevicesAllowedUnlessStrict) {
  UniqueIdBytes id = GetUniqueId();
  CommOptions opts;  // both ranks on device 0
  testing::RunThreads(2, [&](int rank) {
    Comm* c = nullptr;
    Result r = CommInitRank(&c, 2, id, rank, opts);
    EXPECT_TRUE(r.ok()) << r.message();
    CommDestroy(c);
  });
  UniqueIdBytes id2 = GetUniqueId();
  opts.strict_devices = 1;
  testing::RunThreads(2, [&](int rank) {
    Comm* c = nullptr;
    Result r = CommInitRank(&c, 2, id2, rank, opts);
    EXPECT_EQ(r.code(), Code::kInvalidUsage);
    EXPECT_NE(r.message().find("Duplicate GPU detected : rank 0 and rank 1 both on CUDA device 0"),
              std::string::npos)
        << r.message();
  });
}

TEST(EmuCommTest, RevokeAndAbortStopPeers) {
  auto comms = testing::InitLocal(2);
  ASSERT_TRUE(CommRevoke(comms[0], 0).ok());
  int32_t x = 1;
  EXPECT_EQ(Collective(comms[0], CollKind::kAllReduce, &x, &x, 1, kInt32, 0, 0, nullptr).code(),
            Code::kInvalidUsage);
  // The peer learns at once instead of waiting for the timeout.
  Result r = Collective(comms[1], CollKind::kAllReduce, &x, &x, 1, kInt32, 0, 0, nullptr);
  EXPECT_EQ(r.code(), Code::kRemoteError);
  EXPECT_NE(r.message().find("rank 0 failed"), std::string::npos) << r.message();
  EXPECT_EQ(CommRevoke(comms[1], 3).code(), Code::kInvalidArgument);
  ASSERT_TRUE(CommAbort(comms[0]).ok());
  ASSERT_TRUE(CommAbort(comms[1]).ok());
}

TEST(EmuCommTest, StaleSegmentIsRemovedOnNextCreation) {
  // A job killed during init leaves its segment behind: the child makes the id, creates the
  // segment as rank 0 of 2, and is killed while it waits for rank 1.
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_t pid = fork();
  if (pid == 0) {
    UniqueIdBytes id = GetUniqueId();
    std::string name = DecodeUniqueId(id).segment + "\n";
    if (write(fds[1], name.data(), name.size()) < 0) _exit(2);
    Comm* c = nullptr;
    CommInitRank(&c, 2, id, 0, {});
    _exit(0);
  }
  close(fds[1]);
  char buf[128] = {0};
  ASSERT_GT(read(fds[0], buf, sizeof(buf) - 1), 0);
  close(fds[0]);
  std::string name(buf);
  name.pop_back();
  std::string path = "/dev/shm/" + name;
  struct stat st;
  for (int i = 0; i < 500 && (stat(path.c_str(), &st) != 0 || st.st_size == 0); ++i) usleep(10000);
  usleep(100000);  // let it claim its slot
  ASSERT_EQ(stat(path.c_str(), &st), 0) << path;
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  ASSERT_EQ(stat(path.c_str(), &st), 0) << "the killed job's segment should still exist";
  auto comms = testing::InitLocal(1);
  EXPECT_NE(stat(path.c_str(), &st), 0) << "stale segment " << path << " was not removed";
  testing::DestroyAll(comms);
}

}  // namespace
}  // namespace ddrr::emu
