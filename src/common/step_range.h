// "A-B" (or a single step "A") with 0 <= A <= B: the payload step window, parsed alike by
// `ddrr record --payload-steps` and by the recorder from DDRR_PAYLOAD_STEPS.
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace ddrr {

inline bool ParseStepRange(std::string_view text, int64_t* begin, int64_t* end) {
  const auto parse = [](const std::string& s, int64_t* out) {
    if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos) return false;
    errno = 0;
    *out = std::strtoll(s.c_str(), nullptr, 10);
    return errno == 0;
  };
  const size_t dash = text.find('-');
  const std::string a(text.substr(0, dash));
  const std::string b(dash == std::string_view::npos ? text : text.substr(dash + 1));
  return parse(a, begin) && parse(b, end) && *begin <= *end;
}

}  // namespace ddrr
