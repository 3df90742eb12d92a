#include "common/fast_clock.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <ctime>

#if defined(__x86_64__)
#include <cpuid.h>
#include <x86intrin.h>
#endif

namespace ddrr {
namespace {

constexpr uint64_t kMaxSlewDivisor = 2000;  // a slope differs from the long-term rate by <= 500 ppm
constexpr uint64_t kStepForwardNs = 100'000;       // further behind than this: catch up at once
constexpr uint64_t kMaxAnchorReadTicks = 1 << 16;  // a preempted anchor read is not used

uint64_t MonoNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

#if defined(__x86_64__)
uint64_t Tsc() { return __rdtsc(); }

// The TSC ticks at a constant rate in every power state, and the kernel keeps time with it (so it
// found it synchronised across CPUs). Read with raw syscalls: this runs inside libddrr.so, whose
// own open/read hooks must not see it.
bool TscTrusted() {
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(0x80000007, &eax, &ebx, &ecx, &edx) || !(edx & (1u << 8))) return false;
  const long fd = syscall(SYS_openat, AT_FDCWD,
                          "/sys/devices/system/clocksource/clocksource0/current_clocksource",
                          O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[16] = {0};
  const long n = syscall(SYS_read, fd, buf, sizeof(buf) - 1);
  syscall(SYS_close, fd);
  return n >= 3 && std::strncmp(buf, "tsc", 3) == 0 && (buf[3] == '\n' || buf[3] == 0);
}
#else
uint64_t Tsc() { return 0; }
bool TscTrusted() { return false; }
#endif

}  // namespace

FastClock& FastClock::Get() {
  static FastClock* clock = new FastClock(&Tsc, &MonoNs, TscTrusted());  // never destroyed
  return *clock;
}

FastClock::FastClock(Source tsc, Source mono, bool tsc_ok)
    : tsc_(tsc), mono_(mono), tsc_ok_(tsc_ok) {
  first_tsc_.store(tsc_ok_ ? tsc_() : 0, std::memory_order_relaxed);
  first_ns_.store(mono_(), std::memory_order_relaxed);
}

uint64_t FastClock::NowNs() {
  if (!tsc_ok_) return mono_();
  if (!calibrated_.load(std::memory_order_acquire)) {
    const uint64_t now = mono_();
    if (now - first_ns_.load(std::memory_order_relaxed) >= kReanchorNs &&
        !updating_.exchange(true, std::memory_order_acquire)) {
      if (!calibrated_.load(std::memory_order_relaxed)) Reanchor();
      updating_.store(false, std::memory_order_release);
    }
    return now;
  }
  const uint64_t t = tsc_();
  Anchor a = Read();
  if (t > a.tsc && t - a.tsc > reanchor_ticks_ &&
      !updating_.exchange(true, std::memory_order_acquire)) {
    Reanchor();
    updating_.store(false, std::memory_order_release);
    a = Read();
  }
  return Extrapolate(a, t);
}

uint64_t FastClock::Extrapolate(const Anchor& a, uint64_t tsc) const {
  if (tsc >= a.tsc)
    return a.ns +
           static_cast<uint64_t>((static_cast<unsigned __int128>(tsc - a.tsc) * a.mult) >> 32);
  return a.ns - static_cast<uint64_t>((static_cast<unsigned __int128>(a.tsc - tsc) * a.mult) >> 32);
}

void FastClock::Reanchor() {
  const uint64_t t1 = tsc_();
  const uint64_t m = mono_();
  const uint64_t t2 = tsc_();
  const uint64_t base_tsc = first_tsc_.load(std::memory_order_relaxed);
  const uint64_t base_ns = first_ns_.load(std::memory_order_relaxed);
  if (t2 < t1 || t2 - t1 > kMaxAnchorReadTicks || t1 <= base_tsc || m <= base_ns) return;
  const uint64_t t = t1 + (t2 - t1) / 2;
  const uint64_t rate =
      static_cast<uint64_t>((static_cast<unsigned __int128>(m - base_ns) << 32) / (t - base_tsc));
  if (rate == 0) return;
  Anchor next{t, m, rate};
  if (calibrated_.load(std::memory_order_relaxed)) {
    // Continuous: start where the current line is now, and aim the slope at the monotonic clock.
    const Anchor current = Read();
    const uint64_t estimate = Extrapolate(current, t);
    if (m > estimate + kStepForwardNs) {
      // The monotonic clock jumped: the long-term rate starts again from here.
      next.mult = current.mult;
      first_tsc_.store(t, std::memory_order_relaxed);
      first_ns_.store(m, std::memory_order_relaxed);
    } else {
      next.ns = estimate;
      const __int128 error = static_cast<__int128>(m) - static_cast<__int128>(estimate);
      __int128 slew = static_cast<__int128>(rate) * error / static_cast<__int128>(kReanchorNs);
      const __int128 limit = rate / kMaxSlewDivisor;
      if (slew > limit) slew = limit;
      if (slew < -limit) slew = -limit;
      next.mult = static_cast<uint64_t>(static_cast<__int128>(rate) + slew);
    }
  } else {
    reanchor_ticks_ =
        static_cast<uint64_t>((static_cast<unsigned __int128>(kReanchorNs) << 32) / rate);
  }
  Publish(next);
  calibrated_.store(true, std::memory_order_release);
}

FastClock::Anchor FastClock::Read() const {
  for (;;) {
    const uint32_t v1 = version_.load(std::memory_order_acquire);
    if (v1 & 1) continue;
    Anchor a{anchor_tsc_.load(std::memory_order_relaxed),
             anchor_ns_.load(std::memory_order_relaxed),
             anchor_mult_.load(std::memory_order_relaxed)};
    std::atomic_thread_fence(std::memory_order_acquire);
    if (version_.load(std::memory_order_relaxed) == v1) return a;
  }
}

void FastClock::Publish(const Anchor& a) {
  const uint32_t v = version_.load(std::memory_order_relaxed);
  version_.store(v + 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  anchor_tsc_.store(a.tsc, std::memory_order_relaxed);
  anchor_ns_.store(a.ns, std::memory_order_relaxed);
  anchor_mult_.store(a.mult, std::memory_order_relaxed);
  version_.store(v + 2, std::memory_order_release);
}

}  // namespace ddrr
