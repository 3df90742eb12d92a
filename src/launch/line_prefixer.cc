#include "launch/line_prefixer.h"

namespace ddrr::launch {

std::string LinePrefixer::Feed(std::string_view data) {
  std::string out;
  size_t start = 0;
  while (start < data.size()) {
    size_t newline = data.find('\n', start);
    if (newline == std::string_view::npos) {
      pending_.append(data.substr(start));
      break;
    }
    out += prefix_;
    out += pending_;
    out.append(data.substr(start, newline + 1 - start));
    pending_.clear();
    start = newline + 1;
  }
  return out;
}

std::string LinePrefixer::Flush() {
  if (pending_.empty()) return "";
  std::string out = prefix_ + pending_ + "\n";
  pending_.clear();
  return out;
}

}  // namespace ddrr::launch
