// splitmix64's output step: distinct inputs give unrelated 64-bit outputs. ddrr's one mixer for
// seeds and generated values (synthetic runs, replay data patterns); CRC-32C (crc32c.h) is the
// checksum. Neither is meant to resist an adversary.
#pragma once

#include <cstdint>

namespace ddrr {

inline uint64_t Mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace ddrr
