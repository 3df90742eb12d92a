// Bytes as lowercase hex digits, two a byte: ddrr's one way to show binary data in dumps, test
// expectations and reports.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ddrr {

// The first `limit` bytes of `bytes` in hex, and "..." after them when there were more.
inline std::string HexBytes(std::string_view bytes, size_t limit = std::string_view::npos) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < bytes.size() && i < limit; ++i) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    s += kDigits[c >> 4];
    s += kDigits[c & 15];
  }
  if (bytes.size() > limit) s += "...";
  return s;
}

}  // namespace ddrr
