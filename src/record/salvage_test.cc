#include "record/salvage.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <set>

#include "record/recorder.h"
#include "record/test_util.h"
#include "trace/test_util.h"

namespace ddrr::record {
namespace {

using trace::testing::TempDir;

// Child side: record forever, report each seq once Append has returned it.
[[noreturn]] void RecordForever(const std::string& dir, int fd, uint64_t limit) {
  auto cfg = TestConfig(dir);
  cfg.wal_bytes = 256 << 10;
  cfg.writer.frame_raw_bytes = 8 << 10;
  cfg.seal_interval_ms = 2;
  auto r = Recorder::Start(cfg);
  if (!r.ok()) _exit(3);
  for (uint64_t i = 0; limit == 0 || i < limit; ++i) {
    const uint64_t seq = (*r)->Append(i % 3, i, KernelsBody(i % 3, i), {});
    if (seq && fd >= 0 && write(fd, &seq, sizeof(seq)) != sizeof(seq)) _exit(4);
  }
  _exit(0);  // no Close: leaves the spool as a killed rank would
}

TEST(SalvageTest, SigkillAtRandomPointsLosesNothingReturned) {
  std::mt19937 rng(1234);
  uint64_t from_spool = 0, with_frames = 0;
  for (int trial = 0; trial < 20; ++trial) {
    TempDir dir;
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      close(fds[0]);
      RecordForever(dir.path(), fds[1], 0);
    }
    close(fds[1]);
    std::vector<uint64_t> reported;
    auto read_some = [&](int timeout_ms) {
      pollfd p{fds[0], POLLIN, 0};
      if (poll(&p, 1, timeout_ms) <= 0) return false;
      uint64_t buf[512];
      const ssize_t n = read(fds[0], buf, sizeof(buf));
      if (n <= 0) return false;
      // A seq is 8 bytes written at once (< PIPE_BUF): reads never split one.
      reported.insert(reported.end(), buf, buf + n / 8);
      return true;
    };
    const auto kill_at = std::chrono::steady_clock::now() +
                         std::chrono::milliseconds(std::uniform_int_distribution<>(5, 150)(rng));
    while (std::chrono::steady_clock::now() < kill_at) read_some(1);
    kill(pid, SIGKILL);
    while (read_some(100)) {
    }
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "trial " << trial;

    auto n = Salvage(dir.File("rank-0.spool"));
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    EXPECT_EQ(access(dir.File("rank-0.spool").c_str(), F_OK), -1);
    from_spool += *n;
    auto back = ReadRank(dir.File("rank-0.ddrr"));
    ASSERT_TRUE(back.has_footer) << "trial " << trial;
    with_frames += back.positions.size() > *n;
    EXPECT_EQ(back.footer.end_reason(), trace::END_SALVAGED);
    EXPECT_EQ(back.problems, 0u);
    std::set<uint64_t> seqs;
    uint64_t prev = 0;
    for (const auto& p : back.positions) {
      ASSERT_GT(p.seq, prev) << "trial " << trial;
      prev = p.seq;
      seqs.insert(p.seq);
    }
    for (uint64_t s : reported) ASSERT_TRUE(seqs.count(s)) << "trial " << trial << " seq " << s;
    EXPECT_GE(seqs.size(), reported.size());
  }
  // Both halves of salvage ran: events from sealed frames and events only in the spool.
  EXPECT_GT(from_spool, 0u);
  EXPECT_GT(with_frames, 0u);
}

// A child that appends `n` events and exits without closing: nothing sealed yet (no interval
// elapsed, no frame full), so the events live only in the spool.
void LeaveSpool(const std::string& dir, uint64_t n) {
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto cfg = TestConfig(dir);
    cfg.seal_interval_ms = 600000;
    auto r = Recorder::Start(cfg);
    if (!r.ok()) _exit(3);
    for (uint64_t i = 0; i < n; ++i) (*r)->Append(0, i, KernelsBody(0, i), {});
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(SalvageTest, SpoolWithoutRankFile) {
  TempDir dir;
  LeaveSpool(dir.path(), 100);
  ASSERT_EQ(unlink(dir.File("rank-0.ddrr").c_str()), 0);
  auto n = Salvage(dir.File("rank-0.spool"));
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 100u);
  auto back = ReadRank(dir.File("rank-0.ddrr"));
  ASSERT_EQ(back.events.size(), 100u);
  EXPECT_EQ(back.positions.back().seq, 100u);
  EXPECT_EQ(back.footer.end_reason(), trace::END_SALVAGED);
  EXPECT_EQ(back.footer.event_count(), 100u);
}

TEST(SalvageTest, IdempotentAndSpoolGone) {
  TempDir dir;
  LeaveSpool(dir.path(), 50);
  const std::string spool = dir.File("rank-0.spool");
  const std::string saved = trace::testing::ReadFile(spool);
  ASSERT_TRUE(Salvage(spool).ok());
  const std::string first = trace::testing::ReadFile(dir.File("rank-0.ddrr"));
  // Second run: nothing left to salvage.
  EXPECT_EQ(Salvage(spool).status().code(), StatusCode::kNotFound);
  // Killed after the rename but before removing the spool: the file is kept as it is.
  trace::testing::WriteFile(spool, saved);
  auto again = Salvage(spool);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, 0u);
  EXPECT_EQ(trace::testing::ReadFile(dir.File("rank-0.ddrr")), first);
  EXPECT_EQ(access(spool.c_str(), F_OK), -1);
}

TEST(SalvageTest, RefusesGarbageWithClearStatus) {
  TempDir dir;
  trace::testing::WriteFile(dir.File("rank-0.spool"), std::string(8192, '\x5a'));
  auto s = Salvage(dir.File("rank-0.spool"));
  EXPECT_EQ(s.status().code(), StatusCode::kCorruption);
  EXPECT_NE(s.status().message().find("not a ddrr spool"), std::string::npos)
      << s.status().ToString();
  EXPECT_EQ(access(dir.File("rank-0.spool").c_str(), F_OK), 0);  // left for a human
  EXPECT_EQ(access(dir.File("rank-0.ddrr").c_str(), F_OK), -1);
  EXPECT_EQ(Salvage(dir.File("rank-0.ddrr")).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ddrr::record
