// CLOCK_MONOTONIC nanoseconds at the cost of one rdtsc (~10 ns instead of clock_gettime's ~25 ns
// on a VM): every recorded call reads the clock twice, so this is a quarter of the wrapper's time.
//
// The time is a piecewise-linear function of the TSC, anchored to CLOCK_MONOTONIC and re-anchored
// by whichever caller first finds the anchor older than kReanchorNs. Re-anchoring keeps the
// function continuous and only changes its slope (at most 500 ppm from the measured long-term
// rate), slewing towards CLOCK_MONOTONIC like NTP does: the result never jumps backwards in TSC
// order and stays within microseconds of clock_gettime. Until the first rate is known (the
// first kReanchorNs), and wherever the TSC cannot be trusted (not x86-64, no invariant TSC, or a
// kernel clocksource other than tsc), it is clock_gettime itself.
#pragma once

#include <atomic>
#include <cstdint>

namespace ddrr {

class FastClock {
 public:
  using Source = uint64_t (*)();
  static constexpr uint64_t kReanchorNs = 10'000'000;  // 10 ms

  // The process-wide clock on the real TSC and CLOCK_MONOTONIC.
  static FastClock& Get();
  // A clock on other sources (tests); `tsc_ok` false: always `mono`.
  FastClock(Source tsc, Source mono, bool tsc_ok);

  uint64_t NowNs();
  bool using_tsc() const { return calibrated_.load(std::memory_order_acquire); }

 private:
  struct Anchor {
    uint64_t tsc, ns, mult;  // ns = anchor ns + (tsc - anchor tsc) * mult / 2^32
  };
  Anchor Read() const;
  void Publish(const Anchor& a);
  void Reanchor();  // with updating_ held
  uint64_t Extrapolate(const Anchor& a, uint64_t tsc) const;

  const Source tsc_, mono_;
  const bool tsc_ok_;
  std::atomic<uint64_t> first_tsc_{0}, first_ns_{0};  // the long-term rate's base
  uint64_t reanchor_ticks_ = ~0ull;                   // kReanchorNs in ticks, once known
  std::atomic<bool> calibrated_{false};
  std::atomic<bool> updating_{false};  // one re-anchoring at a time; others read the old anchor
  std::atomic<uint32_t> version_{0};   // seqlock over the anchor: odd while it changes
  std::atomic<uint64_t> anchor_tsc_{0}, anchor_ns_{0}, anchor_mult_{0};
};

}  // namespace ddrr
