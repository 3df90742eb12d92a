#include "common/fast_clock.h"

#include <gtest/gtest.h>

#include <ctime>
#include <thread>

namespace ddrr {
namespace {

// A simulated machine: true time in ns, a TSC that ticks `ticks_per_ns` (x1000) from an offset,
// and CLOCK_MONOTONIC = true time + `mono_offset`.
uint64_t g_true_ns = 0;
uint64_t g_tsc_base = 0, g_tsc_base_ns = 0, g_ticks_per_kns = 3000;
int64_t g_mono_offset = 0;
uint64_t FakeTsc() { return g_tsc_base + (g_true_ns - g_tsc_base_ns) * g_ticks_per_kns / 1000; }
uint64_t FakeMono() { return g_true_ns + g_mono_offset; }
void SetTscRate(uint64_t ticks_per_kns) {  // keeps the TSC continuous
  g_tsc_base = FakeTsc();
  g_tsc_base_ns = g_true_ns;
  g_ticks_per_kns = ticks_per_kns;
}

class FastClockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    g_true_ns = 1'000'000'000;
    g_tsc_base = 77'000'000'000;
    g_tsc_base_ns = g_true_ns;
    g_ticks_per_kns = 3000;
    g_mono_offset = 0;
  }
};

TEST_F(FastClockTest, IsTheMonotonicClockUntilTheRateIsKnown) {
  FastClock clock(&FakeTsc, &FakeMono, true);
  for (int i = 0; i < 9; ++i) {
    g_true_ns += 1'000'000;
    EXPECT_EQ(clock.NowNs(), FakeMono());
    EXPECT_FALSE(clock.using_tsc());
  }
  g_true_ns += 2'000'000;
  EXPECT_EQ(clock.NowNs(), FakeMono());  // this call measures the rate
  EXPECT_TRUE(clock.using_tsc());
  for (int i = 0; i < 1000; ++i) {
    g_true_ns += 123'457;
    EXPECT_NEAR(static_cast<double>(clock.NowNs()), static_cast<double>(FakeMono()), 2.0);
  }
}

TEST_F(FastClockTest, UntrustedTscMeansMonotonicClockAlways) {
  FastClock clock(&FakeTsc, &FakeMono, false);
  for (int i = 0; i < 100; ++i) {
    g_true_ns += 1'000'000;
    EXPECT_EQ(clock.NowNs(), FakeMono());
  }
  EXPECT_FALSE(clock.using_tsc());
}

// The TSC rate drifts against the monotonic clock (as when NTP adjusts it): the fast clock slews
// towards the monotonic clock without ever going backwards.
TEST_F(FastClockTest, SlewsTowardsTheMonotonicClockWithoutGoingBack) {
  FastClock clock(&FakeTsc, &FakeMono, true);
  g_true_ns += 20'000'000;
  clock.NowNs();
  ASSERT_TRUE(clock.using_tsc());
  SetTscRate(3000 + 3);  // 1,000 ppm fast
  uint64_t last = clock.NowNs();
  double worst_late = 0;
  for (int i = 0; i < 200'000; ++i) {  // 10 s in 50 us steps
    g_true_ns += 50'000;
    const uint64_t now = clock.NowNs();
    ASSERT_GE(now, last) << "went back at step " << i;
    last = now;
    if (i > 150'000) {
      worst_late = std::max(worst_late,
                            std::abs(static_cast<double>(now) - static_cast<double>(FakeMono())));
    }
  }
  EXPECT_LT(worst_late, 1'000.0);  // within 1 us once settled
}

// The monotonic clock jumps ahead of the TSC (a paused VM whose TSC did not count): the clock
// catches up at the next re-anchoring instead of slewing for seconds, and never goes back.
TEST_F(FastClockTest, CatchesUpWithAJumpAhead) {
  FastClock clock(&FakeTsc, &FakeMono, true);
  g_true_ns += 20'000'000;
  clock.NowNs();
  ASSERT_TRUE(clock.using_tsc());
  uint64_t last = clock.NowNs();
  g_mono_offset += 5'000'000;
  for (int i = 0; i < 2'000; ++i) {
    g_true_ns += 50'000;
    const uint64_t now = clock.NowNs();
    ASSERT_GE(now, last);
    last = now;
  }
  EXPECT_NEAR(static_cast<double>(last), static_cast<double>(FakeMono()), 1'000.0);
}

uint64_t RealMonoNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// On this machine: between two clock_gettime reads, give or take a few microseconds (a read
// that was preempted is retried).
TEST(FastClockRealTest, AgreesWithClockGettime) {
  FastClock& clock = FastClock::Get();
  clock.NowNs();
  std::this_thread::sleep_for(std::chrono::milliseconds(25));
  clock.NowNs();
  for (int round = 0; round < 3; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(15));
    bool agreed = false;
    for (int attempt = 0; attempt < 100 && !agreed; ++attempt) {
      const uint64_t before = RealMonoNs();
      const uint64_t fast = clock.NowNs();
      const uint64_t after = RealMonoNs();
      if (after - before > 5'000) continue;
      agreed = fast + 5'000 >= before && fast <= after + 5'000;
    }
    EXPECT_TRUE(agreed) << "round " << round << (clock.using_tsc() ? " (tsc)" : " (mono)");
  }
}

}  // namespace
}  // namespace ddrr
