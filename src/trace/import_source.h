// Where an imported rank file's data came from (`ddrr import`, docs/IMPORT.md): the header
// environment keys the importer writes and the readers (info, check, replay) consult, so that
// nothing is read from a field the source did not have.
#pragma once

#include <string>
#include <string_view>

namespace ddrr::trace {

inline constexpr const char* kImportFormatEnv = "DDRR_IMPORT_FORMAT";
inline constexpr const char* kImportVersionEnv = "DDRR_IMPORT_VERSION";
inline constexpr const char* kImportFileEnv = "DDRR_IMPORT_FILE";
// What the source does not have, a comma list: pointers, reduce-op, root, datatype, results, ...
inline constexpr const char* kImportUnknownEnv = "DDRR_IMPORT_UNKNOWN";

// Whether the comma list `unknown` (kImportUnknownEnv's value) names `field`.
inline bool ImportLacks(std::string_view unknown, std::string_view field) {
  while (!unknown.empty()) {
    const size_t comma = unknown.find(',');
    if (unknown.substr(0, comma) == field) return true;
    if (comma == std::string_view::npos) break;
    unknown.remove_prefix(comma + 1);
  }
  return false;
}

// Whether the rank file whose header environment is `env` (a map) lacks `field`.
template <typename Env>
bool ImportLacks(const Env& env, std::string_view field) {
  auto it = env.find(kImportUnknownEnv);
  return it != env.end() && ImportLacks(std::string_view(it->second), field);
}

}  // namespace ddrr::trace
