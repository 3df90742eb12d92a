#include "cli_common.h"

#include <cstdio>

namespace ddrr::cli {

int Fail(const std::string& message) {
  fprintf(stderr, "ddrr: error: %s\n", message.c_str());
  return kExitUsage;
}

int Fail(const Status& status) { return Fail(status.message()); }

}  // namespace ddrr::cli
