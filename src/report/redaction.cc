#include "report/redaction.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace ddrr::report {

bool IsSecretName(std::string_view name) {
  std::string upper(name);
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  static constexpr std::array<std::string_view, 9> kWords = {
      "TOKEN", "SECRET", "KEY", "PASSWORD", "PASSWD", "CREDENTIAL", "AUTH", "PRIVATE", "BEARER"};
  return std::any_of(kWords.begin(), kWords.end(),
                     [&](std::string_view w) { return upper.find(w) != std::string::npos; });
}

std::string Pseudonyms::Name(std::map<std::string, std::string>& names, const char* prefix,
                             const std::string& value) {
  auto it = names.find(value);
  if (it == names.end()) it = names.emplace(value, prefix + std::to_string(names.size() + 1)).first;
  return it->second;
}

std::string Pseudonyms::Paths(const std::string& text) {
  static constexpr std::array<std::string_view, 4> kStarts = {"/home/", "/Users/", "/root", "~/"};
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t best = std::string::npos;
    for (std::string_view s : kStarts) {
      const size_t at = text.find(s, i);
      // A path starts a word: at the beginning, or after a separator.
      if (at != std::string::npos &&
          (at == 0 || std::string_view(" =:'\"").find(text[at - 1]) != std::string_view::npos))
        best = std::min(best, at);
    }
    if (best == std::string::npos) break;
    size_t end = best;
    while (end < text.size() && std::string_view(" :'\"").find(text[end]) == std::string_view::npos)
      ++end;
    out += text.substr(i, best - i) + Path(text.substr(best, end - best));
    i = end;
  }
  return out + text.substr(std::min(i, text.size()));
}

}  // namespace ddrr::report
