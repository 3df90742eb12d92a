// The random stream behind every host-runtime cuRAND generator: Philox4x32-10 keyed by the seed,
// with the rng type mixed into the counter so that different generator types give different
// streams. The stream is a sequence of 32-bit draws; a position counts draws. Each output
// consumes a fixed number of draws:
//   uint32 and uniform float: 1; uniform double and 64-bit ints: 2;
//   normal/log-normal float: 2 per pair of outputs (Box-Muller); double: 4 per pair.
// So for a fixed seed, filling n values then m values gives exactly the n + m values of one
// call (for the normal distributions when n is even). Deterministic on every machine; it does
// not reproduce NVIDIA cuRAND's bit streams.
// Not thread-safe: one generator per thread, as with cuRAND.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ddrr::hostrt {

class RandomStream {
 public:
  explicit RandomStream(uint32_t stream_id) : stream_id_(stream_id) {}

  // Seed and offset define where the stream starts: setting the seed rewinds to the offset last
  // set (0 by default); setting the offset moves there directly (absolute, as cuRAND documents).
  void SetSeed(uint64_t seed);
  void SetOffset(uint64_t offset);
  uint64_t position() const { return position_; }

  void FillUint32(uint32_t* out, size_t n);
  void FillUint64(uint64_t* out, size_t n);
  void FillUniform(float* out, size_t n);   // in (0, 1]
  void FillUniform(double* out, size_t n);  // in (0, 1]
  void FillNormal(float* out, size_t n, float mean, float stddev);
  void FillNormal(double* out, size_t n, double mean, double stddev);
  void FillLogNormal(float* out, size_t n, float mean, float stddev);
  void FillLogNormal(double* out, size_t n, double mean, double stddev);

 private:
  uint32_t NextDraw();
  double NextUniformDouble();

  uint32_t stream_id_;
  uint64_t seed_ = 0;  // cuRAND's default seed
  uint64_t offset_ = 0;
  uint64_t position_ = 0;
};

}  // namespace ddrr::hostrt
